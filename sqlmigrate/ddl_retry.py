"""Try a migration again when one of its statements timed out waiting for a lock.

With a bounded ``lock_timeout`` (timeouts.py) a statement that cannot get its
table lock fails with ``lock_not_available`` (55P03) instead of queueing the
site behind it. What is safe to try again:

- an atomic migration: its transaction was rolled back whole, so it runs again
  whole;
- a dirty-protocol file only when nothing of it has run yet (its first part,
  which the server runs all or nothing, failed): the version written dirty
  before it is put back, clean, and it runs again;
- anything else fails as before: part of the file is committed.

Each wait is said through ``warn`` with the session in the way, and the last
failure names it (pid, its query's start), FILE:LINE:COL and the state left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from .backends.base import Backend, Holder
from .exceptions import MigrationFailedError
from .runner import AppliedMigration, PreparedStep, describe_version
from .timeouts import Limits, backoff

LOCK_NOT_AVAILABLE = "55P03"

RunOnce = Callable[[PreparedStep], AppliedMigration]


def with_limits(item: PreparedStep, limits: Limits) -> PreparedStep:
    """``item`` with the run's limits as its file's ``-- sqlmigrate:`` comments change them."""
    return replace(item, limits=limits.with_directives(dict(item.directives)))


def run_with_retries(
    backend: Backend,
    item: PreparedStep,
    run_once: RunOnce,
    warn: Callable[[str], None],
    rerun: str,
    should_stop: Callable[[], bool] | None = None,
) -> AppliedMigration:
    """``run_once(item)``, again after a lock timeout while it is safe and retries remain;
    ``rerun`` is the command that tries again."""
    attempt = 0
    while True:
        try:
            return run_once(item)
        except MigrationFailedError as failure:
            if failure.sqlstate != LOCK_NOT_AVAILABLE or failure.statement is None:
                raise
            holders = backend.lock_holders(failure.statement)
            if not failure.nothing_ran:
                raise _failed(failure, holders, item, attempt + 1, failure.state, rerun) from None
            state = failure.state
            if item.sql is not None and not item.sql.atomic:
                state = _undo_dirty_mark(backend, item)
            stop = should_stop is not None and should_stop()
            if attempt >= item.limits.retries or stop:
                raise _failed(failure, holders, item, attempt + 1, state, rerun) from None
            attempt += 1
            pause = backoff(attempt, item.limits.lock_timeout)
            warn(_waiting(item, holders, attempt, pause))
            time.sleep(pause)


def _undo_dirty_mark(backend: Backend, item: PreparedStep) -> str:
    """Nothing of a dirty-protocol file ran: the version goes back to where it was."""
    step = item.step
    backend.set_version(step.before, dirty=False)
    return (
        f"Nothing of {step.label} ran: its first statements could not get their lock and were "
        f"rolled back, so the version was put back to {describe_version(step.before)} (clean)."
    )


def _waiting(item: PreparedStep, holders: list[Holder], attempt: int, pause: float) -> str:
    label, retries = item.step.label, item.limits.retries
    if holders:
        first = holders[0]
        what = f"waiting for a lock on {first.relation} held by {first.short()}"
    else:
        what = "waiting for a lock (its holder went before it could be named)"
    return f"{label} {what}: retry {attempt}/{retries} in {pause:g} s"


def _failed(
    failure: MigrationFailedError,
    holders: list[Holder],
    item: PreparedStep,
    attempts: int,
    state: str,
    rerun: str,
) -> MigrationFailedError:
    limits = item.limits
    waited = f"waited {limits.lock_timeout:g} s" if limits.lock_timeout else "could not wait"
    if holders:
        who = f"{waited} for a lock on {holders[0].relation}, held by " + "; ".join(
            h.full() for h in holders
        )
        pids = ", ".join(str(h.pid) for h in holders)
        end = (
            f"End that session's transaction (or cancel it: SELECT pg_terminate_backend(pid) "
            f"for pid {pids}), or run this at a quieter time"
        )
    else:
        who = f"{waited} for a lock; its holder went before it could be named"
        end = "Try again"
    tries = f"tried {attempts} time{'s' if attempts != 1 else ''}"
    advice = (
        f"{end}; or raise --ddl-lock-timeout / --retries (SQLMIGRATE_DDL_LOCK_TIMEOUT, "
        f"SQLMIGRATE_DDL_RETRIES), then run: {rerun}"
        if failure.nothing_ran
        else failure.fix
    )
    first, newline, rest = failure.reason.partition("\n")
    return MigrationFailedError(
        location=failure.location,
        message=f"{first}: {who} ({tries}){newline}{rest}",
        sqlstate=failure.sqlstate,
        state=state,
        fix=advice,
        statement=failure.statement,
        nothing_ran=failure.nothing_ran,
    )
