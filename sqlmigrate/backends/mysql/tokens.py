"""MySQL tokens from sqlglot's MySQL tokenizer: read in windows, and looked at one or
two ahead by the splitter.

sqlglot's tokenizer builds the list of every token of its input; a 20 MB file
of INSERTs is millions of them. So a text is tokenized in windows of about
``WINDOW`` characters, each ending just after a ``;`` or ``,`` that the
tokenizer itself returned as a token (so not inside a string, quoted name or
comment): tokenizing from such a point on gives what tokenizing from the start
gives, so no token is cut. A window whose end is not such a token (it fell in
a string or comment) grows, doubling, until it is one or reaches the end.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from typing import NoReturn

from sqlglot import Token, TokenError, TokenType
from sqlglot.dialects.mysql import MySQL

from ...exceptions import SqlParseError
from ...source import line_col

_TOKENIZER = MySQL().tokenizer_class
WINDOW = 256 * 1024
_CUT = re.compile(r"[;,]")
_CUT_TOKENS = frozenset({TokenType.SEMICOLON, TokenType.COMMA})
#: tokens whose text is a string's or a quoted name's content, never a keyword
_QUOTED = frozenset(
    {
        TokenType.IDENTIFIER,
        TokenType.STRING,
        TokenType.NATIONAL_STRING,
        TokenType.HEX_STRING,
        TokenType.BIT_STRING,
        TokenType.BYTE_STRING,
        TokenType.RAW_STRING,
        TokenType.HEREDOC_STRING,
    }
)


def tokens_of(text: str) -> list[Token]:
    return list(_TOKENIZER().tokenize(text))


class Unterminated(TokenError):
    """An unterminated string, quoted name or comment (``what``) opens at ``opening``,
    after ``offset``, the last cut before the trouble."""

    def __init__(self, offset: int, opening: int, what: str) -> None:
        super().__init__(f"an unterminated {what}")
        self.offset = offset
        self.opening = opening
        self.what = what


_MISSING = re.compile(r"Missing (.+) from \d+:(\d+)")
_QUOTES = {"'": "quoted string", '"': "quoted string", "`": "quoted name"}


def _unterminated(text: str, pos: int, error: TokenError) -> Unterminated:
    """What never ends in ``text[pos:]``, which tokenizing refused with ``error``.

    sqlglot wraps the reason in a TokenError of its own; the reason says
    ``Missing <quote> from <line>:<offset of the opening quote>``. An
    unterminated comment gives no place: it is found here."""
    missing = _MISSING.search(str(error.__cause__ or error))
    if missing:
        quote, offset = missing.group(1), int(missing.group(2))
        return Unterminated(pos, pos + offset, _QUOTES.get(quote, f"{quote}-quoted text"))
    return Unterminated(pos, _unterminated_comment(text, pos), "/* comment")


def _unterminated_comment(text: str, pos: int) -> int:
    """The first ``/*`` after ``pos`` outside any string that no ``*/`` follows (MySQL's
    do not nest); ``pos`` if none is found."""
    opening = text.find("/*", pos)
    while opening >= 0:
        if text.find("*/", opening + 2) < 0:
            try:
                tokens_of(text[pos:opening])  # fails when the /* is inside a string
            except TokenError:
                pass
            else:
                return opening
        opening = text.find("/*", opening + 2)
    return pos


def stream(text: str, window: int = WINDOW) -> Iterator[Token]:
    """Every token of ``text`` in order, its ``start`` and ``end`` offsets into ``text``
    (``line`` and ``col`` are the window's: not used).

    Raises Unterminated when the text has an unterminated string, quoted name or
    comment: the windows then shrink to one cut each, so its offset is the last cut
    before the trouble (a statement's start, or a comma in it)."""
    pos, total, size = 0, len(text), window
    while pos < total:
        found = _CUT.search(text, pos + size)
        cut = found.end() if found else total
        try:
            tokens = _TOKENIZER().tokenize(text[pos:cut])
        except TokenError as error:
            if cut == total:
                if window == 1:
                    raise _unterminated(text, pos, error) from None
                window = size = 1
                continue
            size *= 2
            continue
        last = tokens[-1] if tokens else None
        if cut < total and (
            last is None or last.token_type not in _CUT_TOKENS or last.end != cut - pos - 1
        ):
            size *= 2
            continue
        for token in tokens:
            token.start += pos
            token.end += pos
        yield from tokens
        pos, size = cut, window


def keyword(token: Token | None) -> str:
    """The token's text upper-cased, or "" for strings and quoted names."""
    if token is None or token.token_type in _QUOTED:
        return ""
    return token.text.upper()


class Reader:
    """The tokens of a text, taken one by one, with a look ahead; it keeps the first
    words of the statement being read and the last token taken."""

    def __init__(self, text: str, location: str) -> None:
        self.text = text
        self.location = location
        self._tokens = stream(text)
        self._ahead: deque[Token] = deque()
        self.last: Token | None = None
        self.words: list[str] = []
        #: where the first executable comment (/*! ... */) of the statement is, or -1
        self.executable = -1
        #: where the statement's first backslash outside strings is (a client command), or -1
        self.backslash = -1

    def start_statement(self) -> None:
        self.words = []
        self.executable = -1
        self.backslash = -1

    def peek(self, ahead: int = 0) -> Token | None:
        while len(self._ahead) <= ahead:
            token = next(self._tokens, None)
            if token is None:
                return None
            self._ahead.append(token)
        return self._ahead[ahead]

    def take(self) -> Token:
        token = self.peek()
        assert token is not None, "take() after the end: peek() first"
        self._ahead.popleft()
        last = self.last
        # between two tokens of a statement (between statements: parsing's gap check)
        if self.words and self.executable < 0 and last and token.start - last.end > 5:
            self._find_executable(last.end + 1, token.start)
        if len(self.words) < 8:
            self.words.append(keyword(token))
        self._note_backslash(token)
        self.last = token
        return token

    def _note_backslash(self, token: Token) -> None:
        if token.token_type == TokenType.BACKSLASH and self.backslash < 0:
            self.backslash = token.start

    def take_rest(self) -> None:
        """Takes the tokens up to the next ``;`` (not taken) or the end: the rest of a
        plain statement, without a look at each (a big file is mostly these)."""
        while self._ahead:
            if self._ahead[0].token_type == TokenType.SEMICOLON:
                return
            self.take()
        for token in self._tokens:
            if token.token_type == TokenType.SEMICOLON or len(self.words) < 8:
                self._ahead.append(token)
                if token.token_type == TokenType.SEMICOLON:
                    return
                self.take()
            else:
                self._note_backslash(token)
                self.last = token

    def word(self, ahead: int = 0) -> str:
        """``keyword`` of a token ahead, "" when it touches a dot (``t.end``: a name)."""
        token = self.peek(ahead)
        if token is None:
            return ""
        before = self.last if ahead == 0 else self.peek(ahead - 1)
        after = self.peek(ahead + 1)
        for near in (before, after):
            touches = near is not None and token.start - 1 <= near.end <= token.end + 1
            if touches and near is not None and near.token_type == TokenType.DOT:
                return ""
        return keyword(token)

    def is_semicolon(self, ahead: int = 0) -> bool:
        return self.is_type(TokenType.SEMICOLON, ahead)

    def is_type(self, token_type: TokenType, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token is not None and token.token_type == token_type

    def offset(self) -> int:
        """Where the next token starts (the end of the text after the last one)."""
        token = self.peek()
        return token.start if token is not None else len(self.text)

    def fail(self, offset: int, message: str) -> NoReturn:
        line, col = line_col(self.text, offset)
        raise SqlParseError(f"{self.location}:{line}:{col}", f"{message}; nothing was run")

    def _find_executable(self, start: int, end: int) -> None:
        """Notes an executable comment between two tokens: MySQL reads what is in it."""
        at = self.text.find("/*", start, end)
        while at >= 0:
            if self.text.startswith(("/*!", "/*M!"), at):
                self.executable = at
                return
            at = self.text.find("/*", at + 2, end)
