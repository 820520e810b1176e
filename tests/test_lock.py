"""The migration lock: golang-migrate's keys, waiting, timing out, and racing processes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from sqlmigrate import engine
from sqlmigrate.backends.postgresql import advisory_lock_id
from sqlmigrate.exceptions import LockTimeoutError

from .conftest import Migrations, Schema, run_manage


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("database_name",), 1764327054),
        (("database_name", "schema_name_1"), 2453313553),
        (("database_name", "schema_name_2"), 235207038),
        (("database_name", "schema_name_1", "schema_name_2"), 3743845847),
        # Measured on the running CLI: postgres://.../realstaging holds "/realstaging".
        (("/realstaging", "public", "schema_migrations"), 378172724),
        (("realstaging", "public", "schema_migrations"), 104317328),
    ],
)
def test_lock_id_matches_golang_migrate(names: tuple[str, ...], expected: int) -> None:
    assert advisory_lock_id(*names) == expected


def cli_keys(schema: Schema) -> set[int]:
    database = connection.settings_dict["NAME"]
    return {
        advisory_lock_id("/" + database, schema.name, "schema_migrations"),
        advisory_lock_id(database, schema.name, "schema_migrations"),
    }


@pytest.mark.django_db(transaction=True)
def test_a_run_holds_the_cli_key_and_the_library_key(
    schema: Schema, migrations: Migrations
) -> None:
    migrations.pair(
        1,
        "spy",
        "CREATE TABLE held AS SELECT objid::bigint AS key FROM pg_locks "
        "WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted;",
    )
    engine.up(path=migrations.path)
    assert {row[0] for row in schema.query("SELECT key FROM held")} == cli_keys(schema)
    left = schema.query(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    )
    assert left == [(0,)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("which", ["cli", "library"])
def test_waits_for_a_holder_then_times_out(
    schema: Schema, migrations: Migrations, which: str
) -> None:
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    database = connection.settings_dict["NAME"]
    name = "/" + database if which == "cli" else database
    key = advisory_lock_id(name, schema.name, "schema_migrations")
    with schema.connect() as holder:
        holder.execute(f"SET application_name = 'migrate'; SELECT pg_advisory_lock({key})")
        holder_pid = holder.info.backend_pid
        with pytest.raises(LockTimeoutError) as caught:
            engine.up(path=migrations.path, lock_timeout=0.3)
    message = str(caught.value)
    assert message.startswith("timeout: can't acquire database lock: waited 0.3 s")
    assert f"advisory lock {key}" in message
    assert f"held by pid {holder_pid} (application migrate" in message
    assert "schema_migrations" not in schema.tables()
    left = schema.query(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    )
    assert left == [(0,)]


@pytest.mark.django_db(transaction=True)
def test_proceeds_when_the_holder_lets_go(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    key = min(cli_keys(schema))
    holder = schema.connect()
    holder.execute(f"SELECT pg_advisory_lock({key})")
    release = threading.Timer(0.5, holder.close)
    release.start()
    try:
        result = engine.up(path=migrations.path, lock_timeout=30)
    finally:
        release.join()
    assert result.version_after == 1


@pytest.mark.django_db(transaction=True)
def test_two_processes_apply_each_migration_once(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "audit", "CREATE TABLE audit (version int, pid int);")
    for version in range(2, 13):
        migrations.pair(
            version,
            f"step_{version}",
            f"SELECT pg_sleep(0.02);\nINSERT INTO audit VALUES ({version}, pg_backend_pid());",
        )

    def run() -> int:
        return run_manage(
            "sqlmigrate_up", "--path", str(migrations.path), url=schema.url
        ).returncode

    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(lambda _: run(), range(2)))
    assert codes == [0, 0]
    rows = schema.query("SELECT version, count(*) FROM audit GROUP BY version ORDER BY version")
    assert rows == [(version, 1) for version in range(2, 13)]
    assert schema.version_row() == [(12, False)]


@pytest.mark.django_db(transaction=True)
def test_lock_timeout_covers_the_whole_wait(schema: Schema, migrations: Migrations) -> None:
    """The Go CLI's first wait has no timeout and hangs; ours gives up (run_manage would time out)."""
    migrations.pair(1, "a", "CREATE TABLE a (id int);")
    with schema.connect() as holder:
        holder.execute(f"SELECT pg_advisory_lock({min(cli_keys(schema))})")
        done = run_manage(
            "sqlmigrate_up", "--path", str(migrations.path), "--lock-timeout", "0.5", url=schema.url
        )
    assert done.returncode == 1
    assert done.stderr.startswith("error: timeout: can't acquire database lock: waited 0.5 s")
