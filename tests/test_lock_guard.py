"""The lock guard before every version write (state.lock_guard_sql), against the server.

It checks the session's advisory keys by giving back one session-level hold and
taking it again, under a transaction-level hold of the same key: these tests pin
that it leaves exactly the holds it found, lets no other session in at any point,
and fails whenever the session lost a key, whoever holds it now.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from sqlmigrate import engine
from sqlmigrate.backends.postgresql.state import LOCK_LOST_MARK, lock_guard_sql
from sqlmigrate.exceptions import MigrationFailedError

from .conftest import Migrations, Schema
from .test_hardening import keys

pytestmark = pytest.mark.django_db(transaction=True)

#: keys of no real migration table, so these tests cannot meet another run
KEYS = (4_000_000_001, 4_000_000_002)


def held(conn: psycopg.Connection[Any]) -> list[int]:
    rows = conn.execute(
        "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND pid = pg_backend_pid() ORDER BY objid"
    ).fetchall()
    return [int(row[0]) for row in rows]


def others_can_take(schema: Schema, key: int) -> bool:
    with schema.connect() as other:
        taken = bool(other.execute(f"SELECT pg_try_advisory_lock({key})").fetchone()[0])
        if taken:
            other.execute(f"SELECT pg_advisory_unlock({key})")
        return taken


def guarded(conn: psycopg.Connection[Any]) -> None:
    """One version write's transaction: BEGIN, the guard, COMMIT."""
    conn.execute("BEGIN")
    conn.execute(lock_guard_sql(KEYS))
    conn.execute("COMMIT")


def test_guard_leaves_exactly_one_session_hold_per_key(schema: Schema) -> None:
    with schema.connect() as conn:
        conn.execute(f"SELECT pg_advisory_lock({KEYS[0]}), pg_advisory_lock({KEYS[1]})")
        for _ in range(5):
            guarded(conn)
        assert held(conn) == list(KEYS)
        # One unlock per key frees it: the guard neither added nor took away a hold.
        for key in KEYS:
            assert conn.execute(f"SELECT pg_advisory_unlock({key})").fetchone() == (True,)
        assert held(conn) == []
        assert all(others_can_take(schema, key) for key in KEYS)


def test_no_other_session_gets_a_key_during_or_after_the_guard(schema: Schema) -> None:
    with schema.connect() as conn:
        conn.execute(f"SELECT pg_advisory_lock({KEYS[0]}), pg_advisory_lock({KEYS[1]})")
        conn.execute("BEGIN")
        conn.execute(lock_guard_sql(KEYS))
        assert not any(others_can_take(schema, key) for key in KEYS)
        conn.execute("ROLLBACK")  # session-level holds do not go with the transaction
        assert not any(others_can_take(schema, key) for key in KEYS)
        assert held(conn) == list(KEYS)


def test_a_session_waiting_for_a_key_does_not_trip_the_guard(schema: Schema) -> None:
    """The golang-migrate CLI waits in pg_advisory_lock: queued behind us, it must not make
    the guard's takes fail (a key already held is granted again without queueing)."""
    with schema.connect() as conn, schema.connect() as waiter:
        conn.execute(f"SELECT pg_advisory_lock({KEYS[0]}), pg_advisory_lock({KEYS[1]})")
        waiter.execute("SET statement_timeout = '5s'")
        waiting = waiter.pgconn
        waiting.send_query(f"SELECT pg_advisory_lock({KEYS[0]})".encode())
        for _ in range(200):
            rows = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                f"AND pid = {waiter.info.backend_pid}"
            ).fetchone()
            if rows and rows[0]:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the waiter never queued")
        for _ in range(3):
            guarded(conn)
        assert held(conn) == list(KEYS)
        conn.execute(f"SELECT pg_advisory_unlock({KEYS[0]})")  # the waiter gets it now
        while (result := waiting.get_result()) is not None:
            assert result.status == psycopg.pq.ExecStatus.TUPLES_OK, result.error_message


def test_guard_fails_when_a_released_key_is_free(schema: Schema) -> None:
    with schema.connect() as conn:
        conn.execute(f"SELECT pg_advisory_lock({KEYS[0]}), pg_advisory_lock({KEYS[1]})")
        conn.execute("BEGIN")
        conn.execute(f"SELECT pg_advisory_unlock({KEYS[1]})")  # what a file may do
        with pytest.raises(psycopg.errors.InvalidTextRepresentation, match=LOCK_LOST_MARK):
            conn.execute(lock_guard_sql(KEYS))
        conn.execute("ROLLBACK")
        # The guard's transaction-level hold went with the transaction: nothing kept.
        assert held(conn) == [KEYS[0]]
        assert others_can_take(schema, KEYS[1])


def test_guard_fails_when_another_session_took_a_key(schema: Schema) -> None:
    with schema.connect() as conn, schema.connect() as other:
        conn.execute(f"SELECT pg_advisory_lock({KEYS[0]})")
        other.execute(f"SELECT pg_advisory_lock({KEYS[1]})")
        conn.execute("BEGIN")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation, match=LOCK_LOST_MARK):
            conn.execute(lock_guard_sql(KEYS))
        conn.execute("ROLLBACK")
        assert held(other) == [KEYS[1]]  # the other session's lock is left alone
        assert held(conn) == [KEYS[0]]


def test_guard_fails_for_a_key_held_only_by_the_transaction(schema: Schema) -> None:
    with schema.connect() as conn:
        conn.execute(f"SELECT pg_advisory_lock({KEYS[0]}), pg_advisory_lock({KEYS[1]})")
        conn.execute("BEGIN")
        conn.execute(f"SELECT pg_advisory_unlock({KEYS[0]}), pg_advisory_xact_lock({KEYS[0]})")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation, match=LOCK_LOST_MARK):
            conn.execute(lock_guard_sql(KEYS))
        conn.execute("ROLLBACK")
        assert held(conn) == [KEYS[1]]


def test_lock_released_by_a_trigger_of_the_file_is_caught(
    schema: Schema, migrations: Migrations
) -> None:
    first, second = keys(schema)
    migrations.pair(
        1,
        "trap",
        "CREATE TABLE items (id int);\n"
        "CREATE FUNCTION release() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
        f"PERFORM pg_advisory_unlock({first}), pg_advisory_unlock({second}); RETURN NEW; END$$;\n"
        "CREATE TRIGGER release AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION release();",
    )
    migrations.pair(2, "insert", "INSERT INTO items VALUES (1);")
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    assert "no longer holds the migration lock" in str(raised.value)
    assert "Nothing of 2_insert.up.sql was applied" in str(raised.value)
    assert schema.version_row() == [(1, False)]
    assert schema.query("SELECT count(*) FROM items") == [(0,)]


def test_lock_released_while_writing_the_version_stops_the_next_file(
    schema: Schema, migrations: Migrations
) -> None:
    """A trigger on the version table releases the lock after the guard has run: that
    transaction still holds the keys until it commits, and the next file is stopped."""
    migrations.pair(
        1,
        "trap",
        "CREATE FUNCTION release() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN "
        "PERFORM pg_advisory_unlock_all(); RETURN NEW; END$$;\n"
        "CREATE TRIGGER release AFTER INSERT ON schema_migrations "
        "FOR EACH ROW EXECUTE FUNCTION release();",
    )
    migrations.pair(2, "after", "CREATE TABLE after_it (id int);")
    with pytest.raises(MigrationFailedError) as raised:
        engine.up(path=migrations.path)
    assert "no longer holds the migration lock" in str(raised.value)
    assert "Nothing of 2_after.up.sql was applied" in str(raised.value)
    assert schema.version_row() == [(1, False)]
    assert "after_it" not in schema.tables()
