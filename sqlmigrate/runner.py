"""Run one planned step against a backend: atomically when the file allows,
otherwise by golang-migrate's dirty-flag protocol.

Atomic: the file's text, the session's restore, the lock guard and the
version and history writes go in one simple-query message inside one
transaction (three messages for a file over ``BIG_STATEMENT``), so a failure
leaves nothing of the file and the previous version, clean.

Dirty-flag protocol (golang-migrate's): write the target version dirty, send
the file in parts (see ``ParsedSql.parts``), put the session back, write it
clean. A failure leaves the target version dirty, as the CLI does.

Which statement failed is read from the server's answer: the results before
the error count the statements that succeeded, and the error position counts
from the start of the message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .backends.base import Backend, ExecutionFailed, StatementError
from .exceptions import LockLostError, MigrationFailedError, SQLMigrateError
from .history import Checksums
from .history_table import HistoryRecorder
from .planner import Step
from .timeouts import NO_LIMITS, Limits

if TYPE_CHECKING:
    # pglast loads only when a file is parsed, not for a run with nothing to do
    from .sql import ParsedSql, Part


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
    #: the file's ``-- sqlmigrate:`` comments, and the limits it runs with (timeouts.py)
    directives: tuple[tuple[str, float], ...] = ()
    limits: Limits = NO_LIMITS

    @property
    def mode(self) -> str:
        """How it will run, for --dry-run and logs."""
        if self.sql is None:
            return "no file: version only"
        if self.sql.atomic:
            return "atomic: one transaction with the version update"
        return f"dirty-flag protocol: {self.sql.reason}"


#: a file body longer than this travels alone, not joined to the version update
BIG_STATEMENT = 1 << 20

#: Builds the command that fixes a state: ("sqlmigrate_force", "3") -> "python manage.py ..."
CommandHint = Callable[..., str]
Sending = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class _Message:
    """One message sent for a file, and how its results map back onto the file."""

    text: str | bytes
    #: index of the file's first statement in it, and how many of the file's it holds
    first: int
    count: int
    #: results (statements) in the message before the file's first one
    skip: int = 0
    #: where its file text starts, in the file and in the message
    origin: int = 0
    prefix: int = 0


@dataclass(frozen=True, slots=True)
class _Context:
    backend: Backend
    prepared: PreparedStep
    hint: CommandHint
    recorder: HistoryRecorder | None
    rerun: str
    sending: Sending | None

    @property
    def sql(self) -> ParsedSql:
        assert self.prepared.sql is not None
        return self.prepared.sql

    @property
    def step(self) -> Step:
        return self.prepared.step


def context(
    backend: Backend,
    prepared: PreparedStep,
    hint: CommandHint,
    recorder: HistoryRecorder | None = None,
    rerun: str = "python manage.py sqlmigrate_up",
    sending: Sending | None = None,
) -> _Context:
    """Everything running one step needs (``run_context``, or a batch of them)."""
    return _Context(backend, prepared, hint, recorder, rerun, sending)


def run_context(context: _Context) -> AppliedMigration:
    prepared, backend = context.prepared, context.backend
    step = prepared.step
    started = time.perf_counter()
    if prepared.sql is None:
        backend.write(_closing_sql(context))
    elif prepared.sql.atomic:
        _run_atomic(context)
    else:
        _run_dirty_protocol(context)
    return AppliedMigration(
        version=step.migration.version,
        direction=step.direction,
        label=step.label,
        target=step.target,
        duration=time.perf_counter() - started,
        atomic=prepared.sql is None or prepared.sql.atomic,
        had_file=prepared.sql is not None,
    )


def _closing_sql(context: _Context, *, history: bool = True) -> str:
    """After a file, in its transaction: the session put back, then the bounded, guarded
    version update (and its history row)."""
    backend, step = context.backend, context.step
    parts = [
        backend.restore_sql(),
        backend.bounded_sql(),
        backend.version_sql(step.target, dirty=False),
    ]
    if history and context.recorder is not None:
        parts.append(context.recorder.applied_sql(step, context.prepared.sums))
    return ";\n".join(part for part in parts if part)


# -- atomic ---------------------------------------------------------------------------


def _run_atomic(context: _Context) -> None:
    sql = context.sql
    closing = _closing_sql(context)
    count = len(sql.statements)
    body, origin = _body(sql)
    messages: list[_Message]
    if count == 0:
        messages = [_Message(closing, 0, 0)]
    elif isinstance(body, str) and len(body) <= BIG_STATEMENT:
        opening = _opening(context)
        text = f"{opening}{body}\n;\n{closing};\nCOMMIT"
        skip = opening.count(";\n")  # BEGIN, and the timeouts when set
        messages = [_Message(text, 0, count, skip=skip, origin=origin, prefix=len(opening))]
    else:  # alone, not glued to the bookkeeping: no second copy of a huge text
        messages = [
            _Message(_opening(context).removesuffix(";\n"), 0, 0),
            _Message(body, 0, count, origin=origin),
            _Message(f"{closing};\nCOMMIT", 0, 0),
        ]
    _show(context, 0, count)
    for message in messages:
        try:
            context.backend.execute(message.text)
        except ExecutionFailed as failure:
            raise _atomic_failure(context, message, failure.error) from None


def _opening(context: _Context) -> str:
    """BEGIN, then the file's lock and statement timeouts for its transaction: the file's
    own SET comes after them, so it has the last word."""
    begin = context.backend.begin_sql()
    limits = context.prepared.limits.sql()
    return f"{begin};\n{limits};\n" if limits else f"{begin};\n"


def _body(sql: ParsedSql) -> tuple[str | bytes, int]:
    """The file's text to send, and where it starts in the file.

    From the first statement to the end of the last: everything between them
    (comments, semicolons) goes too. A big file not wrapped in its own
    BEGIN/COMMIT is sent whole (outside its statements there are only
    comments), as its bytes when it has them: slicing 50 MB would hold it twice.
    """
    statements = sql.statements
    if sql.raw is not None:
        return sql.raw, 0
    if not sql.wrapped and len(sql.text) > BIG_STATEMENT:
        return sql.text, 0
    if not statements:
        return "", 0
    return sql.text[statements[0].start : statements[-1].end], statements[0].start


def _atomic_failure(context: _Context, message: _Message, error: StatementError) -> Exception:
    step = context.step
    state = (
        f"Nothing of {step.label} was applied: its transaction was rolled back and the "
        f"database is still at {describe_version(step.before)} (clean)."
    )
    index = _failed_statement(message, error)
    if index is None and message.count and (error.sqlstate or "").startswith("23"):
        index = message.first  # a deferred constraint, checked at COMMIT: the file's doing
    if index is None:
        reason, lost = _bookkeeping_reason(context.backend, error)
        _record_failure(context)
        fix = (
            "Remove what releases the lock from the file; another runner may have migrated "
            f"meanwhile, so check `{context.hint('sqlmigrate_version')}`, then run: "
            f"{context.rerun}"
            if lost
            else f"Fix what the file left in its session or transaction, then run: {context.rerun}"
        )
        return MigrationFailedError(
            location=context.sql.location,
            message=f"{step.label} ran, but sqlmigrate could not record it: {reason}",
            sqlstate=None,
            state=state,
            fix=fix,
        )
    _record_failure(context)
    fix = f"Fix the file, then run: {context.rerun}"
    return _failure(context.sql, message, index, error, state, fix)


# -- dirty-flag protocol -------------------------------------------------------------


def _run_dirty_protocol(context: _Context) -> None:
    sql, backend, step = context.sql, context.backend, context.step
    if sql.waits_for_snapshots:
        _wait_for_snapshot_holders(context, None)
    backend.set_version(step.target, dirty=True)
    if context.recorder is not None:
        context.recorder.start(step, context.prepared.sums)
    for number, part in enumerate(sql.parts()):
        if part.waits_for_snapshots:
            try:
                _wait_for_snapshot_holders(context, part)
            except MigrationFailedError:
                backend.restore()
                _record_failure(context)
                raise
        message = _part_message(context, part)
        _show(context, part.first, part.count)
        try:
            backend.execute(message.text)
        except ExecutionFailed as failure:
            backend.restore()
            _record_failure(context)
            index = _failed_statement(message, failure.error)
            state, fix = _dirty_advice(context, part, index)
            first = number == 0 and _all_or_nothing(sql, part)
            raise _failure(
                sql, message, index or part.first, failure.error, state, fix, nothing_ran=first
            ) from None
    _close_dirty(context)


def _part_message(context: _Context, part: Part) -> _Message:
    """A part's message: its statements, after the file's timeouts for its transaction.

    Per part, not for the session: no session state is relied on (it does not
    last through transaction pooling). A statement that must run alone gets none:
    it cannot share its message, and the ones that wait (CREATE INDEX
    CONCURRENTLY waits for older transactions) do not queue the site's queries."""
    text = context.sql.text[part.start : part.end]
    limits = context.prepared.limits.sql()
    if not limits or not _takes_limits(context.sql, part):
        return _Message(text, part.first, part.count, 0, part.start)
    prefix = f"{limits};\n"
    return _Message(prefix + text, part.first, part.count, 1, part.start, len(prefix))


_SETS_ISOLATION = re.compile(r"SET\s+(TRANSACTION|SESSION\s+CHARACTERISTICS)\b", re.IGNORECASE)


def _takes_limits(sql: ParsedSql, part: Part) -> bool:
    """False for a statement that runs alone, and for a part that sets its isolation
    level (which must come before any query of its transaction, ours included)."""
    statements = [sql.statements[i] for i in range(part.first, part.first + part.count)]
    if part.count == 1 and statements[0].alone:
        return False
    return not any(
        s.transaction == "begin-with-options" or _SETS_ISOLATION.match(sql.statement_text(s))
        for s in statements
    )


def _all_or_nothing(sql: ParsedSql, part: Part) -> bool:
    """A part whose failure leaves nothing of it: one message of statements that may run
    in a transaction, with no transaction control or CALL (the server's implicit
    transaction rolls all of it back)."""
    statements = [sql.statements[i] for i in range(part.first, part.first + part.count)]
    return not any(s.alone or s.transaction for s in statements)


def _close_dirty(context: _Context) -> None:
    # Put back first, in a message of its own: a file's default_transaction_read_only
    # would otherwise still rule the transaction of the version write.
    context.backend.restore()
    closing = _closing_sql(context, history=False)
    if context.recorder is not None:
        closing += ";\n" + context.recorder.finish_sql()
    try:
        context.backend.execute(closing)
    except ExecutionFailed as failure:
        context.backend.restore()
        reason, lost = _bookkeeping_reason(context.backend, failure.error)
        _record_failure(context)
        raise _unrecorded_dirty(context, reason, lost) from None


def _unrecorded_dirty(context: _Context, reason: str, lost: bool) -> MigrationFailedError:
    step = context.step
    target = describe_version(step.target)
    done = context.hint("sqlmigrate_force", _force_arg(step.target))
    check = (
        f"Another runner may have migrated meanwhile: check "
        f"`{context.hint('sqlmigrate_version')}` first; if it still says {target} (dirty), "
        if lost
        else "If the database matches the file, "
    )
    return MigrationFailedError(
        location=context.sql.location,
        message=f"{step.label} ran to its end, but sqlmigrate could not mark {target} clean: "
        f"{reason}",
        sqlstate=None,
        state=f"Every statement of {step.label} was committed; the database is marked "
        f"{target} (dirty).",
        fix=f"{check}run `{done}`.",
    )


def _dirty_advice(context: _Context, part: Part, index: int | None) -> tuple[str, str]:
    sql, step = context.sql, context.step
    target = describe_version(step.target)
    committed_until = _open_block_part(sql, index) or part
    if committed_until.first == 0:
        kept = "nothing of it was committed"
    else:
        kept = f"the statements before {sql.where(committed_until.start)} were committed and stay"
    if committed_until is not part:
        kept += " (the file's own transaction around the failing statement was rolled back)"
    state = (
        f"{step.label} cannot run in a transaction ({sql.reason}), so it ran in parts: "
        f"{kept}. The database is marked {target} (dirty), as golang-migrate marks it."
    )
    done = context.hint("sqlmigrate_force", _force_arg(step.target))
    undone = context.hint("sqlmigrate_force", _force_arg(step.before))
    fix = (
        f"Finish or undo the rest by hand, then run `{done}` if the database now matches "
        f"{target}, or `{undone}` if it matches {describe_version(step.before)}."
    )
    if part.waits_for_snapshots:
        fix += (
            " A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: drop it with "
            "DROP INDEX CONCURRENTLY before either."
        )
    return state, fix


def _open_block_part(sql: ParsedSql, index: int | None) -> Part | None:
    """The part holding the file's own BEGIN still open at statement ``index``: what ran
    from that part on was inside the transaction the failure rolled back."""
    if index is None:
        return None
    begin: int | None = None
    for position, statement in sql.statements.special_items():
        if position >= index:
            break
        if statement.transaction in ("begin", "begin-with-options"):
            begin = position if begin is None else begin
        elif statement.transaction in ("end", "end-other"):
            begin = None
    if begin is None:
        return None
    return next(p for p in sql.parts() if p.first <= begin < p.first + p.count)


_SNAPSHOT_FIRST_PAUSE = 0.05
_SNAPSHOT_LONGEST_PAUSE = 0.5


def _wait_for_snapshot_holders(context: _Context, part: Part | None) -> None:
    """Wait (bounded) until no session blocked on our lock holds a snapshot; else stop.

    ``part`` None: the file has not started, so stopping leaves nothing behind."""
    backend = context.backend
    deadline = time.monotonic() + backend.wait_timeout
    pause = _SNAPSHOT_FIRST_PAUSE
    while waiters := _snapshot_waiters(context, part):
        left = deadline - time.monotonic()
        if left <= 0:
            raise _deadlock_ahead(context, part, waiters)
        time.sleep(min(pause, left))
        pause = min(pause * 2, _SNAPSHOT_LONGEST_PAUSE)


def _snapshot_waiters(context: _Context, part: Part | None) -> list[str]:
    try:
        return context.backend.snapshot_waiters()
    except (ExecutionFailed, SQLMigrateError) as error:
        reason = (
            context.backend.explain(error.error) if isinstance(error, ExecutionFailed) else error
        )
        raise _deadlock_ahead(context, part, [], f"could not look for them: {reason}") from None


def _deadlock_ahead(
    context: _Context, part: Part | None, waiters: list[str], looked: str = ""
) -> MigrationFailedError:
    sql, step = context.sql, context.step
    statement = (
        sql.statements[part.first]
        if part is not None
        else next(s for s in sql.statements.special() if s.waits_for_snapshots)
    )
    what = statement.no_transaction or "this statement"
    if looked:
        message = (
            f"{what} must not start while a session waits for the migration lock inside "
            f"pg_advisory_lock (it would deadlock with it), and sqlmigrate {looked}"
        )
    else:
        message = (
            f"{what} would deadlock with {'; '.join(waiters)}: it waits for the migration "
            f"lock inside pg_advisory_lock (as the golang-migrate CLI does) and holds a "
            f"snapshot, which a concurrent index build must wait for. Waited "
            f"{context.backend.wait_timeout:g} s for it to go"
        )
    pids = ", ".join(w.split()[1] for w in waiters)
    if part is None:
        state = (
            f"Nothing of {step.label} was run; the database is still at "
            f"{describe_version(step.before)} (clean)."
        )
        fix = (
            f"Stop that process, or cancel its wait with SELECT pg_cancel_backend(pid) for "
            f"pid {pids}, then run: {context.rerun}"
        )
    else:
        state, fix = _dirty_advice(context, part, None)
    return MigrationFailedError(
        location=sql.where(statement.start), message=message, sqlstate=None, state=state, fix=fix
    )


# -- shared -----------------------------------------------------------------------------


def _show(context: _Context, first: int, count: int) -> None:
    if context.sending is None:
        return
    statements = context.sql.statements
    for index in range(first, first + count):
        context.sending(context.sql.statement_text(statements[index]))


def _record_failure(context: _Context) -> None:
    if context.recorder is not None:
        context.recorder.failed(context.step, context.prepared.sums)


def _bookkeeping_reason(backend: Backend, error: StatementError) -> tuple[str, bool]:
    try:
        return backend.explain(error), False
    except LockLostError as lost:
        return str(lost), True


def _failed_statement(message: _Message, error: StatementError) -> int | None:
    """Index in the file of the statement that failed; None: sqlmigrate's own SQL did."""
    if message.count == 0:
        return None
    index = error.statement_index
    if index is None:  # no results at all: the message as a whole failed
        return message.first
    if index < message.skip or index >= message.skip + message.count:
        return None
    return message.first + index - message.skip


def _failure(
    sql: ParsedSql,
    message: _Message,
    index: int,
    error: StatementError,
    state: str,
    fix: str,
    *,
    nothing_ran: bool = True,
) -> MigrationFailedError:
    """``nothing_ran``: nothing of the file stayed (so it may be tried again)."""
    statement = sql.statements[index]
    offset = statement.start
    if error.position is not None:
        at = message.origin + error.position - message.prefix
        if statement.start <= at <= statement.end:
            offset = at
    text = error.message
    for label, extra in (("detail", error.detail), ("hint", error.hint), ("where", error.context)):
        if extra:
            text += f"\n  {label}: {extra}"
    return MigrationFailedError(
        location=sql.where(offset),
        message=text,
        sqlstate=error.sqlstate,
        state=state,
        fix=fix,
        statement=sql.statement_text(statement),
        nothing_ran=nothing_ran,
    )


def _force_arg(version: int | None) -> str:
    return "-1" if version is None else str(version)


def describe_version(version: int | None) -> str:
    return "no version" if version is None else f"version {version}"
