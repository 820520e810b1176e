"""Run one planned step against a backend: atomically when the file allows,
otherwise by golang-migrate's dirty-flag protocol.

Atomic: the file's statements and the version update commit together, so a
failure leaves nothing of the file and the previous version, clean. A
single-statement file and its version update travel in one simple-query
message: one round trip per migration.

Dirty-flag protocol (golang-migrate's): write the target version dirty, run
the statements one by one (each commits on its own), write it clean.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from .backends.base import Backend, ExecutionFailed, StatementError
from .exceptions import MigrationFailedError
from .history import Checksums
from .history_table import HistoryRecorder
from .planner import Step

if TYPE_CHECKING:
    # pglast loads only when a file is parsed, not for a run with nothing to do
    from .splitting import Statement
    from .sql import ParsedSql


@dataclass(frozen=True, slots=True)
class AppliedMigration:
    """One step that finished; what ``progress`` callbacks receive."""

    version: int
    direction: str
    label: str
    #: the version the database is at after it (None: no version)
    target: int | None
    duration: float
    #: True: ran in one transaction with its version update; False: dirty protocol
    atomic: bool
    #: False when the direction's file does not exist (golang-migrate's nil migration)
    had_file: bool


@dataclass(frozen=True, slots=True)
class PreparedStep:
    step: Step
    sql: ParsedSql | None
    location: str
    sums: Checksums | None = None

    @property
    def mode(self) -> str:
        """How it will run, for --dry-run and logs."""
        if self.sql is None:
            return "no file: version only"
        if self.sql.atomic:
            return "atomic: one transaction with the version update"
        return f"dirty-flag protocol: {self.sql.reason}"


#: statements longer than this travel alone, not joined to the version update
BIG_STATEMENT = 1 << 20

#: Builds the command that fixes a state: ("sqlmigrate_force", "3") -> "python manage.py ..."
CommandHint = Callable[..., str]


def run_step(
    backend: Backend,
    prepared: PreparedStep,
    hint: CommandHint,
    recorder: HistoryRecorder | None = None,
    rerun: str = "python manage.py sqlmigrate_up",
    sending: Callable[[str], None] | None = None,
) -> AppliedMigration:
    """Run one step; ``rerun`` is the command that tries it again after a fix;
    ``sending`` sees the text of each of the file's statements before it is sent."""
    step = prepared.step
    if sending is not None and prepared.sql is not None:
        for statement in prepared.sql.statements:
            sending(prepared.sql.statement_text(statement))
    started = time.perf_counter()
    if prepared.sql is None:
        backend.execute(_bookkeeping(backend, prepared, recorder))
        atomic = True
    elif prepared.sql.atomic:
        _run_atomic(backend, prepared, rerun, recorder)
        atomic = True
    else:
        _run_dirty_protocol(backend, prepared, hint, recorder)
        atomic = False
    return AppliedMigration(
        version=step.migration.version,
        direction=step.direction,
        label=step.label,
        target=step.target,
        duration=time.perf_counter() - started,
        atomic=atomic,
        had_file=prepared.sql is not None,
    )


def _bookkeeping(backend: Backend, prepared: PreparedStep, recorder: HistoryRecorder | None) -> str:
    """The version update (and history row) that commits with the step."""
    sql = backend.version_sql(prepared.step.target, dirty=False)
    if recorder is not None:
        sql += ";\n" + recorder.applied_sql(prepared.step, prepared.sums)
    return sql


def _run_atomic(
    backend: Backend, prepared: PreparedStep, rerun: str, recorder: HistoryRecorder | None
) -> None:
    sql = prepared.sql
    assert sql is not None
    step = prepared.step
    bookkeeping = _bookkeeping(backend, prepared, recorder)
    statements = sql.statements
    current: Statement | None = None
    base: int | None = None
    try:
        if not statements:
            backend.execute(bookkeeping)
            return
        if len(statements) > 1:
            backend.begin()
            for current in islice(statements, len(statements) - 1):
                backend.execute(sql.statement_text(current))
        current, text, base = _last_message(sql)
        if isinstance(text, str) and len(text) <= BIG_STATEMENT:
            closing = ";\nCOMMIT" if len(statements) > 1 else ""
            backend.execute(f"{text}\n;\n{bookkeeping}{closing}")
        else:  # alone, not glued to the bookkeeping: no second copy of a huge text
            if len(statements) == 1:
                backend.begin()
            backend.execute(text)
            backend.execute(f"{bookkeeping};\nCOMMIT")
    except ExecutionFailed as failure:
        if recorder is not None:
            recorder.failed(step, prepared.sums)
        state = (
            f"Nothing of {step.label} was applied: its transaction was rolled back and the "
            f"database is still at {describe_version(step.before)} (clean)."
        )
        fix = f"Fix the file, then run: {rerun}"
        raise _failure(sql, current, failure.error, state, fix, base) from None


def _last_message(sql: ParsedSql) -> tuple[Statement, str | bytes, int]:
    """The last statement, the text to send for it, and where that text starts.

    A file that is one statement, unwrapped, is sent whole (its comments and
    semicolon are harmless to the server): slicing a 50 MB statement out of
    it would hold the text twice.
    """
    last = sql.statements[-1]
    if sql.raw is not None:
        return last, sql.raw, 0
    if sql.single_statement:
        return last, sql.text, 0
    return last, sql.statement_text(last), last.start


def _run_dirty_protocol(
    backend: Backend, prepared: PreparedStep, hint: CommandHint, recorder: HistoryRecorder | None
) -> None:
    sql = prepared.sql
    assert sql is not None
    step = prepared.step
    backend.set_version(step.target, dirty=True)
    if recorder is not None:
        recorder.start(step, prepared.sums)
    for statement in sql.statements:
        try:
            backend.execute(sql.statement_text(statement))
        except ExecutionFailed as failure:
            if recorder is not None:
                recorder.failed(step, prepared.sums)
            raise _failure(
                sql, statement, failure.error, *_dirty_advice(step, sql, statement, hint)
            ) from None
    clean = backend.version_sql(step.target, dirty=False)
    if recorder is not None:
        clean += ";\n" + recorder.finish_sql()
    backend.execute(clean)


def _dirty_advice(
    step: Step, sql: ParsedSql, statement: Statement, hint: CommandHint
) -> tuple[str, str]:
    target = describe_version(step.target)
    state = (
        f"{step.label} cannot run in a transaction ({sql.reason}), so it ran statement by "
        f"statement: the statements before {sql.where(statement.start)} were committed and "
        f"stay. The database is marked {target} (dirty), as golang-migrate marks it."
    )
    done = hint("sqlmigrate_force", _force_arg(step.target))
    undone = hint("sqlmigrate_force", _force_arg(step.before))
    fix = (
        f"Finish or undo the rest by hand, then run `{done}` if the database now matches "
        f"{target}, or `{undone}` if it matches {describe_version(step.before)}."
    )
    return state, fix


def _failure(
    sql: ParsedSql,
    statement: Statement | None,
    error: StatementError,
    state: str,
    fix: str,
    base: int | None = None,
) -> MigrationFailedError:
    """``base``: where the text sent starts in the file, when not at the statement."""
    offset = statement.start if statement is not None else 0
    if statement is not None and error.position is not None:
        origin = statement.start if base is None else base
        offset = origin + min(error.position, statement.end - origin)
    message = error.message
    for label, extra in (("detail", error.detail), ("hint", error.hint), ("where", error.context)):
        if extra:
            message += f"\n  {label}: {extra}"
    return MigrationFailedError(
        location=sql.where(offset),
        message=message,
        sqlstate=error.sqlstate,
        state=state,
        fix=fix,
    )


def _force_arg(version: int | None) -> str:
    return "-1" if version is None else str(version)


def describe_version(version: int | None) -> str:
    return "no version" if version is None else f"version {version}"
