"""Go's ``flag`` package, as far as golang-migrate's CLI uses it.

``python -m sqlmigrate`` must take the same command lines as the ``migrate``
binary, and refuse the same ones with the same text and exit status: single
or double dash, ``-name=value`` or ``-name value``, bool flags without a
value, parsing stops at the first argument that is not a flag (or after
``--``), errors print the message then the usage and exit 2, ``-h`` prints
the usage and exits 0. argparse differs on each of these points.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NoReturn

Kind = Literal["bool", "string", "uint", "int"]
Value = bool | str | int

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_UINT_MAX = 2**64 - 1
_INT_RANGE = (-(2**63), 2**63 - 1)


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    kind: Kind
    default: Value
    usage: str = ""


class UsageExit(Exception):
    """Parsing stopped: print ``text`` on stderr and exit with ``code`` (0 help, 2 error)."""

    def __init__(self, text: str, code: int) -> None:
        super().__init__(text)
        self.text = text
        self.code = code


class FlagSet:
    def __init__(
        self, name: str, flags: list[Flag], usage: Callable[[], str] | None = None
    ) -> None:
        self.name = name
        self.flags = {flag.name: flag for flag in flags}
        self._usage = usage

    def usage(self) -> str:
        if self._usage is not None:
            return self._usage()
        return f"Usage of {self.name}:\n{self.defaults()}"

    def defaults(self) -> str:
        """Go's ``PrintDefaults``: flags sorted by name, type word, usage, non-zero default."""
        lines = []
        for flag in sorted(self.flags.values(), key=lambda f: f.name):
            line = f"  -{flag.name}" + ("" if flag.kind == "bool" else f" {flag.kind}")
            line += "\t" if len(line) <= 4 else "\n    \t"
            line += flag.usage.replace("\n", "\n    \t")
            if flag.default not in (False, "", 0):
                shown = f'"{flag.default}"' if flag.kind == "string" else str(flag.default)
                line += f" (default {shown})"
            lines.append(line + "\n")
        return "".join(lines)

    def parse(self, args: list[str]) -> tuple[dict[str, Value], list[str]]:
        """The flags' values and the arguments left; raises UsageExit as Go exits."""
        values = {name: flag.default for name, flag in self.flags.items()}
        rest = list(args)
        while rest:
            arg = rest[0]
            if len(arg) < 2 or arg[0] != "-":
                break
            rest.pop(0)
            if arg == "--":
                break
            name, has_value, value = arg[2 if arg[1] == "-" else 1 :].partition("=")
            if not name or name[0] in "-=":
                self._fail(f"bad flag syntax: {arg}")
            flag = self.flags.get(name)
            if flag is None:
                if name in {"help", "h"}:
                    raise UsageExit(self.usage(), 0)
                self._fail(f"flag provided but not defined: -{name}")
            if flag.kind == "bool":
                values[name] = self._bool(name, value) if has_value else True
                continue
            if not has_value:
                if not rest:
                    self._fail(f"flag needs an argument: -{name}")
                value = rest.pop(0)
            values[name] = self._value(flag, value)
        return values, rest

    def _bool(self, name: str, text: str) -> bool:
        if text not in _TRUE and text not in _FALSE:
            self._fail(f'invalid boolean value "{text}" for -{name}: parse error')
        return text in _TRUE

    def _value(self, flag: Flag, text: str) -> Value:
        if flag.kind == "string":
            return text
        number = parse_int(text, signed=flag.kind == "int")
        if number is None:
            self._fail(f'invalid value "{text}" for flag -{flag.name}: parse error')
        return number

    def _fail(self, message: str) -> NoReturn:
        raise UsageExit(f"{message}\n{self.usage()}", 2)


def parse_int(text: str, *, signed: bool) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)`` / ``ParseUint``: ASCII digits, in range."""
    digits = text[1:] if signed and text[:1] in {"+", "-"} else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    value = int(text)
    low, high = _INT_RANGE if signed else (0, _UINT_MAX)
    return value if low <= value <= high else None


def parse_bool(text: str) -> bool | None:
    """Go's ``strconv.ParseBool``: ``1 t T TRUE true True`` / ``0 f F FALSE false False``."""
    if text in _TRUE:
        return True
    return False if text in _FALSE else None
