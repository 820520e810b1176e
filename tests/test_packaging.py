"""The published package, as a newcomer meets it: build, check, install into a new venv,
``django-admin startproject``, golang-migrate files in db/migrations, every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from sqlmigrate import __version__

from .conftest import REPO

pytestmark = pytest.mark.slow

FOREIGN = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "TEST_DATABASE_URL", "PYTHONPATH"}
CORE = ["Django<7,>=5.2", "psycopg[binary]>=3.1", "dj-database-url>=2.1", "pglast>=8.0"]

WIDGETS_UP = "CREATE TABLE widgets (id bigserial PRIMARY KEY, name text NOT NULL);\n"
WIDGETS_DOWN = "DROP TABLE widgets;\n"
PRICE_UP = "ALTER TABLE widgets ADD COLUMN price_cents integer NOT NULL DEFAULT 0;\n"
PRICE_DOWN = "ALTER TABLE widgets DROP COLUMN price_cents;\n"

#: ``manage.py test`` in the new project: the test database has the SQL schema
SCHEMA_TEST = """
from django.db import connection
from django.test import TestCase


class SchemaTests(TestCase):
    def test_the_sql_migrations_ran_on_the_test_database(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT column_name FROM information_schema.columns "
                           "WHERE table_name = 'widgets' ORDER BY ordinal_position")
            columns = [row[0] for row in cursor.fetchall()]
        self.assertEqual(columns, ["id", "name", "price_cents"])
"""


def run(*command: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """In a newcomer's environment: none of this suite's settings or database URLs."""
    environment = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build``: the sdist, and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--outdir", out, REPO, cwd=REPO, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_the_distribution_is_django_sqlmigrate(dist: Path) -> None:
    assert sorted(p.name for p in dist.iterdir()) == [
        f"django_sqlmigrate-{__version__}-py3-none-any.whl",
        f"django_sqlmigrate-{__version__}.tar.gz",
    ]
    checked = run(sys.executable, "-m", "twine", "check", "--strict", *dist.iterdir(), cwd=dist)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_holds_the_app_and_only_the_app(dist: Path) -> None:
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"django_sqlmigrate-{__version__}.dist-info/METADATA").decode()
    assert {name.split("/")[0] for name in names} == {
        "sqlmigrate",
        f"django_sqlmigrate-{__version__}.dist-info",
    }
    for needed in [
        "sqlmigrate/py.typed",
        "sqlmigrate/templates/admin/sqlmigrate/status.html",
        "sqlmigrate/static/sqlmigrate/status.css",
        "sqlmigrate/management/commands/sqlmigrate_drop.py",
        f"django_sqlmigrate-{__version__}.dist-info/licenses/LICENSE",
    ]:
        assert needed in names
    headers = [line for line in metadata.splitlines() if ": " in line and not line[0].isspace()]
    assert "Name: django-sqlmigrate" in headers
    assert f"Version: {__version__}" in headers
    assert "License-Expression: MIT" in headers
    core = [h.removeprefix("Requires-Dist: ") for h in headers if h.startswith("Requires-Dist")]
    assert [r for r in core if "extra ==" not in r] == CORE  # nothing new for a core install
    urls = [h for h in headers if h.startswith("Project-URL: ")]
    assert "Project-URL: Repository, https://github.com/realstaging/django-sqlmigrate" in urls
    assert "Classifier: Framework :: Django :: 6.0" in headers
    assert metadata.count("pip install django-sqlmigrate") >= 1  # the README is the description


# -- a new project ---------------------------------------------------------------------


@dataclass
class Project:
    root: Path
    python: Path

    def manage(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return run(self.python, "manage.py", *args, cwd=self.root, timeout=timeout)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    name = f"newcomer_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**admin_params(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(**admin_params(), autocommit=True) as admin:
        for suffix in ("", "_test"):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}{suffix}" WITH (FORCE)')


def admin_params() -> dict[str, str]:
    settings = connection.settings_dict
    params = {"dbname": "postgres", "user": settings["USER"], "host": settings["HOST"]}
    params |= {"port": str(settings["PORT"])} if settings["PORT"] else {}
    return params | ({"password": str(settings["PASSWORD"])} if settings["PASSWORD"] else {})


@pytest.fixture(scope="module")
def project(dist: Path, database: str, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """pip install the wheel into a fresh venv; startproject; configure as the README says."""
    home = tmp_path_factory.mktemp("newcomer")
    assert run(sys.executable, "-m", "venv", home / "venv", cwd=home).returncode == 0
    python = home / "venv" / "bin" / "python"
    pip = run(python, "-m", "pip", "install", "-q", wheel_of(dist), cwd=home, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    root = home / "mysite"
    root.mkdir()
    made = run(home / "venv" / "bin" / "django-admin", "startproject", "mysite", root, cwd=home)
    assert made.returncode == 0, made.stderr
    configure(root / "mysite" / "settings.py", database)
    migrations = root / "db" / "migrations"
    migrations.mkdir(parents=True)
    for name, text in [
        ("000001_create_widgets.up.sql", WIDGETS_UP),
        ("000001_create_widgets.down.sql", WIDGETS_DOWN),
        ("000002_add_widget_price.up.sql", PRICE_UP),
        ("000002_add_widget_price.down.sql", PRICE_DOWN),
    ]:
        (migrations / name).write_text(text)
    (root / "mysite" / "test_schema.py").write_text(SCHEMA_TEST)
    return Project(root, python)


def configure(settings: Path, database: str) -> None:
    text = settings.read_text()
    text = text.replace("INSTALLED_APPS = [\n", 'INSTALLED_APPS = [\n    "sqlmigrate",\n', 1)
    db = {**admin_params(), "dbname": database}
    text = re.sub(
        r"DATABASES = \{.*?\n\}\n",
        "DATABASES = {\n"
        '    "default": {\n'
        '        "ENGINE": "django.db.backends.postgresql",\n'
        f'        "NAME": {db["dbname"]!r},\n'
        f'        "USER": {db["user"]!r},\n'
        f'        "PASSWORD": {db.get("password", "")!r},\n'
        f'        "HOST": {db["host"]!r},\n'
        f'        "PORT": {db.get("port", "")!r},\n'
        f'        "TEST": {{"NAME": {database + "_test"!r}}},\n'
        "    }\n"
        "}\n",
        text,
        count=1,
        flags=re.DOTALL,
    )
    text += '\nSQLMIGRATE_DIR = BASE_DIR / "db" / "migrations"\n'
    text += 'SQLMIGRATE_TEST_DATABASES = ["default"]\n'
    settings.write_text(text)


def test_installed_version(project: Project) -> None:
    done = project.manage("sqlmigrate_up", "--version")
    assert (done.returncode, done.stdout) == (0, f"{__version__}\n")
    shown = run(project.python, "-m", "pip", "show", "django-sqlmigrate", cwd=project.root)
    assert f"Version: {__version__}" in shown.stdout
    # The app comes from the venv, not from this checkout.
    where = run(
        project.python, "-c", "import sqlmigrate; print(sqlmigrate.__file__)", cwd=project.root
    )
    assert "/venv/lib/" in where.stdout


def test_the_newcomers_first_hour(project: Project) -> None:
    """In the README's order: check, Django's migrate, then up / status / down / create / test."""
    check = project.manage("check", "--database", "default")
    assert check.returncode == 0, check.stderr
    assert "sqlmigrate.W001" in check.stderr  # pending SQL migrations

    migrate = project.manage("migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    assert "Applying auth.0001_initial... OK" in migrate.stdout

    up = project.manage("sqlmigrate_up")
    assert (up.returncode, up.stderr) == (0, "")
    assert re.fullmatch(
        r"OK   000001_create_widgets\.up\.sql \(\d+\.\d ms\)\n"
        r"OK   000002_add_widget_price\.up\.sql \(\d+\.\d ms\)\n",
        up.stdout,
    )
    assert project.manage("sqlmigrate_up").stdout == "no change\n"
    assert project.manage("sqlmigrate_version").stdout == "2\n"

    status = project.manage("sqlmigrate_status", "--check")
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0] == (
        f"default: public.schema_migrations at version 2; files in {project.root}/db/migrations"
    )
    assert lines[1].startswith("[X] 000001_create_widgets")
    assert lines[2].startswith("[X] 000002_add_widget_price")
    assert lines[2].endswith("(current)")
    assert lines[3] == "2 applied, 0 pending"

    down = project.manage("sqlmigrate_down", "1")
    assert down.returncode == 0, down.stderr
    assert down.stdout.startswith("OK   000002_add_widget_price.down.sql (")
    pending = project.manage("sqlmigrate_status", "--check")
    assert pending.returncode == 1
    assert pending.stderr == "error: --check: default is not up to date (1 pending)\n"
    assert project.manage("sqlmigrate_up").returncode == 0

    created = project.manage(
        "sqlmigrate_create", "-ext", "sql", "-dir", "db/migrations", "-seq", "add_widget_color"
    )
    assert (created.returncode, created.stdout) == (
        0,
        "db/migrations/000003_add_widget_color.up.sql\n"
        "db/migrations/000003_add_widget_color.down.sql\n",
    )
    for suffix in ("up", "down"):
        (project.root / "db" / "migrations" / f"000003_add_widget_color.{suffix}.sql").unlink()

    test = project.manage("test", "--noinput", "-v", "2", timeout=300)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "Applying SQL migrations to test database for alias 'default'..." in test.stderr
    assert re.search(r"^Ran 1 test in .*\n\nOK\n", test.stderr, re.MULTILINE)
