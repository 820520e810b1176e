"""Statement boundaries of a migration file of any size, in bounded memory.

PostgreSQL's parser (through pglast) needs about twelve times the text's size
while it works, so a 50 MB data migration would need 600 MB at once. The
text is therefore parsed a window at a time, cut where guessing.py proves a
guess (no scan), or else where the scanner (cheap, and it knows
strings, dollar quotes and comments) finds a statement boundary near the end
of the window, and the parser checks and splits the text up to it. Where the
scanner's boundary falls inside a ``BEGIN ATOMIC`` body (which only the
parser understands), the window grows until the body fits.

A statement longer than ``GIANT`` (a huge ``INSERT ... VALUES``) is walked
token by token, a slice at a time, to its semicolon: it is checked by the
scanner only, so a syntax error inside it surfaces when the server runs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pglast import parser as pg_parser

from .guessing import guessed_window

WINDOW = 1 << 20
#: a statement longer than this is walked by tokens instead of parsed
GIANT = 8 << 20
#: how much of a giant statement the scanner takes at a time
SCAN_STEP = 256 << 10
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


class SplitError(Exception):
    """The parser or scanner refused the text at ``offset`` (file coordinates)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def split_windows(text: str) -> Iterator[tuple[int, Sequence[slice]]]:
    """The statements a window at a time, in order: (offset, slices of
    ``text[offset:]``), one slice a statement; raises SplitError.

    Every turn of the loop moves ``pos`` forward or grows ``size`` towards the
    rest of the text, so it ends on any input.
    """
    pos, total, size = 0, len(text), WINDOW
    while pos < total:
        guessed = guessed_window(text, pos, size)
        if guessed is not None:
            cut, proved = guessed
            yield pos, proved
            _check_progress(pos, cut)
            pos, size = cut, WINDOW
            continue
        end = _cut(text, pos, size)
        if end is None and not _is_data(text, pos):
            # Only the parser knows where a giant CREATE FUNCTION ... BEGIN ATOMIC
            # ends: the rest of the text goes to it whole, whatever it costs.
            end = total
        if end is None:  # the next statement is a giant data statement
            start, stop, after = _giant_statement(text, pos)
            _check_progress(pos, after)
            if start < stop:
                yield 0, (slice(start, stop),)
            pos = after
            continue
        try:
            pieces = _split(text, pos, end)
        except pg_parser.ParseError as error:
            offset = pos + error_offset(error, end - pos)
            if end < total and offset >= _last_start(text, pos, end):
                # The cut fell inside a BEGIN ATOMIC body: a bigger window, always
                # bigger than the last one, until it reaches the end of the text.
                size = 2 * max(size, end - pos)
                continue
            raise SplitError(str(error.args[0]), offset) from None
        yield pos, pieces
        _check_progress(pos, end)
        pos, size = end, WINDOW


#: statements the token walk may take to their first semicolon: no BEGIN ATOMIC in them
_DATA_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "SELECT", "WITH", "VALUES", "MERGE"})


def _is_data(text: str, pos: int) -> bool:
    """Whether the statement at ``pos`` starts with a word of ``_DATA_WORDS``."""
    tokens, _ = _tokens(text, pos, SCAN_STEP)
    first = next((t for t in tokens if t.name not in _COMMENTS), None)
    if first is None or first.name == "MARK":
        return False
    return text[pos + first.start : pos + first.end + 1].upper() in _DATA_WORDS


def error_offset(error: pg_parser.ParseError, at_end: int) -> int:
    """Where the parser's complaint is, in its input; ``at_end`` when it gave no place
    (``syntax error at end of input``)."""
    place = error.args[1] if len(error.args) > 1 else None
    return at_end if place is None else int(place)


def _check_progress(pos: int, after: int) -> None:
    if after <= pos:  # never reached: the walkers always consume something
        raise SplitError("internal error: the splitter did not advance; please report", pos)


def _split(text: str, pos: int, end: int) -> Sequence[slice]:
    return pg_parser.split(text[pos:end], with_parser=True, only_slices=True)


def _cut(text: str, pos: int, size: int) -> int | None:
    """A statement boundary past ``pos`` near ``pos + size``; None: the statement is giant."""
    total = len(text)
    while pos + size < total:
        pieces = _scan(text[pos : pos + size])
        if len(pieces) >= 2:
            return pos + int(pieces[-1].start)
        if size >= GIANT:
            return None
        size *= 2
    return total


def _giant_statement(text: str, pos: int) -> tuple[int, int, int]:
    """(start, end, next position) of the statement at ``pos``, by tokens, a slice at a time."""
    total, step = len(text), SCAN_STEP
    first: int | None = None
    last_end = pos
    while pos < total:
        tokens, complete = _tokens(text, pos, step)
        if not tokens:
            if complete:
                break
            step *= 2  # a single token (a long string) longer than the step
            continue
        resume = pos if complete else pos + tokens[-1].start
        for token in tokens if complete else tokens[:-1]:  # the last may be cut off
            if token.name in _COMMENTS:
                continue
            if token.name == "ASCII_59":
                return (first if first is not None else last_end), last_end, pos + token.end + 1
            first = pos + token.start if first is None else first
            last_end = pos + token.end + 1
        if complete:
            break
        if resume <= pos:
            # One token (a comment or string longer than the step) fills the
            # slice: resuming at its start would scan the same slice forever.
            step *= 2
            continue
        pos, step = resume, SCAN_STEP
    return (first if first is not None else last_end), last_end, total


def _tokens(text: str, pos: int, step: int) -> tuple[list[Any], bool]:
    """Scanner tokens of ``text[pos:pos + step]``, and whether that reached the end."""
    end = min(len(text), pos + step)
    window = text[pos:end]
    try:
        return list(pg_parser.scan(window)), end == len(text)
    except pg_parser.ParseError as error:
        stop = error_offset(error, end - pos)
        if end == len(text) and stop >= 0:
            raise SplitError(str(error.args[0]), pos + stop) from None
    if stop <= 0:
        return [], False
    tokens = list(pg_parser.scan(window[:stop]))
    # The window ends inside a string: keep up to it, and resume at its start.
    return [*tokens, _Mark(stop)], False


@dataclass(frozen=True, slots=True)
class _Mark:
    """Where an unfinished token starts, so the next slice resumes there."""

    start: int
    end: int = -1
    name: str = "MARK"


def _last_start(text: str, pos: int, end: int) -> int:
    pieces = _scan(text[pos:end])
    return pos + int(pieces[-1].start) if pieces else pos


def _scan(window: str) -> Sequence[slice]:
    """Statement slices by the scanner; a window cut inside a string stops before it."""
    try:
        return pg_parser.split(window, with_parser=False, only_slices=True)
    except pg_parser.ParseError as error:
        stop = error_offset(error, len(window))
    try:
        return pg_parser.split(window[:stop], with_parser=False, only_slices=True)
    except pg_parser.ParseError:
        return ()
