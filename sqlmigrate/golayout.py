"""Go's time layouts (``Time.Format``), for ``sqlmigrate_create --format``.

golang-migrate names timestamped migrations with a Go layout such as
``20060102150405``; this reproduces Go's formatting for the elements such a
layout uses, copying anything else literally, as Go does.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

# Go's layout elements, in the order nextStdChunk tries them at one position;
# text between them is copied as is.
_GO_ELEMENT = re.compile(
    r"January|Jan(?![a-z])|Monday|Mon(?![a-z])|MST|0[1-6]|002|15|1|2006|2|_2(?!006)|__2"
    r"|3|4|5|PM|pm|[-Z]070000|[-Z]07:00:00|[-Z]0700|[-Z]07:00|[-Z]07|[.,](?:0+|9+)(?![0-9])"
)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def go_format(layout: str, moment: datetime, nanosecond: int = 0) -> str:
    """``moment`` as Go's ``Time.Format(layout)`` writes it.

    The layout shows the reference time, Mon Jan 2 15:04:05 MST 2006, the way
    the result should look; text that is no element is copied as is.
    """

    def element(match: re.Match[str]) -> str:
        return _go_element(match.group(), moment, nanosecond)

    return _GO_ELEMENT.sub(element, layout)


def _go_element(code: str, t: datetime, nanosecond: int) -> str:
    hour12 = t.hour % 12 or 12
    simple = {
        "2006": f"{t.year:04d}",
        "06": f"{t.year % 100:02d}",
        "January": _MONTHS[t.month - 1],
        "Jan": _MONTHS[t.month - 1][:3],
        "1": str(t.month),
        "01": f"{t.month:02d}",
        "Monday": _DAYS[t.weekday()],
        "Mon": _DAYS[t.weekday()][:3],
        "2": str(t.day),
        "_2": f"{t.day:2d}",
        "02": f"{t.day:02d}",
        "__2": f"{t.timetuple().tm_yday:3d}",
        "002": f"{t.timetuple().tm_yday:03d}",
        "15": f"{t.hour:02d}",
        "3": str(hour12),
        "03": f"{hour12:02d}",
        "4": str(t.minute),
        "04": f"{t.minute:02d}",
        "5": str(t.second),
        "05": f"{t.second:02d}",
        "PM": "PM" if t.hour >= 12 else "AM",
        "pm": "pm" if t.hour >= 12 else "am",
    }
    if code in simple:
        return simple[code]
    if code[0] in ".,":
        return _go_fraction(code, nanosecond)
    offset = t.utcoffset() or timedelta(0)
    if code == "MST":
        return t.tzname() or _go_offset("-0700", offset)
    return _go_offset(code, offset)


def _go_offset(code: str, offset: timedelta) -> str:
    """``-0700``, ``-07:00``, ``-07``, with seconds (``-070000``), or ``Z`` for UTC in ``Z...``."""
    seconds = int(offset.total_seconds())
    if code[0] == "Z" and seconds == 0:
        return "Z"
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    parts = [f"{seconds // 3600:02d}", f"{seconds // 60 % 60:02d}", f"{seconds % 60:02d}"]
    shown = {3: 1, 5: 2, 6: 2, 7: 3, 9: 3}[len(code)]
    separator = ":" if ":" in code else ""
    return sign + separator.join(parts[:shown])


def _go_fraction(code: str, nanosecond: int) -> str:
    """``.000`` keeps trailing zeros, ``.999`` drops them (and the dot, if nothing is left)."""
    digits = f"{nanosecond:09d}"[: len(code) - 1]
    if code[1] == "9":
        digits = digits.rstrip("0")
        return f"{code[0]}{digits}" if digits else ""
    return f"{code[0]}{digits}"
