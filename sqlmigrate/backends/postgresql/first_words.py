"""The first word of each statement, the only thing that sends it to the full parser.

classify.py parses again only the statements whose first word is one of
``CANDIDATE_WORDS``; ``may_be_special`` finds them for a whole window of
statements at once, so a file of INSERTs costs no call per statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

CANDIDATE_WORDS = frozenset(
    {
        *("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"),
        *("PREPARE", "CREATE", "DROP", "ALTER", "REINDEX", "VACUUM", "CLUSTER", "DISCARD"),
        *("COPY", "CALL", "DO", "SET"),
    }
)
_FIRST_WORD = re.compile(r"[A-Za-z]+")


def first_word(text: str, start: int) -> str:
    match = _FIRST_WORD.match(text, start)
    return match.group().upper() if match else ""


# A first word in CANDIDATE_WORDS is ASCII letters, so its statement's head, upper-cased,
# starts with it (upper-casing keeps a prefix a prefix): a superset, checked by classify.
_CANDIDATE_HEADS = tuple(sorted(CANDIDATE_WORDS))
_CANDIDATE_INITIALS = frozenset(w[0] for w in CANDIDATE_WORDS) | {
    w[0].lower() for w in CANDIDATE_WORDS
}
_LONGEST = max(map(len, CANDIDATE_WORDS))


def may_be_special(text: str, starts: Sequence[int]) -> list[int]:
    """Indices (in ``starts``) of the statements ``classify`` must look at: every one
    whose first word may be in CANDIDATE_WORDS. For the others it would return a plain
    Statement; this answers for a window of them without a call each."""
    return [
        index
        for index, start in enumerate(starts)
        if text[start] in _CANDIDATE_INITIALS
        and text[start : start + _LONGEST].upper().startswith(_CANDIDATE_HEADS)
    ]
