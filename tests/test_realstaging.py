"""The realstaging proofs under pytest, and Django's runner run from pytest.

pytest-django creates the test database through the same hook as
``manage.py test``, so the SQL schema is there for the unmanaged models. The
runner tests start ``manage.py test`` in a child process on the throwaway
server (TEST_DATABASE_URL), under a database name of their own so that their
test database never collides with this process's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection

from realstaging.api.models import Plan
from realstaging.api.tests import SEEDED_PLANS
from sqlmigrate.conf import settings
from sqlmigrate.source import load_source
from sqlmigrate.status import read_status

from .conftest import REPO, Schema, run_command

#: the progress line the hook prints at verbosity 2, one per applied file
APPLIED = re.compile(r"^  OK   \d+_\w+\.up\.sql \(\d+\.\d (ms|s)\)$", re.MULTILINE)


def sql_file_count() -> int:
    return len(load_source(settings.migrations_dir))


@pytest.mark.django_db
def test_seeded_plans_through_the_unmanaged_model() -> None:
    plans = Plan.objects.order_by("monthly_limit")
    assert [(p.code, p.price_id, p.monthly_limit) for p in plans] == SEEDED_PLANS


@pytest.mark.django_db
def test_the_test_database_is_at_the_last_file() -> None:
    last = load_source(settings.migrations_dir).last()
    assert last is not None
    status = read_status()
    assert connection.settings_dict["NAME"].startswith("test_")
    assert (status.version, status.dirty, status.pending) == (last.version, False, 0)


@pytest.mark.django_db(transaction=True)
def test_flush_between_transactional_tests_keeps_the_sql_data() -> None:
    # Django flushes only managed tables: the seeded rows outlive a TransactionTestCase.
    assert Plan.objects.count() == len(SEEDED_PLANS)


# -- Django's runner, in a child process ---------------------------------------------


def server_url(database: str) -> str:
    url = urlsplit(os.environ["TEST_DATABASE_URL"])
    return url._replace(path=f"/{database}").geturl()


@pytest.fixture
def runner_database() -> Iterator[str]:
    """A database name for a child's DATABASE_URL; its test databases are dropped after."""
    name = f"runner_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(server_url("postgres"), autocommit=True) as admin:
        found = admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"test_{name}%"]
        ).fetchall()
        for (database,) in found:
            admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')


def django_test(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python manage.py test realstaging.api`` as a user types it, with ``-v 2``."""
    environment = {**os.environ, "TEST_DATABASE_URL": server_url(database)}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, str(REPO / "manage.py"), "test", "realstaging.api"]
    command += ["--settings=realstaging.settings_test", "--noinput", "-v", "2", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=REPO, timeout=180
    )


def assert_passed(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^Ran 4 tests in .*\n\nOK\n", result.stderr, re.MULTILINE)
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.slow
def test_django_runner(runner_database: str) -> None:
    result = django_test(runner_database)
    assert_passed(result)
    assert len(APPLIED.findall(result.stderr)) == sql_file_count()


@pytest.mark.slow
def test_django_runner_parallel_clones_carry_the_schema(runner_database: str) -> None:
    result = django_test(runner_database, "--parallel", "2")
    assert_passed(result)
    test_name = f"test_{runner_database}"
    cloning = f"Cloning test database for alias 'default' ('{test_name}')..."
    assert result.stderr.count(cloning) == 2
    # applied once, before the clones were made from it
    assert len(APPLIED.findall(result.stderr)) == sql_file_count()
    assert result.stderr.index("  OK   0001_") < result.stderr.index(cloning)
    for suffix in ("_1", "_2"):
        assert f"Destroying test database for alias 'default' ('{test_name}{suffix}')" in (
            result.stderr
        )


@pytest.mark.slow
def test_django_runner_keepdb_applies_only_what_is_pending(runner_database: str) -> None:
    first = django_test(runner_database, "--keepdb")
    assert_passed(first)
    assert len(APPLIED.findall(first.stderr)) == sql_file_count()

    second = django_test(runner_database, "--keepdb")
    assert_passed(second)
    assert APPLIED.findall(second.stderr) == []
    assert (
        "Applying SQL migrations to test database for alias 'default'...\n"
        "  No SQL migrations to apply.\n"
    ) in second.stderr


@pytest.mark.slow
def test_django_runner_quiet_at_verbosity_1(runner_database: str) -> None:
    result = django_test(runner_database, "-v", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SQL" not in result.stderr + result.stdout


# -- the seed document's own files ---------------------------------------------------

INFRA = REPO / "infra" / "migrations"

SEED_UP = """\
-- 0011_seed_plans_table.up.sql
BEGIN;

INSERT INTO plans (code, price_id, monthly_limit) VALUES ('free', 'price_1SKJ8mLkQ5x1VWxdP1dtxKK3', 10), ('pro', 'price_1SK67rLpUWppqPSl2XfvuIlh', 100), ('business', 'price_1SJOMjLkQ5x1VWxdUYOkNqI4', 500);

COMMIT;
"""

SEED_DOWN = """\
-- 0011_seed_plans_table.down.sql
BEGIN;

DELETE FROM plans WHERE code IN ('free', 'pro', 'business');

COMMIT;
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [("0011_seed_plans_table.up.sql", SEED_UP), ("0011_seed_plans_table.down.sql", SEED_DOWN)],
)
def test_seed_files_are_the_documents(name: str, text: str) -> None:
    assert (INFRA / name).read_bytes() == text.encode()


def test_listing_starts_as_the_document_does() -> None:
    names = [migration.identifier for migration in load_source(INFRA)]
    assert names[:2] == ["create_users_table", "create_projects_table"]
    assert names[-1] == "seed_plans_table"
    assert [m.version for m in load_source(INFRA)] == list(range(1, 12))


def test_seed_down_then_up_again(schema: Schema) -> None:
    """The whole schema down to nothing and back, in a schema of its own."""
    assert run_command("sqlmigrate_up", path=INFRA).code == 0
    assert schema.query(
        "SELECT code, price_id, monthly_limit FROM plans ORDER BY monthly_limit"
    ) == (SEEDED_PLANS)
    assert run_command("sqlmigrate_down", "1", path=INFRA).code == 0
    assert schema.query("SELECT count(*) FROM plans") == [(0,)]
    result = run_command("sqlmigrate_down", path=INFRA, all=True)
    assert (result.code, schema.tables()) == (0, {"schema_migrations", "schema_migrations_history"})
    assert run_command("sqlmigrate_up", path=INFRA).code == 0
    assert schema.query("SELECT count(*) FROM plans") == [(3,)]
