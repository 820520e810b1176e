"""The whole-text searches of the pre-flight, done at C speed, against their plain forms:
the gaps between statements that are more than whitespace and ``;`` (gaps.py), and
where ``pg_advisory_unlock_all`` is written (parsing._unlock_all_words).

No database: these read text only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqlmigrate.backends.postgresql import gaps
from sqlmigrate.backends.postgresql.parsing import _unlock_all_words, parse_migration
from sqlmigrate.exceptions import SqlParseError

PLAIN_GAP = re.compile(r"[ \t\n\r\f\v;]*")


def plain_non_plain_gaps(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """What gaps.non_plain_gaps finds, one gap at a time (as the pre-flight once did)."""
    found, previous = [], 0
    for start, end in [*spans, (len(text), len(text))]:
        # A slice: where spans overlap, the gap is empty (fullmatch(text, 1, 0) says no
        # match, and the empty gap then passed as "only comments").
        if not PLAIN_GAP.fullmatch(text[previous:start]):
            found.append((previous, start))
        previous = max(previous, end)
    return found


@settings(max_examples=1500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list(" \t\n\r\f\v;x-é")), max_size=60),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=12),
    st.integers(1, 4),
)
def test_gaps_are_found_as_one_at_a_time(
    text: str, cuts: list[tuple[int, int]], batch: int
) -> None:
    spans = sorted((min(a, len(text)), min(a + n, len(text))) for a, n in cuts)
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    original = gaps._BATCH
    gaps._BATCH = batch  # batches of a few gaps: every gap sits at some batch's edge
    try:
        found = list(gaps.non_plain_gaps(text, starts, ends))
    finally:
        gaps._BATCH = original
    assert found == plain_non_plain_gaps(text, spans)


def test_text_lost_between_statements_is_still_refused_at_its_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlmigrate.backends.postgresql import parsing, splitting

    real = splitting.split_windows

    def losing_the_second(text: str) -> Iterator[tuple[int, list[slice]]]:
        for offset, pieces in real(text):
            yield offset, [p for p in pieces if text[offset + p.start :].startswith("SELECT 1")]

    monkeypatch.setattr(parsing, "split_windows", losing_the_second)
    with pytest.raises(SqlParseError) as raised:
        parse_migration("SELECT 1;\n-- c\nSELECT 2;\n", "f.up.sql")
    assert raised.value.location == "f.up.sql:1:9"


WORD = "pg_advisory_unlock_all"


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [WORD, WORD.upper(), "PG_Advisory_Unlock_ALL", "pg_advi\u017fory_unlock_all"]
            ),
            st.sampled_from(["p", "g", "_", "pg", "x", "\u0130", "advisory_unlock_all"]),
        ),
        max_size=8,
    )
)
def test_unlock_all_is_found_where_ignoring_case_finds_it(parts: list[str]) -> None:
    text = "".join(parts)
    expected = [m.start() for m in re.finditer(WORD, text, re.IGNORECASE)]
    assert list(_unlock_all_words(text)) == expected
