"""Several small atomic migrations per message change no outcome, against a real server."""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest

from sqlmigrate import batch, engine
from sqlmigrate.backends.postgresql import PostgreSQLBackend
from sqlmigrate.exceptions import MigrationFailedError
from sqlmigrate.runner import AppliedMigration

from .conftest import Migrations, Schema, spawn_manage

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = "schema_migrations_history"


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every message sqlmigrate sends through the backend (the real one runs them)."""
    sent: list[str] = []
    original = PostgreSQLBackend.execute

    def counting(self: PostgreSQLBackend, sql: str | bytes) -> Any:
        sent.append(sql if isinstance(sql, str) else sql.decode())
        return original(self, sql)

    monkeypatch.setattr(PostgreSQLBackend, "execute", counting)
    return sent


def ten(migrations: Migrations, bad: dict[int, str] | None = None) -> None:
    for version in range(1, 11):
        text = (bad or {}).get(version) or f"CREATE TABLE t{version} (id int);"
        migrations.pair(version, f"t{version}", text)


def history(schema: Schema) -> list[tuple[int, str, bool]]:
    rows = schema.query(
        f"SELECT version, outcome, duration_ms IS NOT NULL FROM {HISTORY} ORDER BY id"
    )
    return [(int(v), o, bool(d)) for v, o, d in rows]


def test_ten_small_files_go_in_one_message(
    schema: Schema, migrations: Migrations, messages: list[str]
) -> None:
    ten(migrations)
    seen: list[AppliedMigration] = []
    result = engine.up(path=migrations.path, progress=seen.append)
    migration_messages = [m for m in messages if "CREATE TABLE t" in m]
    assert len(migration_messages) == 1
    assert migration_messages[0].count("COMMIT;") == 10
    assert [m.version for m in seen] == list(range(1, 11))
    assert all(m.duration >= 0 and m.atomic for m in seen)
    assert result.version_after == 10
    assert schema.version_row() == [(10, False)]
    assert history(schema) == [(v, "applied", True) for v in range(1, 11)]
    assert {f"t{v}" for v in range(1, 11)} <= schema.tables()


def test_a_failure_in_the_middle_keeps_the_ones_before(
    schema: Schema, migrations: Migrations, messages: list[str]
) -> None:
    ten(migrations, {5: "CREATE TABLE t5 (id int);\nINSERT INTO t5 VALUES ('five');"})
    seen: list[AppliedMigration] = []
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path, progress=seen.append)
    error = raised.value
    assert error.location.endswith("5_t5.up.sql:2:24")
    assert error.sqlstate == "22P02"
    assert "Nothing of 5_t5.up.sql was applied" in error.state
    assert "still at version 4 (clean)" in error.state
    assert [m.version for m in seen] == [1, 2, 3, 4]
    assert schema.version_row() == [(4, False)]
    tables = schema.tables()
    assert {"t1", "t2", "t3", "t4"} <= tables
    assert not {"t5", "t6", "t10"} & tables
    assert history(schema) == [*[(v, "applied", True) for v in range(1, 5)], (5, "failed", False)]
    assert len([m for m in messages if "CREATE TABLE t" in m]) == 1


def test_a_failure_of_the_bookkeeping_in_a_batch(schema: Schema, migrations: Migrations) -> None:
    ten(migrations, {3: "SET TRANSACTION READ ONLY;\nSELECT 1;"})
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    assert "3_t3.up.sql ran, but sqlmigrate could not record it: cannot execute" in str(
        raised.value
    )
    assert schema.version_row() == [(2, False)]


def test_a_deferred_constraint_failing_at_commit_is_the_files_failure(
    schema: Schema, migrations: Migrations
) -> None:
    ten(
        migrations,
        {
            2: "CREATE TABLE parent (id int PRIMARY KEY);\nCREATE TABLE child (p int "
            "REFERENCES parent DEFERRABLE INITIALLY DEFERRED);",
            3: "INSERT INTO child VALUES (42);",
        },
    )
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    assert raised.value.sqlstate == "23503"
    assert raised.value.location.endswith("3_t3.up.sql:1:1")
    assert "Nothing of 3_t3.up.sql was applied" in raised.value.state
    assert schema.version_row() == [(2, False)]


def test_batches_respect_their_bounds(
    schema: Schema, migrations: Migrations, messages: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "BATCH_STEPS", 3)
    ten(migrations, {6: "CREATE INDEX CONCURRENTLY i ON t1 (id);"})
    engine.up(path=migrations.path)
    groups = [m.count("\nCOMMIT") for m in messages if "CREATE TABLE t" in m]
    assert groups == [3, 2, 3, 1]  # 1-3, 4-5, (6 alone, dirty protocol), 7-9, 10
    assert schema.version_row() == [(10, False)]


def test_down_is_batched_too(schema: Schema, migrations: Migrations, messages: list[str]) -> None:
    for version in range(1, 6):
        migrations.pair(
            version, f"t{version}", f"CREATE TABLE t{version} (id int);", f"DROP TABLE t{version};"
        )
    engine.up(path=migrations.path)
    messages.clear()
    result = engine.down(None, path=migrations.path)
    assert [m.version for m in result.applied] == [5, 4, 3, 2, 1]
    assert len([m for m in messages if "DROP TABLE t" in m]) == 1
    assert schema.version_row() == []


def test_ctrl_c_during_a_batch_stops_after_it(schema: Schema, migrations: Migrations) -> None:
    """Ctrl-C finishes what is running (here a batch of three small files) and runs no
    more, exit 0, as golang-migrate stops after the running migration."""
    migrations.pair(1, "sleep", "CREATE TABLE t1 (id int);\nSELECT pg_sleep(1.5);")
    migrations.pair(2, "t2", "CREATE TABLE t2 (id int);")
    migrations.pair(3, "t3", "CREATE TABLE t3 (id int);")
    migrations.pair(4, "index", "CREATE INDEX CONCURRENTLY i ON t1 (id);")  # alone
    migrations.pair(5, "t5", "CREATE TABLE t5 (id int);")
    child = spawn_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
    deadline = time.monotonic() + 30
    while not schema.query(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
        "AND pid <> pg_backend_pid()"
    )[0][0]:
        assert time.monotonic() < deadline, "the child never reached its sleep"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert [line.split()[1] for line in out.splitlines() if line.startswith("OK")] == [
        "1_sleep.up.sql",
        "2_t2.up.sql",
        "3_t3.up.sql",
    ]
    assert "Stopping after this running migration" in err
    assert schema.version_row() == [(3, False)]
    assert not {"t5"} & schema.tables()
