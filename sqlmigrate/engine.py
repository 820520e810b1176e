"""The Python API behind every command: plan, check, lock, apply.

    from sqlmigrate import engine
    result = engine.up()                 # like `migrate up`
    engine.down(1)                       # like `migrate down 1`
    engine.goto(3); engine.force(2)
    state = engine.version()             # VersionState(version=3, dirty=False)

Every function takes keyword-only ``using`` (a DATABASES alias), ``path``
(the migrations folder), ``lock_timeout`` (seconds) and ``progress`` /
``warn`` callbacks, and raises a subclass of SQLMigrateError on failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Unpack

from django.db import DEFAULT_DB_ALIAS

from . import ddl_retry, guards, runner
from .backends import backend_for
from .backends.base import Backend, Dropped, Parse, VersionState
from .batch import batches, run_batch
from .conf import settings
from .exceptions import (
    CommandArgumentError,
    ConfigurationError,
    DirtyError,
    LockLostError,
    MigrationFailedError,
    ShortLimitError,
    SQLMigrateError,
)
from .gcpause import collector_paused
from .history import HistoryView, checksums
from .history_table import HistoryRecorder
from .planner import Plan, Step, plan_down, plan_goto, plan_out_of_order, plan_up
from .runner import AppliedMigration, PreparedStep
from .session import Run, RunOptions, Session, connection_for, open_session
from .source import (
    MAX_VERSION,
    MigrationFile,
    MigrationSource,
    display_path,
    load_source,
    read_migration,
)
from .timeouts import read_directives

__all__ = [
    "AppliedMigration",
    "Dropped",
    "RunOptions",
    "RunResult",
    "VersionState",
    "backfill",
    "down",
    "drop",
    "force",
    "goto",
    "up",
    "version",
    "version_table",
]


@dataclass(frozen=True, slots=True)
class RunResult:
    applied: tuple[AppliedMigration, ...]
    version_before: int | None
    version_after: int | None
    #: with dry_run: what would run, in order, and how
    planned: tuple[PreparedStep, ...] = ()
    #: said instead of running (the database is ahead of the files)
    notice: str | None = None
    #: should_stop asked to stop before every planned migration ran
    stopped: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def up(steps: int | None = None, **options: Unpack[RunOptions]) -> RunResult:
    """Apply all pending migrations, or the next ``steps`` of them."""
    _check_steps(steps)
    rerun = ("sqlmigrate_up", *([str(steps)] if steps is not None else []))
    return _migrate(Run.from_options(options, "up", *rerun), lambda s, v: plan_up(s, v, steps))


def down(steps: int | None = None, **options: Unpack[RunOptions]) -> RunResult:
    """Roll back ``steps`` migrations; ``steps=None`` rolls back all of them."""
    _check_steps(steps)
    rerun = ("sqlmigrate_down", "--all" if steps is None else str(steps))
    run = Run.from_options(options, "down", *rerun)
    return _migrate(run, lambda s, v: plan_down(s, v, steps))


def goto(version: int, **options: Unpack[RunOptions]) -> RunResult:
    """Migrate up or down until the database is at ``version``."""
    if not 0 <= version <= MAX_VERSION:
        raise CommandArgumentError(f"can't read version argument V: {version} is not a version")
    run = Run.from_options(options, "goto", "sqlmigrate_goto", str(version))
    return _migrate(run, lambda s, v: plan_goto(s, v, version))


def force(version: int, **options: Unpack[RunOptions]) -> VersionState:
    """Write ``version`` clean without running anything (-1: no version), ignoring dirty."""
    if not -1 <= version <= MAX_VERSION:
        raise CommandArgumentError(f"argument V must be >= -1 and <= {MAX_VERSION}, not {version}")
    run = Run.from_options(options, "force")
    stored = None if version == -1 else version
    with open_session(run) as session:
        session.ensure_tables()
        sql = session.backend.version_sql(stored, dirty=False)
        if session.history is not None:
            sql += ";\n" + HistoryRecorder(session.history).force_sql(stored)
        session.backend.write(sql)
    if stored is not None:
        _warn_unknown_version(run, stored)
    return VersionState(stored, False)


def backfill(**options: Unpack[RunOptions]) -> int:
    """Record the files' checksums for applied versions that have no history (adoption)."""
    run = Run.from_options(options, "backfill")
    source = load_source(run.directory)
    with open_session(run) as session:
        if session.history is None:
            raise ConfigurationError("SQLMIGRATE_HISTORY_TABLE is off: there is no history to fill")
        session.ensure_tables()
        state = session.backend.read_version()
        view = session.history.load()
        rows = session.history.backfill_sql(source, view, state.version)
        if rows:
            session.backend.write(";\n".join(rows))
    return len(rows)


def version(*, using: str = DEFAULT_DB_ALIAS, lock_timeout: float | None = None) -> VersionState:
    """The stored version. Takes no lock and creates nothing (unlike the Go CLI).

    ``lock_timeout``: how long to wait for a version table another session locked."""
    backend = backend_for(connection_for(using), settings.table)
    backend.wait_timeout = settings.lock_timeout if lock_timeout is None else lock_timeout
    backend.open()
    return backend.read_version()


# -- internals ----------------------------------------------------------------

Planner = Callable[[MigrationSource, "int | None"], Plan]


def _migrate(run: Run, planner: Planner) -> RunResult:
    source = load_source(run.directory)
    parsed: ParseCache = {}
    with open_session(run, lock=False) as session:
        if not run.dry_run:
            _preflight(run, session, source, planner, parsed)
            session.take_lock()
        state = session.backend.read_version()
        if state.dirty:
            fix = _dirty_fix(run, source, state.version)
            raise DirtyError(state.version, fix, session.backend.unlocked_cli_note)
        view, observed = _history_view(session, source, state.version)
        if run.kind == "up" and guards.is_ahead(source, view, state.version):
            return _ahead(run, source, state.version)
        plan = planner(source, state.version)
        steps = [*_late_steps(run, source, view, state.version), *plan.steps]
        if steps and session.history is not None and view.exists:
            # Drift matters when something is about to run on top of it.
            _check_drift(run, source, session.history.load(), state.version)
        parse = session.backend.parse
        with collector_paused():
            prepared = [_prepare(step, parsed, parse, sums=not run.dry_run) for step in steps]
        if run.dry_run:
            return RunResult((), state.version, state.version, planned=tuple(prepared))
        # Every check passed: from here on the run writes.
        session.ensure_tables(history_read=view.exists)
        if observed:
            session.backend.write(";\n".join(observed))
        applied = _apply(run, session, prepared)
    stopped = len(applied) < len(prepared)
    if plan.shortfall and not stopped:
        raise ShortLimitError(plan.shortfall, len(applied))
    after = applied[-1].target if applied else state.version
    return RunResult(tuple(applied), state.version, after, stopped=stopped)


def _preflight(
    run: Run, session: Session, source: MigrationSource, planner: Planner, parsed: ParseCache
) -> None:
    """Read and parse, before the lock, the files the run will most likely need.

    The plan comes from the version as read now, without the lock; under the
    lock it is made again, and only files this guess missed are parsed there.
    A bad file is reported here, before the lock is taken and before anything
    is written; a state this read cannot plan from is left to the locked read.
    """
    state = session.backend.read_version()
    if state.dirty:
        return
    try:
        steps = planner(source, state.version).steps
    except SQLMigrateError:
        return
    with collector_paused():
        for step in steps:
            _prepare(step, parsed, session.backend.parse, sums=True)


def _apply(run: Run, session: Session, prepared: list[PreparedStep]) -> list[AppliedMigration]:
    recorder = HistoryRecorder(session.history) if session.history is not None else None
    backend, rerun = session.backend, run.hint(*run.rerun)
    applied: list[AppliedMigration] = []

    def done(migration: AppliedMigration) -> None:
        applied.append(migration)
        if run.progress is not None:
            run.progress(migration)

    def one(item: PreparedStep) -> AppliedMigration:
        return runner.run_context(
            runner.context(backend, item, run.hint, recorder, rerun, run.sending)
        )

    def stopping() -> bool:
        # like golang-migrate on SIGINT: the running migration finished, no more
        return bool(applied) and run.should_stop is not None and run.should_stop()

    for group in batches(backend, prepared):
        if stopping():
            break
        for item in group:
            if item.sql is None:
                run.say(_nil_warning(item.step))
        backend.check_session()
        if run.starting is not None:
            run.starting(group[0].step.label)
        # Statement and lock timeouts around a file's statements: PostgreSQL's, so far.
        limited = backend.vendor == "postgresql"
        items = [ddl_retry.with_limits(item, run.limits) if limited else item for item in group]
        try:
            rest = (
                _run_batch(items, backend, recorder, run, rerun, done) if len(items) > 1 else items
            )
            for item in rest:
                if item is not rest[0] and stopping():
                    break
                done(
                    ddl_retry.run_with_retries(backend, item, one, run.say, rerun, run.should_stop)
                )
        except LockLostError as error:
            raise LockLostError(_lost_during(run, group, error)) from None
    return applied


def _run_batch(
    items: list[PreparedStep],
    backend: Backend,
    recorder: HistoryRecorder | None,
    run: Run,
    rerun: str,
    done: Callable[[AppliedMigration], None],
) -> list[PreparedStep]:
    """Run ``items`` in one message; what is left to run one by one: nothing, or, after a
    lock timeout, the migration that waited and those after it (retried as alone)."""
    finished: list[AppliedMigration] = []

    def report(migration: AppliedMigration) -> None:
        finished.append(migration)
        done(migration)

    contexts = [runner.context(backend, i, run.hint, recorder, rerun, run.sending) for i in items]
    try:
        run_batch(contexts, report)
    except MigrationFailedError as failure:
        if failure.sqlstate != ddl_retry.LOCK_NOT_AVAILABLE:
            raise
        return items[len(finished) :]
    return []


def _history_view(
    session: Session, source: MigrationSource, current: int | None
) -> tuple[HistoryView, list[str]]:
    """History as of now, counting what changed without sqlmigrate, and the rows
    that record that change (written only if the run goes ahead)."""
    history = session.history
    if history is None or not session.backend.table_exists(history.table):
        return HistoryView(), []
    return history.observe(history.load(full=False), current, source)


def _ahead(run: Run, source: MigrationSource, current: int | None) -> RunResult:
    assert current is not None
    notice = guards.ahead_notice(source, current)
    if run.strict:
        ahead = notice.removesuffix(": nothing to do")
        raise SQLMigrateError(
            f"no migration found for version {current}: {ahead}; strict mode "
            f"(--strict or SQLMIGRATE_STRICT) makes that an error"
        )
    return RunResult((), current, current, notice=notice)


def _check_drift(run: Run, source: MigrationSource, view: HistoryView, current: int | None) -> None:
    drifts = guards.find_drift(source, view, current)
    if drifts and not run.allow_drift:
        raise guards.drift_error(drifts)
    for drift in drifts:
        run.say(f"warning: {drift.describe()} (allowed)")


def _late_steps(
    run: Run, source: MigrationSource, view: HistoryView, current: int | None
) -> list[Step]:
    if run.kind != "up" or current is None:
        return []
    late = guards.find_out_of_order(source, view, current)
    if late and not run.allow_out_of_order:
        raise guards.out_of_order_error(late, current)
    return plan_out_of_order(late, current)


ParseCache = dict[MigrationFile, PreparedStep]


def _prepare(step: Step, parsed: ParseCache, parse: Parse, *, sums: bool) -> PreparedStep:
    """Read and parse a step's file (with the vendor's ``parse``): the pre-flight, done
    for every step first.

    ``sums``: also hash the file for its history row (dry runs record nothing).
    A file is read and parsed once per run (``parsed``), whichever steps use it.
    """
    file = step.file
    if file is None:
        return PreparedStep(step, None, step.label)
    known = parsed.get(file)
    if known is not None and (known.sums is not None or not sums):
        return PreparedStep(step, known.sql, known.location, known.sums, known.directives)
    location = display_path(file.location)
    data, text = read_migration(file)
    hashed = checksums(data, text) if sums else None
    sql = parse(text, location)
    directives = tuple(read_directives(text, location).items())
    # A big data file should not be held twice while it runs: as bytes when
    # they are its text exactly (ASCII, no BOM), else as text. Sent whole (what lies
    # outside its statements is comments), so not when its own BEGIN/COMMIT wrap it.
    big = sql.atomic and not sql.wrapped and len(data) > runner.BIG_STATEMENT
    if big and len(data) == len(text) and data.isascii():
        sql = sql.as_bytes(data)
    prepared = PreparedStep(step, sql, location, hashed, directives)
    parsed[file] = prepared
    return prepared


def _check_steps(steps: int | None) -> None:
    if steps is not None and not 0 <= steps <= MAX_VERSION:
        raise CommandArgumentError(f"can't read limit argument N: {steps} is not a count")


def _dirty_fix(run: Run, source: MigrationSource, version: int | None) -> str:
    shown = "-1" if version is None else str(version)
    options = [f"`{run.hint('sqlmigrate_force', shown)}` if the database now matches it"]
    if version is not None:
        earlier = [m.version for m in source if m.version < version]
        undone = str(earlier[-1]) if earlier else "-1"
        options.append(f"`{run.hint('sqlmigrate_force', undone)}` if you undid the file")
    elif len(source):
        # -1 dirty: the first migration's down failed; undone, that version is back
        first = str(next(iter(source)).version)
        options.append(f"`{run.hint('sqlmigrate_force', first)}` if you undid the file")
    return " or ".join(options)


def _lost_during(run: Run, group: list[PreparedStep], error: LockLostError) -> str:
    item = group[0]
    if item.sql is not None and not item.sql.atomic:
        after = "it is marked dirty: finish or undo it by hand, then sqlmigrate_force"
    elif len(group) == 1:
        after = "it ran in one transaction, so it either committed whole or left nothing"
    else:
        item = group[-1]
        after = (
            f"they ran in one message from {group[0].step.label}, each in its own "
            f"transaction, so each either committed whole or left nothing"
        )
    return (
        f"{error}\nThis happened while running {item.step.label}; {after}. "
        f"Run `{run.hint('sqlmigrate_version')}` to see where the database is."
    )


def _nil_warning(step: Step) -> str:
    return (
        f"warning: version {step.migration.version} has no {step.direction} file: nothing to "
        f"run, the version moves on as golang-migrate does"
    )


def _warn_unknown_version(run: Run, version: int) -> None:
    try:
        source = load_source(run.directory)
    except SQLMigrateError:
        return
    if version not in source:
        run.say(
            f"warning: {run.directory} has no file for version {version}; up, down and "
            f"goto will fail until it does"
        )


# -- added for the command line (drop, force's report) ---------------------------------


def drop(**options: Unpack[RunOptions]) -> Dropped:
    """golang-migrate's ``drop``: everything in the version table's schema, under the lock.

    No confirmation here: the command asks. The version and history tables go
    too; the next run creates them again, as after the Go CLI's ``drop``.
    """
    run = Run.from_options(options, "drop")
    if run.dry_run:
        raise CommandArgumentError("drop has no dry run")
    with open_session(run) as session:
        return session.backend.drop_everything()


def version_table(*, using: str = DEFAULT_DB_ALIAS) -> str:
    """The version table as messages name it, e.g. ``public.schema_migrations``."""
    backend = backend_for(connection_for(using), settings.table)
    backend.open()
    return backend.table_label
