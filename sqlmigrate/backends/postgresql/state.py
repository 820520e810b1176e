"""The session state sqlmigrate works in on PostgreSQL, and how it is put back.

A migration file may change its session: ``SET search_path``, ``SET ROLE``,
``SET statement_timeout``, ``SET default_transaction_read_only``, ... Left
alone, that would misdirect the next file and sqlmigrate's own bookkeeping.
``Baseline`` is the session as it was when the run took the lock (Django's
settings plus sqlmigrate's own); ``restore_sql`` puts every setting, the role
and the session authorization back to it, and runs after every file.

Every statement of sqlmigrate's own names its tables with their schema and
its functions with ``pg_catalog``, so no ``search_path`` can redirect them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from ...identifiers import quote_identifier

#: GUCs this session set itself (Django, the caller, sqlmigrate): to put back after a file
# The function behind the pg_settings view: a session holding a lock on the view
# cannot make this wait.
BASELINE_SQL = (
    "SELECT name, setting FROM pg_catalog.pg_show_all_settings() WHERE source = 'session' "
    "ORDER BY name"
)
ROLES_SQL = "SELECT pg_catalog.current_user(), pg_catalog.session_user()"


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Baseline:
    settings: tuple[tuple[str, str], ...]
    #: the role in force, and the session's own user (they differ after SET ROLE)
    current_user: str
    session_user: str

    def restore_sql(self) -> str:
        """Statements that put the session back: RESET ALL, then this baseline.

        Session authorization and role are not reset by RESET ALL; the
        settings are put back as the session user, then the role is taken.
        The same text after every file of a run: built once.
        """
        return _restore_sql(self)


@functools.lru_cache(maxsize=16)
def _restore_sql(baseline: Baseline) -> str:
    # Temporary tables and LISTENs too: a migration's TEMP table would hide the real
    # table of that name from the next file and from the caller (a test session).
    # Prepared statements stay: the driver keeps its own and would not know.
    statements = [
        "RESET ALL",
        "RESET SESSION AUTHORIZATION",
        "RESET ROLE",
        "DISCARD TEMP",
        "UNLISTEN *",
    ]
    if baseline.settings:
        calls = ", ".join(
            f"pg_catalog.set_config({literal(name)}, {literal(value)}, false)"
            for name, value in baseline.settings
        )
        statements.append(f"SELECT {calls}")
    if baseline.current_user != baseline.session_user:
        statements.append(f"SET ROLE {quote_identifier(baseline.current_user)}")
    return ";\n".join(statements)


def bounded(seconds: float) -> str:
    """A statement limiting lock waits to the end of the current transaction.

    Put first in a multi-statement message (one implicit transaction), it
    bounds every lock wait of sqlmigrate's own statements after it.
    """
    milliseconds = max(1, math.ceil(seconds * 1000))
    return f"SELECT pg_catalog.set_config('lock_timeout', '{milliseconds}ms', true)"


#: the marker of the error the lock guard raises; see ``lock_guard_sql``
LOCK_LOST_MARK = "sqlmigrate: migration lock lost"


@functools.lru_cache(maxsize=16)
def lock_guard_sql(keys: tuple[int, ...]) -> str:
    """A statement that fails unless this session still holds every advisory key.

    Sent in the same message as each version write, so a write can never
    happen after a migration released the lock (``pg_advisory_unlock_all()``,
    ``DISCARD ALL``). For each key, in order (CASE evaluates its WHENs in
    order, and only as far as needed):

    1. ``pg_try_advisory_xact_lock``: the transaction takes the key too. It
       never waits; false when another session holds the key.
    2. ``pg_advisory_unlock``: gives back one session-level hold; true only if
       the session had one (false, with a WARNING, if the file released it).
    3. ``pg_try_advisory_lock``: takes that hold back, at once (the key is
       already ours).

    While the transaction holds the key, no other session can take it between
    2 and 3; its hold goes at COMMIT, the session's stays. Only this backend's
    local lock table is touched after step 1: much cheaper than reading
    ``pg_locks``, which copies the server's whole lock table (about 0.2 ms per
    migration). The failure is a cast of a non-constant text (so the planner
    cannot fold it), whose message carries ``LOCK_LOST_MARK``.
    """
    steps = " ".join(
        f"WHEN NOT pg_catalog.{call}({key}) THEN NULL"
        for key in keys
        for call in ("pg_try_advisory_xact_lock", "pg_advisory_unlock", "pg_try_advisory_lock")
    )
    return (
        f"SELECT COALESCE(CASE {steps} ELSE 0 END, "
        f"CAST(({literal(LOCK_LOST_MARK + ' by pid ')} || pg_catalog.pg_backend_pid()) "
        "AS pg_catalog.int4))"
    )
