"""The admin status page through Django's test client, against a real PostgreSQL."""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from sqlmigrate import engine
from sqlmigrate.backends.postgresql import PostgreSQLBackend
from sqlmigrate.source import MigrationFile
from sqlmigrate.status import read_status
from sqlmigrate.views import COLUMNS, Cell, Column, RowContext, read_sql_text, table_rows

from .conftest import Migrations, Schema, Spoil

pytestmark = pytest.mark.django_db(transaction=True)

STATUS_URL = "/admin/sqlmigrate/migrationstatus/"
WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|TRUNCATE|GRANT|LOCK)\b|pg_advisory", re.I
)


def sql_url(version: int, direction: str) -> str:
    return f"{STATUS_URL}{version}/{direction}/"


# -- reading the page as a person does --------------------------------------------------


class _TableText(HTMLParser):
    """The text of each body row of the page's table; an <img> counts as its alt text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []
        elif self._cell is not None and tag == "img":
            self._cell.append(dict(attrs).get("alt") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table(response: Any) -> list[list[str]]:
    parser = _TableText()
    parser.feed(response.content.decode())
    return parser.rows


def text(response: Any) -> str:
    """The page's visible text, whitespace collapsed, tags dropped."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def facts(response: Any) -> dict[str, str]:
    return {fact.label: fact.value for fact in response.context["facts"]}


# -- fixtures ----------------------------------------------------------------------------


@dataclass
class Page:
    """A schema of the test's own with its version table, and a migrations folder."""

    schema: Schema
    migrations: Migrations

    def set_version(self, version: int, *, dirty: bool = False) -> None:
        self.schema.query(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version bigint not null primary key, dirty boolean not null)"
        )
        self.schema.query("DELETE FROM schema_migrations")
        self.schema.query(f"INSERT INTO schema_migrations VALUES ({version}, {dirty})")

    def three(self) -> None:
        self.migrations.pair(1, "create_users", "CREATE TABLE users (id int);", "DROP TABLE users;")
        self.migrations.pair(2, "add_email", "ALTER TABLE users ADD email text;", "SELECT 1;")
        self.migrations.pair(3, "seed_plans", "INSERT INTO users VALUES (1);", down=None)


@pytest.fixture
def page(schema: Schema, migrations: Migrations) -> Iterator[Page]:
    # public stays on the path: the admin's own tables (users, sessions) live there;
    # the version table resolves to the test's schema, the first on the path.
    schema.query(f'SET search_path TO "{schema.name}", public')
    with override_settings(SQLMIGRATE_DIR=migrations.path, SQLMIGRATE_TABLE="schema_migrations"):
        yield Page(schema, migrations)


def view_permission() -> Permission:
    return Permission.objects.get(
        content_type__app_label="sqlmigrate", codename="view_migrationstatus"
    )


@pytest.fixture
def viewer(page: Page, django_user_model: Any) -> Any:
    """Active staff with the page's view permission, and nothing else."""
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(view_permission())
    return user


@pytest.fixture
def viewer_client(viewer: Any, client: Client) -> Client:
    client.force_login(viewer)
    return client


def add_alias(alias: str, **changes: Any) -> None:
    """A second DATABASES entry, a copy of the test database's with ``changes``."""
    connections.settings[alias] = {**connections.settings["default"], **changes}
    wrapper = connections[alias]

    # pytest-django lets a test connect only to the aliases it knew when the test
    # started; this one is newer, so it connects the way Django's own method does.
    def ensure_connection() -> None:
        if wrapper.connection is None:
            with wrapper.wrap_database_errors:
                wrapper.connect()

    wrapper.ensure_connection = ensure_connection  # type: ignore[method-assign]


@pytest.fixture
def extra_aliases() -> Iterator[list[str]]:
    added: list[str] = []
    yield added
    for alias in added:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture
def public_table(page: Page) -> Iterator[str]:
    """A version table in ``public``, where a second alias (plain search_path) finds it."""
    name = f"sqlmigrate_test_{uuid.uuid4().hex[:10]}"
    page.schema.query(
        f"CREATE TABLE public.{name} (version bigint not null primary key, dirty boolean not null)"
    )
    try:
        with override_settings(SQLMIGRATE_TABLE=name):
            yield name
    finally:
        page.schema.query(f"DROP TABLE public.{name}")


# -- access -----------------------------------------------------------------------------


class TestAccess:
    def test_index_lists_the_page(self, page: Page, admin_client: Client) -> None:
        response = admin_client.get("/admin/")
        assert response.status_code == 200
        body = response.content.decode()
        assert f'<a href="{STATUS_URL}">Status</a>' in body
        assert "SQL migrations" in body
        # read-only: the index offers "View", not "Add" or "Change"
        assert f"{STATUS_URL}add/" not in body

    def test_url_names(self) -> None:
        assert reverse("admin:sqlmigrate_migrationstatus_changelist") == STATUS_URL
        assert (
            reverse("admin:sqlmigrate_migrationstatus_sql", args=["11", "down"])
            == f"{STATUS_URL}11/down/"
        )

    def test_anonymous_is_sent_to_login(self, page: Page, client: Client) -> None:
        for url in (STATUS_URL, sql_url(1, "up")):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"] == f"/admin/login/?next={url}"

    def test_staff_without_the_permission_is_forbidden(
        self, page: Page, client: Client, django_user_model: Any
    ) -> None:
        page.three()
        user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
        client.force_login(user)
        assert client.get(STATUS_URL).status_code == 403
        assert client.get(sql_url(1, "up")).status_code == 403
        assert STATUS_URL not in client.get("/admin/").content.decode()

    def test_non_staff_with_the_permission_is_sent_to_login(
        self, page: Page, client: Client, django_user_model: Any
    ) -> None:
        user = django_user_model.objects.create_user("member", password="pw")
        user.user_permissions.add(view_permission())
        client.force_login(user)
        assert client.get(STATUS_URL).status_code == 302

    def test_inactive_staff_is_sent_to_login(self, page: Page, client: Client, viewer: Any) -> None:
        client.force_login(viewer)
        viewer.is_active = False
        viewer.save()
        assert client.get(STATUS_URL).status_code == 302

    def test_staff_with_the_view_permission(self, page: Page, viewer_client: Client) -> None:
        page.three()
        assert viewer_client.get(STATUS_URL).status_code == 200
        assert viewer_client.get(sql_url(1, "up")).status_code == 200
        assert STATUS_URL in viewer_client.get("/admin/").content.decode()

    def test_superuser(self, page: Page, admin_client: Client) -> None:
        assert admin_client.get(STATUS_URL).status_code == 200

    def test_get_and_head_only(self, page: Page, admin_client: Client) -> None:
        page.three()
        assert admin_client.head(STATUS_URL).status_code == 200
        for url in (STATUS_URL, sql_url(1, "up")):
            assert admin_client.post(url).status_code == 405
            assert admin_client.put(url).status_code == 405
            assert admin_client.delete(url).status_code == 405
        assert admin_client.post(STATUS_URL)["Allow"] == "GET, HEAD"

    def test_no_model_urls(self, page: Page, admin_client: Client) -> None:
        page.three()
        for suffix in ("add/", "1/", "1/change/", "1/delete/", "1/history/", "1/sideways/"):
            assert admin_client.get(STATUS_URL + suffix).status_code == 404, suffix
        assert admin_client.post(STATUS_URL + "add/").status_code == 404

    def test_model_admin_is_read_only(self, page: Page, admin_client: Client) -> None:
        from django.contrib import admin

        from sqlmigrate.models import MigrationStatus

        model_admin = admin.site.get_model_admin(MigrationStatus)
        request = admin_client.get(STATUS_URL).wsgi_request
        assert model_admin.get_model_perms(request) == {
            "add": False,
            "change": False,
            "delete": False,
            "view": True,
        }
        assert model_admin.get_actions(request) == {}


# -- what the page shows ----------------------------------------------------------------


class TestContent:
    def test_clean_database(self, page: Page, admin_client: Client) -> None:
        page.three()
        page.set_version(2)
        response = admin_client.get(STATUS_URL)
        assert facts(response) == {
            "Database": "default",
            "Version": "2",
            "Applied": "2 of 3",
            "Pending": "1",
            "Version table": f"{page.schema.name}.schema_migrations",
            "Migrations folder": str(page.migrations.path),
        }
        # set_version wrote the table by hand, as the Go CLI would: no history.
        outside = ["outside sqlmigrate", "", ""]
        assert table(response) == [
            ["1", "1_create_users", "applied", *outside, "yes", "up · down"],
            ["2", "2_add_email", "current", *outside, "yes", "up · down"],
            ["3", "3_seed_plans", "pending", "", "", "", "no", "up"],
        ]
        assert "is dirty" not in text(response)
        assert "sqlmigrate_force" not in text(response)
        assert "<select" not in response.content.decode()  # one database: no selector

    def test_links_to_each_file(self, page: Page, admin_client: Client) -> None:
        page.three()
        body = admin_client.get(STATUS_URL).content.decode()
        for version, direction in ((1, "up"), (1, "down"), (2, "up"), (2, "down"), (3, "up")):
            assert f'<a href="{sql_url(version, direction)}">{direction}</a>' in body
        assert sql_url(3, "down") not in body

    def test_after_a_real_up(self, page: Page, admin_client: Client) -> None:
        page.three()
        engine.up(path=page.migrations.path)
        response = admin_client.get(STATUS_URL)
        assert [row[2] for row in table(response)] == ["applied", "applied", "current"]
        assert facts(response)["Pending"] == "0"

    def test_dirty_banner_names_version_and_commands(
        self, page: Page, admin_client: Client
    ) -> None:
        page.three()
        page.set_version(2, dirty=True)
        response = admin_client.get(STATUS_URL)
        shown = text(response)
        assert "Version 2 is dirty" in shown
        assert (
            "Then run python manage.py sqlmigrate_force V , where V is the version the "
            "database now matches:" in shown
        )
        assert (
            "python manage.py sqlmigrate_force 2 if the database now matches version 2 "
            "(you finished the failed file by hand)" in shown
        )
        assert (
            "python manage.py sqlmigrate_force 1 if you undid the failed file "
            "(1 is the version before 2)" in shown
        )
        assert 'role="alert"' in response.content.decode()
        assert facts(response)["Version"] == "2 (dirty)"
        assert table(response)[1][2] == "dirty"

    def test_dirty_first_version_falls_back_to_no_version(
        self, page: Page, admin_client: Client
    ) -> None:
        page.three()
        page.set_version(1, dirty=True)
        shown = text(admin_client.get(STATUS_URL))
        assert "python manage.py sqlmigrate_force 1 if the database now matches" in shown
        assert (
            "python manage.py sqlmigrate_force -1 if you undid the failed file "
            "(-1: no version, 1 is the first)" in shown
        )

    def test_dirty_with_no_version(self, page: Page, admin_client: Client) -> None:
        page.three()
        page.set_version(-1, dirty=True)
        shown = text(admin_client.get(STATUS_URL))
        assert "The database is dirty with no version" in shown
        assert "python manage.py sqlmigrate_force -1 if the database now has none" in shown

    def test_version_without_a_file(self, page: Page, admin_client: Client) -> None:
        page.three()
        page.set_version(5, dirty=True)
        response = admin_client.get(STATUS_URL)
        assert table(response)[-1] == [
            "5",
            "no file for this version in the folder",
            "missing file",
            "",
            "",
            "",
            "-",
            "",
        ]
        # the version before 5 is the last file there is, 3
        assert "python manage.py sqlmigrate_force 3 if you undid the failed file" in text(response)

    def test_no_table_yet(self, page: Page, admin_client: Client) -> None:
        page.three()
        response = admin_client.get(STATUS_URL)
        assert (
            f"No migrations applied yet (table {page.schema.name}.schema_migrations "
            "does not exist)." in text(response)
        )
        assert facts(response)["Version"] == "none"
        assert [row[2] for row in table(response)] == ["pending"] * 3

    def test_empty_table(self, page: Page, admin_client: Client) -> None:
        page.three()
        page.set_version(1)
        page.schema.query("DELETE FROM schema_migrations")
        response = admin_client.get(STATUS_URL)
        assert "No migrations applied yet" not in text(response)
        assert facts(response)["Applied"] == "0 of 3"

    def test_missing_folder(self, page: Page, admin_client: Client, tmp_path: Path) -> None:
        page.set_version(2)
        missing = tmp_path / "nowhere"
        with override_settings(SQLMIGRATE_DIR=missing):
            response = admin_client.get(STATUS_URL)
        assert response.status_code == 200
        assert f"Cannot read the migrations folder: migrations folder {missing} does not exist" in (
            text(response)
        )
        assert facts(response)["Version"] == "2"
        assert table(response) == []

    def test_dirty_with_missing_folder(
        self, page: Page, admin_client: Client, tmp_path: Path
    ) -> None:
        page.set_version(4, dirty=True)
        with override_settings(SQLMIGRATE_DIR=tmp_path / "nowhere"):
            shown = text(admin_client.get(STATUS_URL))
        assert "python manage.py sqlmigrate_force 4 if the database now matches" in shown
        assert "if you undid" not in shown  # the version before 4 is unknown without files

    def test_empty_folder(self, page: Page, admin_client: Client) -> None:
        response = admin_client.get(STATUS_URL)
        assert f"The migrations folder {page.migrations.path} has no migrations." in text(response)

    def test_unknown_alias(self, page: Page, admin_client: Client) -> None:
        response = admin_client.get(STATUS_URL, {"database": "<nope>"})
        assert response.status_code == 404
        assert "Unknown database alias '<nope>': DATABASES has default." in text(response)
        assert "&lt;nope&gt;" in response.content.decode()

    def test_unreachable_database(
        self, page: Page, admin_client: Client, extra_aliases: list[str]
    ) -> None:
        page.three()
        add_alias("down", HOST="/nonexistent/sqlmigrate-socket-dir", PORT="5432")
        extra_aliases.append("down")
        response = admin_client.get(STATUS_URL, {"database": "down"})
        assert response.status_code == 200
        shown = text(response)
        # what follows the prefix is libpq's own wording, which varies by version
        assert (
            "Cannot read the database: cannot connect to database alias 'down' "
            f"(/nonexistent/sqlmigrate-socket-dir, database '{connection.settings_dict['NAME']}'): "
            in shown
        )
        assert '"/nonexistent/sqlmigrate-socket-dir/.s.PGSQL.5432" failed' in shown
        assert facts(response)["Version"] == "unknown"
        # not "pending": without the database nobody knows
        assert [row[2] for row in table(response)] == ["unknown"] * 3

    def test_selector_and_fix_for_another_alias(
        self, page: Page, admin_client: Client, extra_aliases: list[str], public_table: str
    ) -> None:
        page.three()
        add_alias("replica")
        extra_aliases.append("replica")
        page.schema.query(f"INSERT INTO public.{public_table} VALUES (3, true)")
        response = admin_client.get(STATUS_URL, {"database": "replica"})
        body = response.content.decode()
        assert '<select name="database" id="sqlmigrate-database">' in body
        assert '<option value="replica" selected>replica</option>' in body
        assert '<option value="default">default</option>' in body
        shown = text(response)
        assert "python manage.py sqlmigrate_force 3 --database replica if the database" in shown
        assert "python manage.py sqlmigrate_force 2 --database replica if you undid" in shown
        assert facts(response)["Version table"] == f"public.{public_table}"

    def test_does_not_wait_for_a_running_migration(self, page: Page, admin_client: Client) -> None:
        """The Go CLI rewrites the table under an exclusive lock; the page gives up, says so."""
        page.three()
        page.set_version(2)
        with page.schema.connect() as other:
            other.autocommit = False
            other.execute("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            response = admin_client.get(STATUS_URL)
            elapsed = time.monotonic() - started
            other.rollback()
        assert response.status_code == 200
        assert elapsed < 10
        assert "Cannot read the database: cannot read" in text(response)
        assert "within 2 s" in text(response)

    def test_ignores_the_migration_lock(self, page: Page, admin_client: Client) -> None:
        page.three()
        engine.up(2, path=page.migrations.path)
        backend = PostgreSQLBackend(connection, "schema_migrations")
        backend.open()
        with page.schema.connect() as other:
            for key in backend.lock_keys:  # what a running sqlmigrate_up would hold
                other.execute(f"SELECT pg_advisory_lock({key})")
            started = time.monotonic()
            response = admin_client.get(STATUS_URL)
            assert time.monotonic() - started < 2
        assert facts(response)["Version"] == "2"


class TestReadOnly:
    def test_no_writes_no_locks(self, page: Page, admin_client: Client) -> None:
        page.three()
        page.set_version(2, dirty=True)
        admin_client.get(STATUS_URL)  # warm up: the session's first read
        tables = page.schema.tables()
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(STATUS_URL).status_code == 200
            assert admin_client.get(sql_url(1, "up")).status_code == 200
        queries = [q["sql"] for q in captured.captured_queries]
        assert any("FROM " in q and "schema_migrations" in q for q in queries)  # it did read
        assert [q for q in queries if WRITES.search(q)] == []
        assert page.schema.version_row() == [(2, True)]
        assert page.schema.tables() == tables

    def test_creates_no_table(self, page: Page, admin_client: Client) -> None:
        page.three()
        admin_client.get(STATUS_URL)
        assert page.schema.tables() == set()


# -- one file's SQL ---------------------------------------------------------------------


class TestSqlView:
    def test_shows_the_file_escaped(self, page: Page, admin_client: Client) -> None:
        page.migrations.pair(
            7,
            "tricky",
            "\ufeffINSERT INTO notes VALUES ('<script>alert(1)</script>', 'a & b');\n",
            "DELETE FROM notes;",
        )
        response = admin_client.get(sql_url(7, "up"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "<script>alert(1)</script>" not in body
        assert (
            '<pre class="sqlmigrate-sql">INSERT INTO notes VALUES '
            "(&#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;, &#x27;a &amp; b&#x27;);\n</pre>"
            in body
        )
        assert "<title>7_tricky.up.sql | " in body
        assert f'&rsaquo; <a href="{STATUS_URL}">Status</a>' in body
        assert f'<a href="{sql_url(7, "down")}">down file</a>' in body
        down = admin_client.get(sql_url(7, "down")).content.decode()
        assert '<pre class="sqlmigrate-sql">DELETE FROM notes;</pre>' in down
        assert f'<a href="{sql_url(7, "up")}">up file</a>' in down

    def test_leading_zeros_in_names_and_urls(self, page: Page, admin_client: Client) -> None:
        page.migrations.pair(11, "seed", "SELECT 11;")
        page.migrations.write("0012_more.up.sql", "SELECT 12;")
        assert "SELECT 12;" in admin_client.get(sql_url(12, "up")).content.decode()
        assert "SELECT 11;" in admin_client.get(f"{STATUS_URL}0011/up/").content.decode()

    def test_unknown_version_or_direction(self, page: Page, admin_client: Client) -> None:
        page.three()
        assert admin_client.get(sql_url(4, "up")).status_code == 404
        assert admin_client.get(sql_url(3, "down")).status_code == 404  # no down file
        assert admin_client.get(sql_url(1, "sideways")).status_code == 404
        assert admin_client.get(sql_url(1, "UP")).status_code == 404
        assert admin_client.get(f"{STATUS_URL}{'9' * 20}/up/").status_code == 404

    def test_no_path_from_the_url(self, page: Page, admin_client: Client) -> None:
        page.three()
        (page.migrations.path.parent / "1_secret.up.sql").write_text("SECRET")
        for url in (
            f"{STATUS_URL}1/up/../../../1_secret.up.sql",
            f"{STATUS_URL}..%2F1_secret.up.sql/up/",
            f"{STATUS_URL}1_secret.up.sql/",
            f"{STATUS_URL}1/up/?path=../1_secret.up.sql",
        ):
            response = admin_client.get(url)
            assert b"SECRET" not in response.content, url

    def test_missing_folder_is_404(self, page: Page, admin_client: Client, tmp_path: Path) -> None:
        with override_settings(SQLMIGRATE_DIR=tmp_path / "nowhere"):
            assert admin_client.get(sql_url(1, "up")).status_code == 404

    def test_large_file_is_cut(self, page: Page, admin_client: Client) -> None:
        line = "INSERT INTO t VALUES ('é');\n"  # 29 bytes, one of them two bytes wide
        # 28 bytes first, so that the 1 MB limit falls inside an é
        page.migrations.pair(1, "big", "-" * 27 + "\n" + line * 40_000)  # 1.16 MB
        response = admin_client.get(sql_url(1, "up"))
        shown = text(response)
        assert "This file is 1.1 MB: only its first 1.0 MB is shown." in shown
        pre = response.content.decode().split('<pre class="sqlmigrate-sql">')[1].split("</pre>")[0]
        shown_sql = html.unescape(pre)
        assert len(shown_sql.encode()) == 1024 * 1024 - 1  # the last é did not fit whole
        assert shown_sql.endswith("INSERT INTO t VALUES ('")

    def test_not_utf8(self, page: Page, admin_client: Client) -> None:
        page.migrations.pair(1, "latin1", "SELECT 1;")
        page.migrations.write("1_latin1.up.sql", b"SELECT '\xe9';\n")
        response = admin_client.get(sql_url(1, "up"))
        assert response.status_code == 200
        assert "1:9: not valid UTF-8 (byte 0xe9); save the file as UTF-8" in text(response)


class TestUnreadable:
    """An applied file that cannot be read: the pages render (200) and say so."""

    def applied(self, page: Page) -> Path:
        page.three()
        engine.up(2, path=page.migrations.path)
        return page.migrations.path / "1_create_users.up.sql"

    def test_status_page(self, page: Page, viewer_client: Client, spoil: Spoil) -> None:
        path = self.applied(page)
        reason = spoil(path)
        response = viewer_client.get(STATUS_URL)
        assert response.status_code == 200
        rows = table(response)
        assert [(row[2], row[5]) for row in rows] == [
            ("applied", f"unreadable ({reason})"),
            ("current", ""),
            ("pending", ""),
        ]
        assert (
            f"{path}: {reason}. Version 1 is applied, but its file cannot be compared with the "
            f"checksum recorded when it ran: sqlmigrate_up refuses to run until the file is "
            f"readable again."
        ) in text(response)

    def test_sql_page(self, page: Page, viewer_client: Client, spoil: Spoil) -> None:
        path = self.applied(page)
        reason = spoil(path)
        response = viewer_client.get(sql_url(1, "up"))
        assert response.status_code == 200
        assert response.context["sql"].error == f"{path}: {reason}"
        assert f"{path}: {reason}" in text(response)

    def test_sql_page_of_a_large_file(
        self, page: Page, viewer_client: Client, spoil: Spoil
    ) -> None:
        path = page.migrations.write("1_big.up.sql", "SELECT 1;\n" * 200_000)  # 2 MB
        reason = spoil(path)
        response = viewer_client.get(sql_url(1, "up"))
        assert (response.status_code, response.context["sql"].error) == (200, f"{path}: {reason}")


# -- the view-model ---------------------------------------------------------------------


def test_a_column_is_one_entry(page: Page) -> None:
    """A later column (applied at, duration) is an addition to COLUMNS, nothing else."""
    page.three()
    page.set_version(1)
    status = read_status(path=page.migrations.path)
    extra = Column("size", "Size", lambda row, context: Cell(str(len(row.name))))
    context = RowContext(lambda version, direction: f"/{version}/{direction}", database_read=True)
    rows = table_rows(status, context, (*COLUMNS, extra))
    assert [row["cells"][-1].text for row in rows] == ["14", "11", "12"]
    assert [row["state"] for row in rows] == ["current", "pending", "pending"]
    sql = [column.key for column in COLUMNS].index("sql")
    assert rows[0]["cells"][sql].links[1].url == "/1/down"


def test_read_sql_text_limit(tmp_path: Path) -> None:
    path = tmp_path / "1_x.up.sql"
    path.write_bytes("\ufeffSELECT 'ééé';".encode())
    file = MigrationFile(1, "x", "up", path)
    assert read_sql_text(file).text == "SELECT 'ééé';"
    cut = read_sql_text(file, limit=14)  # BOM (3), "SELECT '" (8), é (2), half of é
    assert (cut.text, cut.truncated, cut.size) == ("SELECT 'é", True, 19)


@pytest.mark.django_db(transaction=True)
def test_history_columns(page: Page, admin_client: Client) -> None:
    """Applied at, duration and drift come from the history table."""
    page.three()
    engine.up(2, path=page.migrations.path)
    page.migrations.write("1_create_users.up.sql", "CREATE TABLE users (id bigint);")
    rows = table(admin_client.get(STATUS_URL))
    assert rows[0][2] == "applied"
    assert rows[0][3].endswith(" UTC")
    assert rows[0][4].endswith(" ms")
    assert rows[0][5] == "drift (SQL changed)"
    assert rows[1][5] == ""
    assert rows[2][3:6] == ["", "", ""]


def test_adopted_versions_are_not_outside(page: Page, admin_client: Client) -> None:
    """Backfilled versions say so; a version set without any record stays "outside"."""
    page.three()
    page.set_version(1)
    engine.backfill(path=page.migrations.path)
    page.set_version(2)
    rows = table(admin_client.get(STATUS_URL))
    assert [row[3] for row in rows] == ["adopted (backfill)", "outside sqlmigrate", ""]
