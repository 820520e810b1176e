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

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from . import guards
from .backends import backend_for
from .backends.base import Backend, VersionState
from .backends.postgresql import check_table_name
from .conf import settings
from .exceptions import (
    CommandArgumentError,
    ConfigurationError,
    DirtyError,
    LockLostError,
    ShortLimitError,
    SQLMigrateError,
)
from .history import HistoryRecorder, HistoryTable, HistoryView, checksums
from .planner import Plan, Step, plan_down, plan_goto, plan_out_of_order, plan_up
from .runner import AppliedMigration, PreparedStep, run_step
from .source import MAX_VERSION, MigrationSource, display_path, load_source, read_migration
from .sql import parse_migration

__all__ = [
    "AppliedMigration",
    "RunOptions",
    "RunResult",
    "VersionState",
    "backfill",
    "down",
    "force",
    "goto",
    "up",
    "version",
]

Progress = Callable[[AppliedMigration], None]
Warn = Callable[[str], None]


class RunOptions(TypedDict, total=False):
    """Keyword arguments every run takes; unset ones come from settings."""

    using: str
    path: Path | None
    lock_timeout: float | None
    progress: Progress | None
    warn: Warn | None
    #: plan and pre-flight only: no lock, no writes
    dry_run: bool
    allow_drift: bool | None
    allow_out_of_order: bool | None
    strict: bool | None


@dataclass(frozen=True, slots=True)
class RunResult:
    applied: tuple[AppliedMigration, ...]
    version_before: int | None
    version_after: int | None
    #: with dry_run: what would run, in order, and how
    planned: tuple[PreparedStep, ...] = ()
    #: said instead of running (the database is ahead of the files)
    notice: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def up(steps: int | None = None, **options: Unpack[RunOptions]) -> RunResult:
    """Apply all pending migrations, or the next ``steps`` of them."""
    _check_steps(steps)
    return _migrate(_Run.from_options(options, "up"), lambda s, v: plan_up(s, v, steps))


def down(steps: int | None = None, **options: Unpack[RunOptions]) -> RunResult:
    """Roll back ``steps`` migrations; ``steps=None`` rolls back all of them."""
    _check_steps(steps)
    return _migrate(_Run.from_options(options, "down"), lambda s, v: plan_down(s, v, steps))


def goto(version: int, **options: Unpack[RunOptions]) -> RunResult:
    """Migrate up or down until the database is at ``version``."""
    if not 0 <= version <= MAX_VERSION:
        raise CommandArgumentError(f"can't read version argument V: {version} is not a version")
    return _migrate(_Run.from_options(options, "goto"), lambda s, v: plan_goto(s, v, version))


def force(version: int, **options: Unpack[RunOptions]) -> VersionState:
    """Write ``version`` clean without running anything (-1: no version), ignoring dirty."""
    if not -1 <= version <= MAX_VERSION:
        raise CommandArgumentError(f"argument V must be >= -1 and <= {MAX_VERSION}, not {version}")
    run = _Run.from_options(options, "force")
    stored = None if version == -1 else version
    with _session(run) as session:
        sql = session.backend.version_sql(stored, dirty=False)
        if session.history is not None:
            sql += ";\n" + HistoryRecorder(session.history).force_sql(stored)
        session.backend.execute(sql)
    if stored is not None:
        _warn_unknown_version(run, stored)
    return VersionState(stored, False)


def backfill(**options: Unpack[RunOptions]) -> int:
    """Record the files' checksums for applied versions that have no history (adoption)."""
    run = _Run.from_options(options, "backfill")
    source = load_source(run.directory)
    with _session(run) as session:
        if session.history is None:
            raise ConfigurationError("SQLMIGRATE_HISTORY_TABLE is off: there is no history to fill")
        state = session.backend.read_version()
        view = session.history.load()
        rows = session.history.backfill_sql(source, view, state.version)
        if rows:
            session.backend.execute(";\n".join(rows))
    return len(rows)


def version(*, using: str = DEFAULT_DB_ALIAS) -> VersionState:
    """The stored version. Takes no lock and creates nothing (unlike the Go CLI)."""
    backend = backend_for(_connection(using), settings.table)
    backend.open()
    return backend.read_version()


# -- internals ----------------------------------------------------------------

Planner = Callable[[MigrationSource, "int | None"], Plan]


@dataclass(frozen=True, slots=True)
class _Run:
    """One call's settings, resolved."""

    kind: str
    using: str
    directory: Path
    lock_timeout: float
    progress: Progress | None
    warn: Warn | None
    dry_run: bool
    allow_drift: bool
    allow_out_of_order: bool
    strict: bool

    @classmethod
    def from_options(cls, options: RunOptions, kind: str) -> _Run:
        timeout = options.get("lock_timeout")
        timeout = settings.lock_timeout if timeout is None else timeout
        if not (math.isfinite(timeout) and timeout > 0):
            raise CommandArgumentError(
                f"lock timeout must be a positive number of seconds, not {timeout}"
            )
        path = options.get("path")
        return cls(
            kind=kind,
            using=options.get("using") or DEFAULT_DB_ALIAS,
            directory=Path(path) if path is not None else settings.migrations_dir,
            lock_timeout=float(timeout),
            progress=options.get("progress"),
            warn=options.get("warn"),
            dry_run=bool(options.get("dry_run")),
            allow_drift=_setting(options.get("allow_drift"), settings.allow_drift),
            allow_out_of_order=_setting(
                options.get("allow_out_of_order"), settings.allow_out_of_order
            ),
            strict=_setting(options.get("strict"), settings.strict),
        )

    def hint(self, command: str, *args: str) -> str:
        words = ["python manage.py", command, *args]
        if self.using != DEFAULT_DB_ALIAS:
            words.append(f"--database {self.using}")
        return " ".join(words)

    def say(self, message: str) -> None:
        if self.warn is not None:
            self.warn(message)


def _setting(option: bool | None, default: bool) -> bool:
    return default if option is None else bool(option)


@dataclass(slots=True)
class _Session:
    backend: Backend
    history: HistoryTable | None


def _migrate(run: _Run, planner: Planner) -> RunResult:
    source = load_source(run.directory)
    with _session(run) as session:
        state = session.backend.read_version()
        if state.dirty:
            raise DirtyError(state.version, _dirty_fix(run, source, state.version))
        view = _history_view(run, session, source, state.version)
        if run.kind == "up" and guards.is_ahead(source, view, state.version):
            return _ahead(run, source, state.version)
        _check_drift(run, source, view, state.version)
        plan = planner(source, state.version)
        steps = [*_late_steps(run, source, view, state.version), *plan.steps]
        prepared = [_prepare(step) for step in steps]
        if run.dry_run:
            return RunResult((), state.version, state.version, planned=tuple(prepared))
        applied = _apply(run, session, prepared)
    if plan.shortfall:
        raise ShortLimitError(plan.shortfall, len(applied))
    after = applied[-1].target if applied else state.version
    return RunResult(tuple(applied), state.version, after)


def _apply(run: _Run, session: _Session, prepared: list[PreparedStep]) -> list[AppliedMigration]:
    recorder = HistoryRecorder(session.history) if session.history is not None else None
    applied: list[AppliedMigration] = []
    for item in prepared:
        if item.sql is None:
            run.say(_nil_warning(item.step))
        session.backend.check_session()
        try:
            done = run_step(session.backend, item, run.hint, recorder)
        except LockLostError as error:
            raise LockLostError(_lost_during(run, item, error)) from None
        applied.append(done)
        if run.progress is not None:
            run.progress(done)
    return applied


def _history_view(
    run: _Run, session: _Session, source: MigrationSource, current: int | None
) -> HistoryView:
    if session.history is None:
        return HistoryView()
    if run.dry_run and not session.backend.table_exists(session.history.table):
        return HistoryView()
    view = session.history.load()
    if run.dry_run:
        return view
    return session.history.observe(view, current, source)


def _ahead(run: _Run, source: MigrationSource, current: int | None) -> RunResult:
    assert current is not None
    notice = guards.ahead_notice(source, current)
    if run.strict:
        ahead = notice.removesuffix(": nothing to do")
        raise SQLMigrateError(
            f"no migration found for version {current}: {ahead}; strict mode "
            f"(--strict or SQLMIGRATE_STRICT) makes that an error"
        )
    return RunResult((), current, current, notice=notice)


def _check_drift(
    run: _Run, source: MigrationSource, view: HistoryView, current: int | None
) -> None:
    drifts = guards.find_drift(source, view, current)
    if drifts and not run.allow_drift:
        raise guards.drift_error(drifts)
    for drift in drifts:
        run.say(f"warning: {drift.describe()} (allowed)")


def _late_steps(
    run: _Run, source: MigrationSource, view: HistoryView, current: int | None
) -> list[Step]:
    if run.kind != "up" or current is None:
        return []
    late = guards.find_out_of_order(source, view, current)
    if late and not run.allow_out_of_order:
        raise guards.out_of_order_error(late, current)
    return plan_out_of_order(late, current)


def _prepare(step: Step) -> PreparedStep:
    """Read and parse a step's file: the pre-flight, done for every step first."""
    file = step.file
    if file is None:
        return PreparedStep(step, None, step.label)
    location = display_path(file.path)
    data, text = read_migration(file)
    return PreparedStep(step, parse_migration(text, location), location, checksums(data, text))


@contextmanager
def _session(run: _Run) -> Iterator[_Session]:
    """The backend session of a run: locked, tables ensured (dry runs: neither)."""
    backend = backend_for(_connection(run.using), settings.table)
    backend.open()
    history = _history_table(backend)
    if run.dry_run:
        yield _Session(backend, history)
        return
    backend.lock(run.lock_timeout)
    try:
        backend.ensure_table()
        if history is not None:
            history.ensure()
        yield _Session(backend, history)
    finally:
        backend.unlock()


def _history_table(backend: Backend) -> HistoryTable | None:
    name = settings.history_table
    if name is None:
        return None
    check_table_name(name, "SQLMIGRATE_HISTORY_TABLE")
    qualified, label = backend.qualify(name)
    return HistoryTable(backend, name, qualified, label)


def _connection(using: str) -> BaseDatabaseWrapper:
    if using not in connections.settings:
        known = ", ".join(sorted(connections.settings)) or "none"
        raise ConfigurationError(
            f"database alias {using!r} is not in DATABASES (known aliases: {known})"
        )
    return connections[using]


def _check_steps(steps: int | None) -> None:
    if steps is not None and not 0 <= steps <= MAX_VERSION:
        raise CommandArgumentError(f"can't read limit argument N: {steps} is not a count")


def _dirty_fix(run: _Run, source: MigrationSource, version: int | None) -> str:
    shown = "-1" if version is None else str(version)
    previous = source.prev(version) if version is not None else None
    options = [f"`{run.hint('sqlmigrate_force', shown)}` if the database now matches it"]
    if version is not None:
        earlier = str(previous.version) if previous else "-1"
        options.append(f"`{run.hint('sqlmigrate_force', earlier)}` if you undid the file")
    return " or ".join(options)


def _lost_during(run: _Run, item: PreparedStep, error: LockLostError) -> str:
    if item.sql is not None and not item.sql.atomic:
        after = "it is marked dirty: finish or undo it by hand, then sqlmigrate_force"
    else:
        after = "it ran in one transaction, so it either committed whole or left nothing"
    return (
        f"{error}\nThis happened while running {item.step.label}; {after}. "
        f"Run `{run.hint('sqlmigrate_version')}` to see where the database is."
    )


def _nil_warning(step: Step) -> str:
    return (
        f"warning: version {step.migration.version} has no {step.direction} file: nothing to "
        f"run, the version moves on as golang-migrate does"
    )


def _warn_unknown_version(run: _Run, version: int) -> None:
    try:
        source = load_source(run.directory)
    except SQLMigrateError:
        return
    if version not in source:
        run.say(
            f"warning: {run.directory} has no file for version {version}; up, down and "
            f"goto will fail until it does"
        )
