"""The status page in a real Chromium, through the admin's own login form.

Needs the ``playwright`` package and Debian's Chromium at /usr/bin/chromium
(Playwright's own browser download is not used); skips, saying which is
missing, without them (fails instead with SQLMIGRATE_REQUIRE_BROWSER=1, as in
CI). ``SQLMIGRATE_SCREENSHOT=1`` also copies the light-mode screenshot to
docs/admin-status.png.

The live server answers from its own thread and connection, so the dirty
state is set through settings: a version table of the test's own in
``public``, named by SQLMIGRATE_TABLE, next to realstaging's real migrations.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import override_settings

from .conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
#: set by .ci/run: without Chromium or Playwright the browser tests fail instead of skipping
REQUIRE_ENV = "SQLMIGRATE_REQUIRE_BROWSER"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = REPO / "docs" / "admin-status.png"
STATUS_PATH = "/admin/sqlmigrate/migrationstatus/"
DIRTY_VERSION = 10  # 0010_add_staging_jobs_indexes: a CREATE INDEX that failed part-way
USERNAME, PASSWORD = "oncall", "incident-2024"


def sync_playwright() -> Any:
    """Playwright's sync API, or a skip that says what is missing."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} not found: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        unavailable("the playwright package is not installed: pip install playwright")
    return start()


def unavailable(reason: str) -> NoReturn:
    """Skip with the reason, or fail where the browser is required (CI)."""
    print(reason)
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def dirty_database(transactional_db: None) -> Iterator[str]:
    """realstaging's migrations with 1-9 applied and 10 dirty.

    Set in the test database's own ``public.schema_migrations``, which the live
    server's connection sees; whatever was there (the test hook may have
    applied the files) is put back afterwards.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL")
        existed = cursor.fetchone()[0]
        saved: list[tuple[Any, ...]] = []
        if existed:
            cursor.execute("SELECT version, dirty FROM public.schema_migrations")
            saved = cursor.fetchall()
        else:
            cursor.execute(
                "CREATE TABLE public.schema_migrations "
                "(version bigint not null primary key, dirty boolean not null)"
            )
        cursor.execute("DELETE FROM public.schema_migrations")
        cursor.execute(f"INSERT INTO public.schema_migrations VALUES ({DIRTY_VERSION}, true)")
    try:
        with override_settings(
            SQLMIGRATE_DIR=REPO / "infra" / "migrations", SQLMIGRATE_TABLE="schema_migrations"
        ):
            yield "public.schema_migrations"
    finally:
        with connection.cursor() as cursor:
            if not existed:
                cursor.execute("DROP TABLE public.schema_migrations")
            else:
                cursor.execute("DELETE FROM public.schema_migrations")
                for version, dirty in saved:
                    cursor.execute(
                        "INSERT INTO public.schema_migrations VALUES (%s, %s)", [version, dirty]
                    )


@pytest.fixture
def oncall(django_user_model: Any) -> Any:
    """Staff with only the page's view permission: what an on-call engineer gets."""
    user = django_user_model.objects.create_user(
        USERNAME, password=PASSWORD, is_staff=True, first_name="On-call"
    )
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="sqlmigrate", codename="view_migrationstatus"
        )
    )
    return user


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_dirty_banner_in_a_real_browser(
    live_server: Any, dirty_database: str, oncall: Any, tmp_path: Path, scheme: str
) -> None:
    # Everything that touches the database happens above: Playwright's sync API
    # runs an event loop, inside which Django refuses ORM calls.
    shot = tmp_path / f"admin-status-{scheme}.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, color_scheme=scheme
            )
            page = context.new_page()
            page.goto(f"{live_server.url}/admin/login/?next={STATUS_PATH}")
            page.fill("#id_username", USERNAME)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"**{STATUS_PATH}")
            check_status_page(page, dirty_database)
            page.screenshot(path=str(shot), full_page=True)
            page.click(f"#version-{DIRTY_VERSION} a:text-is('up')")
            check_sql_page(page)
            page.screenshot(path=str(tmp_path / f"sql-{scheme}.png"), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    if scheme == "light" and os.environ.get("SQLMIGRATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, SCREENSHOT)


def check_status_page(page: Any, table: str) -> None:
    banner = page.locator(".sqlmigrate-dirty")
    assert banner.is_visible()
    assert banner.locator("h2").inner_text() == f"Version {DIRTY_VERSION} is dirty"
    commands = banner.locator("code.sqlmigrate-command").all_inner_texts()
    assert commands == [
        f"python manage.py sqlmigrate_force {DIRTY_VERSION}",
        f"python manage.py sqlmigrate_force {DIRTY_VERSION - 1}",
    ]
    # The banner's colours are the admin theme's, so they follow light and dark mode.
    colours = banner.evaluate(
        """element => {
            const probe = document.createElement("div");
            probe.style.background = "var(--message-error-bg)";
            probe.style.color = "var(--error-fg)";
            document.body.appendChild(probe);
            const theme = getComputedStyle(probe);
            const own = getComputedStyle(element);
            const heading = getComputedStyle(element.querySelector("h2"));
            const result = [own.backgroundColor, theme.backgroundColor,
                            heading.color, theme.color];
            probe.remove();
            return result;
        }"""
    )
    assert colours[0] == colours[1]
    assert colours[2] == colours[3]
    rows = page.locator(".sqlmigrate-files tbody tr")
    assert rows.count() == 11
    dirty_row = page.locator(f"#version-{DIRTY_VERSION}")
    assert "0010_add_staging_jobs_indexes" in dirty_row.inner_text()
    assert dirty_row.locator(".sqlmigrate-badge").inner_text() == "dirty"
    assert page.locator("#version-11 .sqlmigrate-badge").inner_text() == "pending"
    assert table in page.locator(".sqlmigrate-facts").inner_text()


def check_sql_page(page: Any) -> None:
    page.wait_for_url(f"**{STATUS_PATH}{DIRTY_VERSION}/up/")
    expected = (REPO / "infra" / "migrations" / "0010_add_staging_jobs_indexes.up.sql").read_text()
    assert page.locator("pre.sqlmigrate-sql").inner_text() == expected.removeprefix("\ufeff")
    assert (
        page.locator(".breadcrumbs").inner_text().endswith("0010_add_staging_jobs_indexes.up.sql")
    )


@pytest.mark.parametrize(
    ("required", "outcome"),
    [
        pytest.param("", pytest.skip.Exception, id="skip"),
        pytest.param("1", pytest.fail.Exception, id="fail"),
    ],
)
def test_missing_browser_skips_unless_required(
    monkeypatch: pytest.MonkeyPatch, required: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv(REQUIRE_ENV, required)
    with pytest.raises(outcome) as raised:
        unavailable("/usr/bin/chromium not found: apt-get install chromium")
    suffix = f" ({REQUIRE_ENV}=1)" if required else ""
    assert str(raised.value) == f"/usr/bin/chromium not found: apt-get install chromium{suffix}"
