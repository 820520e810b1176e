"""A window's cut guessed from its text, and proved by the parser: no scanner pass.

The splitter (splitting.py) parses a big file a window at a time, and each
window must end on a statement boundary. Finding the last boundary with the
scanner costs a full scan of the window on top of the parse. Most windows of
a big file (rows of ``INSERT``) end their statements with ``;`` and a line
end, so the cut is first guessed just after the window's last ``;\\n`` (or
``;\\r\\n``), and the parser alone decides whether the guess is a real
boundary. A guess inside an unterminated string, quoted name, dollar quote
or comment is followed by one more before where the parser says it starts
(a function body in ``$$`` often holds the window's last ``;\n``). When no
guess is proved, or the text has a real error, the splitter goes the
scanner's way as before, so errors keep their message and position.

Why a successful parse proves the guess: ``text[pos:end]`` starts on a real
boundary (``pos``). The lexer reads it exactly as it reads that part of the
whole file, since the cut comes after a line end, which never belongs to a
token that goes on past it. Where the cut can fall:

- inside a '...' string (also E'', U&'', B'', X''), a "quoted name", a
  $tag$ dollar quote or a /* comment */ (nested or not): the piece ends in an
  unterminated token and the lexer refuses it;
- inside a ``BEGIN ATOMIC`` body (its statements end with ``;``): the body
  has no ``END``, a syntax error at the end of the input; likewise inside the
  parentheses of a ``CREATE RULE ... DO (...; ...)`` action list;
- after a ``;`` inside a ``--`` comment: the line end closes the comment, so
  the text parses, but the last statement may go on past the cut
  (``SELECT 1 -- a;\\n + 2;``). The parser then reports that statement
  without a terminating ``;``: pglast's slice for it runs to the end of the
  piece minus trailing whitespace, so no ``;`` follows the slice. A statement
  that ends with its own ``;`` always has that ``;`` after its slice. So the
  guess is taken only if a ``;`` follows the last slice; after that ``;``
  there are only comments and whitespace up to the cut, and the next
  statement starts after the cut, as it does in the whole text;
- after a real terminating ``;``: a real boundary.

The ``;`` token appears in PostgreSQL's grammar only between statements, in
``BEGIN ATOMIC`` bodies and in rule action lists, so these are all cases.
"""

from __future__ import annotations

from collections.abc import Sequence

from pglast import parser as pg_parser

#: parses tried for one window before the scanner's way
_GUESSES = 2


def guessed_window(text: str, pos: int, size: int) -> tuple[int, Sequence[slice]] | None:
    """(end, statement slices of ``text[pos:end]``) for a proved cut near ``pos + size``;
    None when the window reaches the end of the text, or no guess was proved."""
    stop = pos + size
    if stop >= len(text):
        return None  # the rest is parsed whole: nothing to cut
    for _ in range(_GUESSES):
        end = _after_last_semicolon_line(text, pos, stop)
        if end is None:
            return None
        try:
            pieces = pg_parser.split(text[pos:end], with_parser=True, only_slices=True)
        except pg_parser.ParseError as error:
            # A cut inside a token or a body, or a real error. An unterminated string,
            # quoted name, dollar quote or comment is reported where it starts: the next
            # guess is before it (a body, or the end of the input, gives no better one).
            place = error.args[1] if len(error.args) > 1 else None
            if place is None or not 0 < place < end - pos:
                return None
            stop = pos + place
            continue
        if not pieces or text.find(";", pos + pieces[-1].stop, end) < 0:
            return None  # no statement, or the last one goes on past the cut
        return end, pieces
    return None  # the scanner decides


def _after_last_semicolon_line(text: str, pos: int, stop: int) -> int | None:
    """Just after the last ``;\\n`` or ``;\\r\\n`` in ``text[pos:stop]``."""
    unix = text.rfind(";\n", pos, stop)
    windows = text.rfind(";\r\n", pos, stop)
    end = max(unix + 2 if unix >= 0 else -1, windows + 3 if windows >= 0 else -1)
    return end if end > pos else None
