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

from django.db import DEFAULT_DB_ALIAS, connections

from .backends import backend_for
from .backends.base import Backend, VersionState
from .conf import settings
from .exceptions import (
    CommandArgumentError,
    ConfigurationError,
    DirtyError,
    ShortLimitError,
    SQLMigrateError,
)
from .planner import Plan, Step, plan_down, plan_goto, plan_up
from .runner import AppliedMigration, PreparedStep, run_step
from .source import MAX_VERSION, MigrationSource, display_path, load_source, read_sql
from .sql import parse_migration

__all__ = [
    "AppliedMigration",
    "RunResult",
    "VersionState",
    "down",
    "force",
    "goto",
    "up",
    "version",
]

Progress = Callable[[AppliedMigration], None]
Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RunResult:
    applied: tuple[AppliedMigration, ...]
    version_before: int | None
    version_after: int | None

    @property
    def changed(self) -> bool:
        return bool(self.applied)


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a call points: the alias, its folder, the lock timeout."""

    using: str
    directory: Path
    lock_timeout: float

    def hint(self, command: str, *args: str) -> str:
        words = ["python manage.py", command, *args]
        if self.using != DEFAULT_DB_ALIAS:
            words.append(f"--database {self.using}")
        return " ".join(words)


def up(
    steps: int | None = None,
    *,
    using: str = DEFAULT_DB_ALIAS,
    path: Path | None = None,
    lock_timeout: float | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> RunResult:
    """Apply all pending migrations, or the next ``steps`` of them."""
    _check_steps(steps)
    target = _target(using, path, lock_timeout)
    return _migrate(target, lambda source, current: plan_up(source, current, steps), progress, warn)


def down(
    steps: int | None = None,
    *,
    using: str = DEFAULT_DB_ALIAS,
    path: Path | None = None,
    lock_timeout: float | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> RunResult:
    """Roll back ``steps`` migrations; ``steps=None`` rolls back all of them."""
    _check_steps(steps)
    target = _target(using, path, lock_timeout)
    return _migrate(
        target, lambda source, current: plan_down(source, current, steps), progress, warn
    )


def goto(
    version: int,
    *,
    using: str = DEFAULT_DB_ALIAS,
    path: Path | None = None,
    lock_timeout: float | None = None,
    progress: Progress | None = None,
    warn: Warn | None = None,
) -> RunResult:
    """Migrate up or down until the database is at ``version``."""
    if not 0 <= version <= MAX_VERSION:
        raise CommandArgumentError(f"can't read version argument V: {version} is not a version")
    target = _target(using, path, lock_timeout)
    return _migrate(
        target, lambda source, current: plan_goto(source, current, version), progress, warn
    )


def force(
    version: int,
    *,
    using: str = DEFAULT_DB_ALIAS,
    path: Path | None = None,
    lock_timeout: float | None = None,
    warn: Warn | None = None,
) -> VersionState:
    """Write ``version`` clean without running anything (-1: no version), ignoring dirty."""
    if not -1 <= version <= MAX_VERSION:
        raise CommandArgumentError(f"argument V must be >= -1 and <= {MAX_VERSION}, not {version}")
    target = _target(using, path, lock_timeout)
    stored = None if version == -1 else version
    with _locked(target) as backend:
        backend.set_version(stored, dirty=False)
    if stored is not None and warn is not None:
        _warn_unknown_version(target, stored, warn)
    return VersionState(stored, False)


def version(*, using: str = DEFAULT_DB_ALIAS) -> VersionState:
    """The stored version. Takes no lock and creates nothing (unlike the Go CLI)."""
    backend = backend_for(_connection(using), settings.table)
    backend.open()
    return backend.read_version()


# -- internals ----------------------------------------------------------------

Planner = Callable[[MigrationSource, "int | None"], Plan]


def _migrate(
    target: _Target, planner: Planner, progress: Progress | None, warn: Warn | None
) -> RunResult:
    source = load_source(target.directory)
    applied: list[AppliedMigration] = []
    with _locked(target) as backend:
        state = backend.read_version()
        if state.dirty:
            raise DirtyError(state.version, _dirty_fix(target, source, state.version))
        plan = planner(source, state.version)
        prepared = [_prepare(step) for step in plan.steps]
        for item in prepared:
            if item.sql is None and warn is not None:
                warn(_nil_warning(item.step))
            backend.check_session()
            done = run_step(backend, item, target.hint)
            applied.append(done)
            if progress is not None:
                progress(done)
    if plan.shortfall:
        raise ShortLimitError(plan.shortfall, len(applied))
    after = applied[-1].target if applied else state.version
    return RunResult(tuple(applied), state.version, after)


def _prepare(step: Step) -> PreparedStep:
    """Read and parse a step's file: the pre-flight, done for every step first."""
    file = step.file
    if file is None:
        return PreparedStep(step, None, step.label)
    location = display_path(file.path)
    return PreparedStep(step, parse_migration(read_sql(file), location), location)


@contextmanager
def _locked(target: _Target) -> Iterator[Backend]:
    backend = backend_for(_connection(target.using), settings.table)
    backend.open()
    backend.lock(target.lock_timeout)
    try:
        backend.ensure_table()
        yield backend
    finally:
        backend.unlock()


def _connection(using: str):  # type: ignore[no-untyped-def]
    if using not in connections.settings:
        known = ", ".join(sorted(connections.settings)) or "none"
        raise ConfigurationError(
            f"database alias {using!r} is not in DATABASES (known aliases: {known})"
        )
    return connections[using]


def _target(using: str, path: Path | None, lock_timeout: float | None) -> _Target:
    timeout = settings.lock_timeout if lock_timeout is None else lock_timeout
    if not (math.isfinite(timeout) and timeout > 0):
        raise CommandArgumentError(
            f"lock timeout must be a positive number of seconds, not {timeout}"
        )
    directory = Path(path) if path is not None else settings.migrations_dir
    return _Target(using, directory, float(timeout))


def _check_steps(steps: int | None) -> None:
    if steps is not None and not 0 <= steps <= MAX_VERSION:
        raise CommandArgumentError(f"can't read limit argument N: {steps} is not a count")


def _dirty_fix(target: _Target, source: MigrationSource, version: int | None) -> str:
    shown = "-1" if version is None else str(version)
    previous = source.prev(version) if version is not None else None
    options = [f"`{target.hint('sqlmigrate_force', shown)}` if the database now matches it"]
    if version is not None:
        earlier = str(previous.version) if previous else "-1"
        options.append(f"`{target.hint('sqlmigrate_force', earlier)}` if you undid the file")
    return " or ".join(options)


def _nil_warning(step: Step) -> str:
    return (
        f"warning: version {step.migration.version} has no {step.direction} file: nothing to "
        f"run, the version moves on as golang-migrate does"
    )


def _warn_unknown_version(target: _Target, version: int, warn: Warn) -> None:
    try:
        source = load_source(target.directory)
    except SQLMigrateError:
        return
    if version not in source:
        warn(
            f"warning: {target.directory} has no file for version {version}; up, down and "
            f"goto will fail until it does"
        )
