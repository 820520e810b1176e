"""What a migration file is once a backend has split it: vendor-free data types.

Each vendor's backend (``backends/<vendor>/``) turns a file's text into a
``ParsedSql``: its statements (offsets into the text, plus the few that are
special for running), whether it can run in one transaction with its version
update, and, if not, the parts it is sent in. The runner only reads these.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import overload

from .source import line_col


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: ``text[start:end]``, without its terminating semicolon."""

    start: int
    end: int
    #: why it cannot run inside a transaction block, or None
    no_transaction: str | None = None
    #: transaction control: "begin", "begin-with-options", "end", "end-other", "other"
    transaction: str | None = None
    #: a CALL (or a DO block in a language we cannot read): it may COMMIT, so outside a
    #: transaction block of the file's own it runs on its own
    calls: bool = False
    #: waits for every older snapshot to go (CREATE INDEX CONCURRENTLY, REINDEX CONCURRENTLY)
    waits_for_snapshots: bool = False

    @property
    def alone(self) -> bool:
        """Sent in a message of its own: a transaction block around it would break it."""
        return self.no_transaction is not None or self.calls

    @property
    def classified(self) -> bool:
        """Anything but a plain statement: a StatementList keeps it as an object."""
        return bool(self.transaction) or self.alone or self.waits_for_snapshots


@dataclass(frozen=True, slots=True)
class Part:
    """Statements of a non-atomic file sent together as one message."""

    start: int
    end: int
    #: index of its first statement, and how many it holds
    first: int
    count: int
    waits_for_snapshots: bool


@dataclass(frozen=True, slots=True)
class ParsedSql:
    """A file ready to run: its text and the statements to send, in order."""

    location: str
    text: str
    statements: StatementList
    #: True: statements + version update run in one transaction
    atomic: bool
    #: for non-atomic files, the first statement that forces the dirty protocol
    reason: str | None = None
    #: the file is exactly one statement (no BEGIN/COMMIT of its own)
    single_statement: bool = False
    #: a big ASCII file kept only as its bytes (``text`` is then empty): sent as
    #: is, so the driver makes no encoded copy of it
    raw: bytes | None = None
    #: the statements are those inside the file's own BEGIN; ... COMMIT;
    wrapped: bool = False

    def full_text(self) -> str:
        return self.raw.decode("ascii") if self.raw is not None else self.text

    def statement_text(self, statement: Statement) -> str:
        return self.full_text()[statement.start : statement.end]

    def where(self, offset: int) -> str:
        """``FILE:LINE:COL`` of a 0-based character offset in the file."""
        line, col = line_col(self.full_text(), offset)
        return f"{self.location}:{line}:{col}"

    def as_bytes(self, data: bytes) -> ParsedSql:
        """This file held as ``data`` (its bytes, ASCII), letting the text go."""
        return replace(self, text="", raw=data)

    @property
    def waits_for_snapshots(self) -> bool:
        return any(s.waits_for_snapshots for s in self.statements.special())

    def parts(self) -> Iterator[Part]:
        """A non-atomic file's messages: runs of statements, and alone each statement
        that a transaction block would break (CONCURRENTLY, VACUUM, CALL, ...).

        A run goes as one message, as golang-migrate sends a whole file, so
        the server gives it the same implicit transaction (a ROLLBACK in it
        undoes what came before it in the run)."""
        statements = self.statements
        alone = {i: s for i, s in statements.special_items() if s.alone}
        first = 0
        for index in [*sorted(alone), len(statements)]:
            if index > first:
                yield self._part(first, index, waits=False)
            if index < len(statements):
                yield self._part(index, index + 1, waits=alone[index].waits_for_snapshots)
            first = index + 1

    def _part(self, first: int, stop: int, *, waits: bool) -> Part:
        start, end = self.statements[first].start, self.statements[stop - 1].end
        return Part(start, end, first, stop - first, waits)


class StatementList(Sequence[Statement]):
    """Statements stored as two arrays of offsets (16 bytes each), plus the few
    that carry a classification; a 50 MB file of INSERTs stays small."""

    def __init__(self) -> None:
        self._starts = array("q")
        self._ends = array("q")
        self._special: dict[int, Statement] = {}
        self._lo, self._hi = 0, 0

    def append(self, statement: Statement) -> None:
        if statement.classified:
            self._special[len(self._starts)] = statement
        self._starts.append(statement.start)
        self._ends.append(statement.end)
        self._hi = len(self._starts)

    def extend(self, starts: Sequence[int], ends: Sequence[int]) -> None:
        """Plain statements in bulk; ``set_classification`` then marks the special ones."""
        self._starts.extend(starts)
        self._ends.extend(ends)
        self._hi = len(self._starts)

    def set_classification(self, index: int, statement: Statement) -> None:
        """Give the statement at ``index`` (added by ``extend``) its classification."""
        if (statement.start, statement.end) != (self._starts[index], self._ends[index]):
            raise ValueError(f"statement {index} is at {self._starts[index]}, not {statement}")
        if statement.classified:
            self._special[index] = statement

    def inner(self) -> StatementList:
        """A view without the first and the last statement (an unwrapped BEGIN/COMMIT)."""
        view = StatementList()
        view._starts, view._ends, view._special = self._starts, self._ends, self._special
        view._lo, view._hi = self._lo + 1, max(self._lo + 1, self._hi - 1)
        return view

    def special(self) -> Iterator[Statement]:
        """The classified statements (transaction control, non-transactional), in order."""
        for _, statement in self.special_items():
            yield statement

    def special_items(self) -> Iterator[tuple[int, Statement]]:
        """(index in this list, statement) of the classified statements, in order."""
        for index in sorted(self._special):
            if self._lo <= index < self._hi:
                yield index - self._lo, self._special[index]

    def spans(self) -> Iterator[tuple[int, int]]:
        """(start, end) of every statement, in order, without making Statement objects."""
        return zip(self._starts[self._lo : self._hi], self._ends[self._lo : self._hi], strict=True)

    def starts(self) -> Sequence[int]:
        return self._starts[self._lo : self._hi]

    def ends(self) -> Sequence[int]:
        return self._ends[self._lo : self._hi]

    def __len__(self) -> int:
        return self._hi - self._lo

    @overload
    def __getitem__(self, index: int) -> Statement: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Statement]: ...
    def __getitem__(self, index: int | slice) -> Statement | Sequence[Statement]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        absolute = self._lo + index
        found = self._special.get(absolute)
        return found or Statement(self._starts[absolute], self._ends[absolute])

    def __iter__(self) -> Iterator[Statement]:
        for index in range(len(self)):
            yield self[index]
