"""The PgBouncer test infrastructure (tests/pgbouncer.py), proven on a real bouncer.

In transaction pooling a client's statements go to whichever server session
is free: a session advisory lock taken by one statement is not seen by the
next when another client holds that server session in a transaction. The
same steps on a direct connection are the control.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import psycopg
import pytest

from .conftest import Schema, database_url
from .pgbouncer import NOT_INSTALLED, REQUIRE_ENV, PgBouncer, unavailable

pytestmark = pytest.mark.django_db(transaction=True)

HELD = (
    "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
    "AND pid = pg_backend_pid()), pg_backend_pid()"
)

PROBE = "SELECT current_setting('sqlmigrate.probe', true)"


def lock_then_look(url: str) -> tuple[int, int, int]:
    """(pid that took the lock, pid of the next statement, locks that one sees)."""
    key = uuid.uuid4().int % 2**62  # no other test's key
    with (
        psycopg.connect(url, autocommit=True) as client,
        psycopg.connect(url, autocommit=True) as other,
        psycopg.connect(database_url(), autocommit=True) as admin,
    ):
        locked, first = one(client, f"SELECT pg_try_advisory_lock({key}), pg_backend_pid()")
        assert locked is True
        try:
            # The other client holds a server session in a transaction: with a bouncer, the
            # only idle one, the one that took the lock (it reuses idle sessions first).
            with other.transaction():
                one(other, "SELECT pg_backend_pid()")
                seen, second = one(client, HELD)
        finally:
            admin.execute("SELECT pg_terminate_backend(%s)", [first])  # drop the lock
    return first, second, seen


def one(conn: psycopg.Connection[Any], sql: str) -> tuple[Any, ...]:
    row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return tuple(row)


def test_direct_session_keeps_its_advisory_lock() -> None:
    first, second, seen = lock_then_look(database_url())
    assert (second, seen) == (first, 1)


def test_transaction_pooling_loses_the_advisory_lock(pgbouncer: PgBouncer) -> None:
    first, second, seen = lock_then_look(pgbouncer.url)
    assert second != first
    assert seen == 0


def test_session_settings_do_not_persist(pgbouncer: PgBouncer) -> None:
    value = uuid.uuid4().hex  # a custom setting: the bouncer does not track and replay it
    with (
        psycopg.connect(pgbouncer.url, autocommit=True) as client,
        psycopg.connect(pgbouncer.url, autocommit=True) as other,
    ):
        client.execute(f"SET sqlmigrate.probe = '{value}'")
        with other.transaction():
            # holds the server session the SET went to
            assert one(other, PROBE) == (value,)
            assert one(client, PROBE) != (value,)


def test_schema_url_sets_search_path(pgbouncer: PgBouncer, schema: Schema) -> None:
    schema.query("CREATE TABLE marker (id bigint)")
    with psycopg.connect(pgbouncer.url_for_schema(schema.name), autocommit=True) as client:
        assert one(client, "SELECT current_schema()") == (schema.name,)
        assert one(client, "SELECT count(*) FROM marker") == (0,)


@pytest.mark.parametrize(
    ("required", "outcome"),
    [
        pytest.param("", pytest.skip.Exception, id="skip"),
        pytest.param("1", pytest.fail.Exception, id="fail"),
    ],
)
def test_missing_pgbouncer_skips_unless_required(
    monkeypatch: pytest.MonkeyPatch, required: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv(REQUIRE_ENV, required)
    with pytest.raises(outcome) as raised:
        unavailable(NOT_INSTALLED)
    suffix = f" ({REQUIRE_ENV}=1)" if required else ""
    assert str(raised.value) == NOT_INSTALLED + suffix
    assert os.environ[REQUIRE_ENV] == required
