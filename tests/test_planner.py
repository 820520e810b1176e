"""Which migrations up/down/goto run: golang-migrate's own tables (spec §9.1), ported.

The source is golang-migrate's stub S, written as files:

    |  1  |  -  |  3  |  4  |  5  |  -  |  7  |
    | u d |  -  | u   | u d |   d |  -  | u d |

Go's NilVersion (-1) is None here; its ErrNoChange is an empty plan, its
ErrShortLimit a plan's shortfall, its ErrNotExist either VersionNotFoundError
(a version no file has) or FileNotExistError (no migration to step to).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqlmigrate.exceptions import FileNotExistError, VersionNotFoundError
from sqlmigrate.planner import Plan, plan_down, plan_goto, plan_up
from sqlmigrate.source import MigrationSource, load_source, read_sql

STUB = {
    "1_one.up.sql": "CREATE 1",
    "1_one.down.sql": "DROP 1",
    "3_three.up.sql": "CREATE 3",
    "4_four.up.sql": "CREATE 4",
    "4_four.down.sql": "DROP 4",
    "5_five.down.sql": "DROP 5",
    "7_seven.up.sql": "CREATE 7",
    "7_seven.down.sql": "DROP 7",
}

Row = tuple[int, str, int | None, int | None]  # version, direction, before, target


@dataclass(frozen=True)
class Missing:
    """VersionNotFoundError for this version."""

    version: int


NO_STEP = "FileNotExistError"


def ups(start: int | None, *versions: int) -> list[Row]:
    rows: list[Row] = []
    before = start
    for version in versions:
        rows.append((version, "up", before, version))
        before = version
    return rows


def downs(*pairs: tuple[int, int | None]) -> list[Row]:
    return [(version, "down", version, target) for version, target in pairs]


def ok(rows: list[Row], shortfall: int = 0) -> tuple[list[Row], int]:
    return rows, shortfall


NO_CHANGE = ok([])
ALL_DOWN = downs((7, 5), (5, 4), (4, 3), (3, 1), (1, None))


def outcome(make_plan: Callable[[], Plan]) -> object:
    try:
        plan = make_plan()
    except VersionNotFoundError as error:
        return Missing(error.version)
    except FileNotExistError:
        return NO_STEP
    rows = [(s.migration.version, s.direction, s.before, s.target) for s in plan.steps]
    return rows, plan.shortfall


def write_stub(folder: Path) -> MigrationSource:
    for name, text in STUB.items():
        (folder / name).write_text(text, encoding="utf-8")
    return load_source(folder)


@pytest.fixture
def source(tmp_path: Path) -> MigrationSource:
    return write_stub(tmp_path)


@pytest.fixture
def empty(tmp_path: Path) -> MigrationSource:
    return load_source(tmp_path)


def bodies(plan: Plan) -> list[str]:
    """What a run of the plan sends: nil steps (no file) send nothing."""
    return [read_sql(step.file) for step in plan.steps if step.file is not None]


def apply(plan: Plan, current: int | None) -> int | None:
    return plan.steps[-1].target if plan.steps else current


# TestRead: m.read(from, to); to = -1 (nil) is `down -all`, goto cannot reach nil.
MISSING_FROM = [(f, t, Missing(f)) for f in (0, 2, 6, 8) for t in (None, *range(9))]
READ = [
    (None, None, NO_CHANGE),
    (None, 0, Missing(0)),
    (None, 1, ok(ups(None, 1))),
    (None, 2, Missing(2)),
    (None, 3, ok(ups(None, 1, 3))),
    (None, 4, ok(ups(None, 1, 3, 4))),
    (None, 5, ok(ups(None, 1, 3, 4, 5))),
    (None, 6, Missing(6)),
    (None, 7, ok(ups(None, 1, 3, 4, 5, 7))),
    (None, 8, Missing(8)),
    (1, None, ok(downs((1, None)))),
    (1, 0, Missing(0)),
    (1, 1, NO_CHANGE),
    (1, 2, Missing(2)),
    (1, 3, ok(ups(1, 3))),
    (1, 4, ok(ups(1, 3, 4))),
    (1, 5, ok(ups(1, 3, 4, 5))),
    (1, 6, Missing(6)),
    (1, 7, ok(ups(1, 3, 4, 5, 7))),
    (1, 8, Missing(8)),
    (3, None, ok(downs((3, 1), (1, None)))),
    (3, 0, Missing(0)),
    (3, 1, ok(downs((3, 1)))),
    (3, 2, Missing(2)),
    (3, 3, NO_CHANGE),
    (3, 4, ok(ups(3, 4))),
    (3, 5, ok(ups(3, 4, 5))),
    (3, 6, Missing(6)),
    (3, 7, ok(ups(3, 4, 5, 7))),
    (3, 8, Missing(8)),
    (4, None, ok(downs((4, 3), (3, 1), (1, None)))),
    (4, 0, Missing(0)),
    (4, 1, ok(downs((4, 3), (3, 1)))),
    (4, 2, Missing(2)),
    (4, 3, ok(downs((4, 3)))),
    (4, 4, NO_CHANGE),
    (4, 5, ok(ups(4, 5))),
    (4, 6, Missing(6)),
    (4, 7, ok(ups(4, 5, 7))),
    (4, 8, Missing(8)),
    (5, None, ok(downs((5, 4), (4, 3), (3, 1), (1, None)))),
    (5, 0, Missing(0)),
    (5, 1, ok(downs((5, 4), (4, 3), (3, 1)))),
    (5, 2, Missing(2)),
    (5, 3, ok(downs((5, 4), (4, 3)))),
    (5, 4, ok(downs((5, 4)))),
    (5, 5, NO_CHANGE),
    (5, 6, Missing(6)),
    (5, 7, ok(ups(5, 7))),
    (5, 8, Missing(8)),
    (7, None, ok(ALL_DOWN)),
    (7, 0, Missing(0)),
    (7, 1, ok(ALL_DOWN[:4])),
    (7, 2, Missing(2)),
    (7, 3, ok(ALL_DOWN[:3])),
    (7, 4, ok(ALL_DOWN[:2])),
    (7, 5, ok(ALL_DOWN[:1])),
    (7, 6, Missing(6)),
    (7, 7, NO_CHANGE),
    (7, 8, Missing(8)),
    *MISSING_FROM,
]


@pytest.mark.parametrize(("current", "to", "expected"), READ)
def test_read(
    source: MigrationSource, current: int | None, to: int | None, expected: object
) -> None:
    if to is None:
        assert outcome(lambda: plan_down(source, current)) == expected
    else:
        assert outcome(lambda: plan_goto(source, current, to)) == expected


# TestReadUp: m.readUp(from, limit); limit -1 (everything) is None.
READ_UP = [
    (None, None, ok(ups(None, 1, 3, 4, 5, 7))),
    (None, 0, NO_CHANGE),
    (None, 1, ok(ups(None, 1))),
    (None, 2, ok(ups(None, 1, 3))),
    (1, None, ok(ups(1, 3, 4, 5, 7))),
    (1, 0, NO_CHANGE),
    (1, 1, ok(ups(1, 3))),
    (1, 2, ok(ups(1, 3, 4))),
    (3, None, ok(ups(3, 4, 5, 7))),
    (3, 0, NO_CHANGE),
    (3, 1, ok(ups(3, 4))),
    (3, 2, ok(ups(3, 4, 5))),
    (4, None, ok(ups(4, 5, 7))),
    (4, 0, NO_CHANGE),
    (4, 1, ok(ups(4, 5))),
    (4, 2, ok(ups(4, 5, 7))),
    (5, None, ok(ups(5, 7))),
    (5, 0, NO_CHANGE),
    (5, 1, ok(ups(5, 7))),
    (5, 2, ok(ups(5, 7), 1)),
    (7, None, NO_CHANGE),
    (7, 0, NO_CHANGE),
    (7, 1, NO_STEP),
    (7, 2, NO_STEP),
    *[(f, n, Missing(f)) for f in (0, 2, 6, 8) for n in (None, 0, 1, 2)],
]


@pytest.mark.parametrize(("current", "limit", "expected"), READ_UP)
def test_read_up(
    source: MigrationSource, current: int | None, limit: int | None, expected: object
) -> None:
    assert outcome(lambda: plan_up(source, current, limit)) == expected


# TestReadDown: m.readDown(from, limit).
READ_DOWN = [
    (None, None, NO_CHANGE),
    (None, 0, NO_CHANGE),
    (None, 1, NO_STEP),
    (None, 2, NO_STEP),
    (1, None, ok(downs((1, None)))),
    (1, 0, NO_CHANGE),
    (1, 1, ok(downs((1, None)))),
    (1, 2, ok(downs((1, None)), 1)),
    (3, None, ok(downs((3, 1), (1, None)))),
    (3, 0, NO_CHANGE),
    (3, 1, ok(downs((3, 1)))),
    (3, 2, ok(downs((3, 1), (1, None)))),
    (4, None, ok(downs((4, 3), (3, 1), (1, None)))),
    (4, 0, NO_CHANGE),
    (4, 1, ok(downs((4, 3)))),
    (4, 2, ok(downs((4, 3), (3, 1)))),
    (5, None, ok(downs((5, 4), (4, 3), (3, 1), (1, None)))),
    (5, 0, NO_CHANGE),
    (5, 1, ok(downs((5, 4)))),
    (5, 2, ok(downs((5, 4), (4, 3)))),
    (7, None, ok(ALL_DOWN)),
    (7, 0, NO_CHANGE),
    (7, 1, ok(ALL_DOWN[:1])),
    (7, 2, ok(ALL_DOWN[:2])),
    (7, 9, ok(ALL_DOWN, 4)),  # the CLI's `down 9` from the top: all, then `limit 4 short`
    *[(f, n, Missing(f)) for f in (0, 2, 6, 8) for n in (None, 0, 1, 2)],
]


@pytest.mark.parametrize(("current", "limit", "expected"), READ_DOWN)
def test_read_down(
    source: MigrationSource, current: int | None, limit: int | None, expected: object
) -> None:
    assert outcome(lambda: plan_down(source, current, limit)) == expected


# TestMigrate: goto V in sequence from nil -> (version after, or the error; bodies sent).
GOTO_SEQUENCE: list[tuple[int, object, list[str]]] = [
    (0, Missing(0), []),
    (1, 1, ["CREATE 1"]),
    (2, Missing(2), []),
    (3, 3, ["CREATE 3"]),
    (4, 4, ["CREATE 4"]),
    (5, 5, []),  # 5 has no up file
    (6, Missing(6), []),
    (7, 7, ["CREATE 7"]),
    (8, Missing(8), []),
    (6, Missing(6), []),
    (5, 5, ["DROP 7"]),
    (4, 4, ["DROP 5"]),
    (3, 3, ["DROP 4"]),
    (2, Missing(2), []),
    (1, 1, []),  # 3 has no down file
    (0, Missing(0), []),
    (7, 7, ["CREATE 3", "CREATE 4", "CREATE 7"]),
    (1, 1, ["DROP 7", "DROP 5", "DROP 4"]),
    (1, 1, []),  # ErrNoChange
]


def test_migrate_goto_sequence(source: MigrationSource) -> None:
    current: int | None = None
    for index, (target, expected, sent) in enumerate(GOTO_SEQUENCE):
        if isinstance(expected, Missing):
            with pytest.raises(VersionNotFoundError) as caught:
                plan_goto(source, current, target)
            assert caught.value.version == expected.version, index
            continue
        plan = plan_goto(source, current, target)
        assert (bodies(plan), plan.shortfall) == (sent, 0), index
        current = apply(plan, current)
        assert current == expected, index


# TestSteps: Steps(n) in sequence from nil -> (version after, shortfall or error; bodies sent).
STEPS_SEQUENCE: list[tuple[int, int | None, object, list[str]]] = [
    (0, None, 0, []),  # ErrNoChange
    (-1, None, NO_STEP, []),
    (1, 1, 0, ["CREATE 1"]),
    (1, 3, 0, ["CREATE 3"]),
    (1, 4, 0, ["CREATE 4"]),
    (1, 5, 0, []),
    (1, 7, 0, ["CREATE 7"]),
    (1, 7, NO_STEP, []),
    (-1, 5, 0, ["DROP 7"]),
    (-1, 4, 0, ["DROP 5"]),
    (-1, 3, 0, ["DROP 4"]),
    (-1, 1, 0, []),
    (-1, None, 0, ["DROP 1"]),
    (4, 5, 0, ["CREATE 1", "CREATE 3", "CREATE 4"]),
    (2, 7, 1, ["CREATE 7"]),  # ErrShortLimit{1} after applying 7
    (-4, 1, 0, ["DROP 7", "DROP 5", "DROP 4"]),
    (-2, None, 1, ["DROP 1"]),  # ErrShortLimit{1} after applying 1
]


def steps(source: MigrationSource, current: int | None, n: int) -> Plan:
    if n >= 0:
        return plan_up(source, current, n)
    return plan_down(source, current, -n)


def test_steps_sequence(source: MigrationSource) -> None:
    current: int | None = None
    for index, (n, version, result, sent) in enumerate(STEPS_SEQUENCE):
        if result == NO_STEP:
            with pytest.raises(FileNotExistError):
                steps(source, current, n)
            assert current == version, index
            continue
        plan = steps(source, current, n)
        assert (bodies(plan), plan.shortfall) == (sent, result), index
        current = apply(plan, current)
        assert current == version, index


def test_up_and_down(source: MigrationSource) -> None:
    """TestUpAndDown: Up, Down, Steps(1), Up, Steps(-1), Down."""
    sent: list[str] = []
    current: int | None = None
    for make_plan in [
        lambda v: plan_up(source, v),
        lambda v: plan_down(source, v),
        lambda v: plan_up(source, v, 1),
        lambda v: plan_up(source, v),
        lambda v: plan_down(source, v, 1),
        lambda v: plan_down(source, v),
    ]:
        plan = make_plan(current)
        sent += bodies(plan)
        current = apply(plan, current)
    assert sent == [
        *["CREATE 1", "CREATE 3", "CREATE 4", "CREATE 7", "DROP 7", "DROP 5", "DROP 4", "DROP 1"],
        *["CREATE 1", "CREATE 3", "CREATE 4", "CREATE 7", "DROP 7", "DROP 5", "DROP 4", "DROP 1"],
    ]
    assert current is None


class TestNilSteps:
    def test_up_to_a_version_without_up_file(self, source: MigrationSource) -> None:
        (step,) = plan_up(source, 4, 1).steps
        assert (step.file, step.label) == (None, "5_five (no up file)")
        assert (step.before, step.target) == (4, 5)

    def test_down_from_a_version_without_down_file(self, source: MigrationSource) -> None:
        (step,) = plan_down(source, 3, 1).steps
        assert (step.file, step.label) == (None, "3_three (no down file)")
        assert (step.before, step.target) == (3, 1)

    def test_steps_with_files(self, source: MigrationSource) -> None:
        up, down = plan_up(source, None, 1).steps[0], plan_down(source, 1, 1).steps[0]
        assert up.file is not None
        assert down.file is not None
        assert (up.file.name, up.label) == ("1_one.up.sql", "1_one.up.sql")
        assert (down.file.name, down.label) == ("1_one.down.sql", "1_one.down.sql")

    def test_down_of_the_first_version_leaves_no_version(self, source: MigrationSource) -> None:
        (step,) = plan_down(source, 1).steps
        assert (step.direction, step.before, step.target) == ("down", 1, None)


class TestMessages:
    def test_up_at_the_top_is_no_change(self, source: MigrationSource) -> None:
        assert plan_up(source, 7) == Plan(())

    @pytest.mark.parametrize(
        "make_plan",
        [
            pytest.param(lambda s: plan_up(s, 7, 1), id="up 1 at the top"),
            pytest.param(lambda s: plan_down(s, None, 1), id="down 1 at nil"),
        ],
    )
    def test_file_does_not_exist(
        self, source: MigrationSource, make_plan: Callable[[MigrationSource], Plan]
    ) -> None:
        with pytest.raises(FileNotExistError) as caught:
            make_plan(source)
        assert str(caught.value).startswith("file does not exist")

    @pytest.mark.parametrize("limit", [None, 1, 2])
    def test_up_in_an_empty_folder(self, empty: MigrationSource, limit: int | None) -> None:
        with pytest.raises(FileNotExistError) as caught:
            plan_up(empty, None, limit)
        assert str(caught.value).startswith("first .: file does not exist")

    def test_down_1_in_an_empty_folder(self, empty: MigrationSource) -> None:
        with pytest.raises(FileNotExistError) as caught:
            plan_down(empty, None, 1)
        assert str(caught.value).startswith("file does not exist")

    @pytest.mark.parametrize(
        "make_plan",
        [
            pytest.param(lambda s: plan_down(s, None), id="down -all"),
            pytest.param(lambda s: plan_down(s, None, 0), id="down 0"),
            pytest.param(lambda s: plan_up(s, None, 0), id="up 0"),
        ],
    )
    def test_empty_folder_no_change(
        self, empty: MigrationSource, make_plan: Callable[[MigrationSource], Plan]
    ) -> None:
        assert make_plan(empty) == Plan(())

    def test_goto_in_an_empty_folder(self, empty: MigrationSource) -> None:
        with pytest.raises(VersionNotFoundError) as caught:
            plan_goto(empty, None, 1)
        assert str(caught.value) == (
            f"no migration found for version 1: {empty.directory} has no 1_*.up.* or "
            f"1_*.down.* file"
        )

    @pytest.mark.parametrize(
        "make_plan",
        [
            pytest.param(lambda s: plan_up(s, 2), id="up"),
            pytest.param(lambda s: plan_up(s, 2, 0), id="up 0"),
            pytest.param(lambda s: plan_down(s, 2, 1), id="down 1"),
            pytest.param(lambda s: plan_goto(s, 2, 7), id="goto 7"),
            pytest.param(lambda s: plan_goto(s, 2, 2), id="goto 2"),
        ],
    )
    def test_database_version_without_files(
        self, source: MigrationSource, make_plan: Callable[[MigrationSource], Plan]
    ) -> None:
        with pytest.raises(VersionNotFoundError) as caught:
            make_plan(source)
        assert caught.value.version == 2
        assert str(caught.value) == (
            f"no migration found for version 2: the database is at this version but "
            f"{source.directory} has no 2_*.up.* or 2_*.down.* file"
        )

    def test_goto_a_version_without_files(self, source: MigrationSource) -> None:
        with pytest.raises(VersionNotFoundError) as caught:
            plan_goto(source, 1, 6)
        assert caught.value.version == 6
        assert str(caught.value) == (
            f"no migration found for version 6: {source.directory} has no 6_*.up.* or "
            f"6_*.down.* file"
        )
