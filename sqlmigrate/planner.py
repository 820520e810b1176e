"""Which migrations a command runs, by golang-migrate's rules. Pure: no I/O.

The rules are those of golang-migrate's ``readUp``, ``readDown`` and
``read``: a version with only one file is still a step (a "nil migration"
that moves the version and runs nothing), ``up N``/``down N`` past the end
take what exists and then report ``limit K short``, and a down step's
target is the previous version, or no version at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from .exceptions import FileNotExistError, VersionNotFoundError
from .source import Direction, Migration, MigrationFile, MigrationSource


@dataclass(frozen=True, slots=True)
class Step:
    migration: Migration
    direction: Direction
    #: the version before the step and the version it leaves (None: no version)
    before: int | None
    target: int | None
    #: an older, never-applied file run without moving the version back
    out_of_order: bool = False

    @property
    def file(self) -> MigrationFile | None:
        return self.migration.file(self.direction)

    @property
    def label(self) -> str:
        if self.file is not None:
            return self.file.name + (" (out of order)" if self.out_of_order else "")
        return f"{self.migration.version}_{self.migration.identifier} (no {self.direction} file)"


@dataclass(frozen=True, slots=True)
class Plan:
    steps: tuple[Step, ...]
    #: golang-migrate's ErrShortLimit: steps asked for that do not exist
    shortfall: int = 0


def plan_up(source: MigrationSource, current: int | None, limit: int | None = None) -> Plan:
    """``migrate up [N]``; ``limit=None`` applies everything pending."""
    _check_known(source, current)
    if limit == 0:
        return Plan(())
    steps: list[Step] = []
    upcoming = source.first() if current is None else source.next(current)
    while upcoming is not None and (limit is None or len(steps) < limit):
        before = steps[-1].target if steps else current
        steps.append(Step(upcoming, "up", before, upcoming.version))
        upcoming = source.next(upcoming.version)
    if not steps and (limit is not None or current is None):
        raise _nothing_to_step_to(source, current, "up")
    return Plan(tuple(steps), _shortfall(limit, steps))


def plan_down(source: MigrationSource, current: int | None, limit: int | None = None) -> Plan:
    """``migrate down [N]``; ``limit=None`` rolls everything back (``down -all``)."""
    _check_known(source, current)
    if limit == 0 or (current is None and limit is None):
        return Plan(())
    if current is None:
        raise _nothing_to_step_to(source, current, "down")
    steps: list[Step] = []
    migration = source.get(current)
    while migration is not None and (limit is None or len(steps) < limit):
        previous = source.prev(migration.version)
        target = previous.version if previous else None
        steps.append(Step(migration, "down", migration.version, target))
        migration = previous
    return Plan(tuple(steps), _shortfall(limit, steps))


def plan_goto(source: MigrationSource, current: int | None, target: int) -> Plan:
    """``migrate goto V``: up or down until the version is V."""
    _check_known(source, current)
    if target not in source:
        raise VersionNotFoundError(target, source.directory, in_database=False)
    if current == target:
        return Plan(())
    if current is None or current < target:
        return plan_up(source, current, _distance(source, current, target))
    return plan_down(source, current, _distance(source, target, current))


def plan_out_of_order(migrations: list[Migration], current: int) -> list[Step]:
    """Steps for late files: each runs its up file and leaves the version at ``current``."""
    return [Step(m, "up", current, current, out_of_order=True) for m in migrations]


def _distance(source: MigrationSource, low: int | None, high: int) -> int:
    versions = [m.version for m in source]
    start = 0 if low is None else versions.index(low) + 1
    return versions.index(high) + 1 - start


def _check_known(source: MigrationSource, current: int | None) -> None:
    if current is not None and current not in source:
        raise VersionNotFoundError(current, source.directory, in_database=True)


def _shortfall(limit: int | None, steps: list[Step]) -> int:
    return 0 if limit is None else limit - len(steps)


def _nothing_to_step_to(
    source: MigrationSource, current: int | None, direction: Direction
) -> FileNotExistError:
    if direction == "up" and current is None and source.first() is None:
        return FileNotExistError(
            f"first .: file does not exist: {source.directory} has no migration files"
        )
    if direction == "down":
        return FileNotExistError("file does not exist: the database has no version to undo")
    return FileNotExistError(
        f"file does not exist: version {current} is the last migration; nothing to apply"
    )
