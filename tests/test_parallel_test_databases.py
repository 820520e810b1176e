"""``manage.py test --parallel 2`` on each vendor: every worker's clone carries the SQL schema.

Django clones the test database for each worker after the hook migrated it:
PostgreSQL with ``CREATE DATABASE ... TEMPLATE``, MySQL with ``mysqldump |
mysql``, a SQLite file by copying it, an in-memory SQLite database by the
fork itself or (start method spawn) through a file each worker restores with
``backup``. A tiny project in tmp_path runs two test classes; each reports,
from its worker, the database it is on and what it holds, and waits until the
other worker has reported too, so that both workers really ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from .conftest import REPO
from .vendors import NO_MYSQL, mysql_url

WORKER_TESTS = """\
import json, os, time
from pathlib import Path

from django.db import connection
from django.test import TestCase

SEEN = Path(os.environ["PARALLEL_SEEN"])


def rows(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [list(row) for row in cursor.fetchall()]


def report(case):
    seen = {
        "pid": os.getpid(),
        "database": connection.settings_dict["NAME"],
        "tables": sorted(set(connection.introspection.table_names()) & {"widgets", "gadgets"}),
        "version": [[int(v), bool(d)] for v, d in rows("SELECT version, dirty FROM schema_migrations")],
        "history": [[int(v), o] for v, o in rows("SELECT version, outcome FROM schema_migrations_history ORDER BY id")],
        "widgets": [name for name, in rows("SELECT name FROM widgets")],
    }
    (SEEN / f"{os.getpid()}-{case}.json").write_text(json.dumps(seen))
    deadline = time.monotonic() + 60
    while len({path.name.split("-")[0] for path in SEEN.glob("*.json")}) < 2:
        assert time.monotonic() < deadline, "the other worker never reported"
        time.sleep(0.05)


class FirstWorker(TestCase):
    def test_reports_its_database(self):
        report("first")


class SecondWorker(TestCase):
    def test_reports_its_database(self):
        report("second")
"""

WIDGETS = "CREATE TABLE widgets (id integer PRIMARY KEY, name varchar(20));\n"
WIDGETS += "INSERT INTO widgets VALUES (1, 'one');\n"
GADGETS = "CREATE TABLE gadgets (id integer PRIMARY KEY);\n"


@dataclass
class Project:
    """A settings module, a migrations folder and the worker tests, in ``path``."""

    path: Path
    url: str
    #: the test database's name as the workers' clones are named from it
    clone_name: Callable[[str], str]
    settings_lines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        (self.path / "migrations").mkdir()
        (self.path / "seen").mkdir()
        (self.path / "worker_tests.py").write_text(WORKER_TESTS)
        (self.path / "parallel_settings.py").write_text(
            "import dj_database_url\n"
            "from realstaging.mysql_driver import install_fallback\n\n"
            "install_fallback()\n"
            "SECRET_KEY = 'parallel'\n"
            "INSTALLED_APPS = ['sqlmigrate']\n"
            "USE_TZ = True\n"
            f"DATABASES = {{'default': dj_database_url.parse({self.url!r})}}\n"
            f"SQLMIGRATE_DIR = {str(self.path / 'migrations')!r}\n"
            "SQLMIGRATE_TEST_DATABASES = ['default']\n" + "".join(self.settings_lines)
        )

    def migration(self, version: int, name: str, up: str) -> None:
        (self.path / "migrations" / f"{version}_{name}.up.sql").write_text(up)

    def start(self, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
        """``manage.py test --parallel 2`` with ``args``, ``variables`` added to its environment."""
        for old in (self.path / "seen").iterdir():
            old.unlink()
        environment = {
            **os.environ,
            "PARALLEL_SEEN": str(self.path / "seen"),
            "PYTHONPATH": os.pathsep.join([str(self.path), str(REPO)]),
            **variables,
        }
        environment.pop("DJANGO_SETTINGS_MODULE", None)
        command = [sys.executable, str(REPO / "manage.py"), "test", "worker_tests"]
        command += ["--settings=parallel_settings", "--noinput", "--parallel", "2", *args]
        return subprocess.run(
            command, capture_output=True, text=True, env=environment, cwd=self.path, timeout=180
        )

    def run(self, *args: str) -> tuple[str, list[dict[str, Any]]]:
        """A run that passes: its stderr, and what each worker reported."""
        result = self.start(*args)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Ran 2 tests" in result.stderr
        reports = sorted((self.path / "seen").glob("*.json"), key=lambda path: path.name)
        return result.stderr, [json.loads(path.read_text()) for path in reports]


def assert_workers_saw(
    run: tuple[str, list[dict[str, Any]]], project: Project, version: int
) -> str:
    """Two workers, each on its own clone, each with the migrated schema and its rows."""
    stderr, reports = run
    assert len({report["pid"] for report in reports}) == 2
    assert {report["database"] for report in reports} == {
        project.clone_name("1"),
        project.clone_name("2"),
    }
    for report in reports:
        assert report["tables"] == ["gadgets", "widgets"][2 - version :]
        assert report["version"] == [[version, False]]
        assert [v for v, outcome in report["history"] if outcome == "applied"] == list(
            range(1, version + 1)
        )
        assert report["widgets"] == ["one"]
    return stderr


# -- one project per vendor --------------------------------------------------------


def postgresql_project(path: Path) -> Iterator[Project]:
    name = f"parallel_{uuid.uuid4().hex[:10]}"
    server = urlsplit(os.environ["TEST_DATABASE_URL"])
    yield Project(path, server._replace(path=f"/{name}").geturl(), lambda n: f"test_{name}_{n}")
    with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as admin:
        found = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"test_{name}%"]
        ).fetchall()
        for (database,) in found:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


def mysql_project(path: Path) -> Iterator[Project]:
    url = mysql_url()
    if url is None:
        if os.environ.get("SQLMIGRATE_REQUIRE_MYSQL") == "1":
            pytest.fail(f"SQLMIGRATE_REQUIRE_MYSQL=1, but {NO_MYSQL}")
        pytest.skip(NO_MYSQL)
    name = f"parallel_{uuid.uuid4().hex[:10]}"
    server = urlsplit(url)
    yield Project(path, server._replace(path=f"/{name}").geturl(), lambda n: f"test_{name}_{n}")
    from realstaging.mysql_driver import install_fallback

    install_fallback()
    import MySQLdb

    admin = MySQLdb.connect(
        host=server.hostname,
        port=server.port or 3306,
        user=server.username or "root",
        password=server.password or "",
    )
    with admin.cursor() as cursor:
        for suffix in ("", "_1", "_2"):
            cursor.execute(f"DROP DATABASE IF EXISTS `test_{name}{suffix}`")
    admin.close()


def sqlite_file_project(path: Path) -> Iterator[Project]:
    test_file = path / "test.sqlite3"
    yield Project(
        path,
        f"sqlite:///{path / 'db.sqlite3'}",
        lambda n: str(path / f"test_{n}.sqlite3"),
        (f"DATABASES['default']['TEST'] = {{'NAME': {str(test_file)!r}}}\n",),
    )


PROJECTS = {
    "postgresql": postgresql_project,
    "mysql": mysql_project,
    "sqlite-file": sqlite_file_project,
}


@pytest.fixture(params=list(PROJECTS))
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    yield from PROJECTS[request.param](tmp_path)


@pytest.mark.slow
def test_keepdb_then_new_clones_carry_every_sql_migration(project: Project) -> None:
    project.migration(1, "widgets", WIDGETS)
    first = assert_workers_saw(project.run("--keepdb", "-v", "2"), project, version=1)
    assert "anew" not in first
    # applied once, to the test database, before it was cloned; never in a worker
    assert first.count("  OK   1_widgets.up.sql") == 1
    assert first.index("  OK   1_widgets.up.sql") < first.index("Using existing clone")
    # Django would reuse the first run's clones, which lack the migration added since.
    project.migration(2, "gadgets", GADGETS)
    second = assert_workers_saw(project.run("--keepdb"), project, version=2)
    for suffix in ("1", "2"):
        assert (
            f"Cloning test database for alias 'default' anew: its kept clone "
            f"{project.clone_name(suffix)!r} is at version 1, the test database at version 2."
        ) in second
    third = assert_workers_saw(project.run("--keepdb"), project, version=2)
    assert "anew" not in third  # clones at the right version are reused as they are
    assert_workers_saw(project.run(), project, version=2)


@pytest.mark.slow
def test_mysql_clones_need_the_client_programs(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with contextmanager(mysql_project)(tmp_path) as project:
        project.migration(1, "widgets", WIDGETS)
        result = project.start(PATH=str(empty))
    assert result.returncode == 1
    assert result.stderr.endswith(
        "TestDatabaseCloneError: --parallel cannot clone the test database for alias "
        "'default': Django copies a MySQL/MariaDB database into each worker's with "
        "`mysqldump | mysql`, and mysqldump and mysql are not on PATH. Install the MySQL "
        "client programs (newer MariaDB releases may install only mariadb-dump and mariadb: "
        "link the mysql names to them), or run the tests without --parallel.\n"
    )
    assert "Traceback" not in result.stderr


MEMORY_CLONES = {
    "fork": lambda n: "file:memorydb_default?mode=memory&cache=shared",
    "spawn": lambda n: f"file:memorydb_default_{n}?mode=memory&cache=shared",
}


@pytest.mark.slow
@pytest.mark.parametrize("start_method", list(MEMORY_CLONES))
def test_in_memory_sqlite_workers_get_copies_of_the_migrated_database(
    tmp_path: Path, start_method: str
) -> None:
    start = (
        f"import multiprocessing\nmultiprocessing.set_start_method({start_method!r}, force=True)\n"
    )
    project = Project(
        tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", MEMORY_CLONES[start_method], (start,)
    )
    project.migration(1, "widgets", WIDGETS)
    project.migration(2, "gadgets", GADGETS)
    assert_workers_saw(project.run(), project, version=2)
