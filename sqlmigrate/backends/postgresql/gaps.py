"""The text between a file's statements, found where it is more than whitespace and ``;``.

The exact-text rule (parsing.py) needs every gap between statements to hold
only whitespace, ``;`` and comments. Almost every gap of a big file is a
``;`` and a line end: those are checked together, a batch of gaps joined
into one string and searched by one regular expression, so only the gaps
with something else in them (comments, or text the splitter lost) come back
to Python one by one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator

#: the separator of joined gaps: parse_migration refuses a NUL before the gaps are read
_SEPARATOR = "\x00"
# PostgreSQL's whitespace, ``;`` and the separator
_NOT_PLAIN = re.compile(r"[^ \t\n\r\f\v;\x00]")
#: gaps joined at a time: the batch (its list of pairs, its slices and its string) stays
#: small; 65 536 of them left the process 5 MB bigger after the pre-flight
_BATCH = 1 << 12


def non_plain_gaps(
    text: str, starts: Iterable[int], ends: Iterable[int]
) -> Iterator[tuple[int, int]]:
    """(start, end) of each gap that is more than whitespace and ``;``, in order: before
    the first statement, between two, after the last. ``starts`` and ``ends`` are the
    statements', in order; a gap starts at the furthest end so far."""
    gap_starts = itertools.accumulate(itertools.chain([0], ends), max)
    gap_ends = itertools.chain(starts, [len(text)])
    gaps = zip(gap_starts, gap_ends, strict=True)
    while batch := list(itertools.islice(gaps, _BATCH)):
        joined = _SEPARATOR.join([text[start:end] for start, end in batch])
        yield from (batch[index] for index in _indices_not_plain(joined))


def _indices_not_plain(joined: str) -> Iterator[int]:
    """Which of the gaps joined by ``_SEPARATOR`` hold another character, in order."""
    index, counted_to = 0, 0
    found = _NOT_PLAIN.search(joined)
    while found is not None:
        index += joined.count(_SEPARATOR, counted_to, found.start())
        yield index
        counted_to = joined.find(_SEPARATOR, found.start())
        if counted_to < 0:
            return
        found = _NOT_PLAIN.search(joined, counted_to)
