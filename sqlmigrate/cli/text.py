"""What ``python -m sqlmigrate`` prints, worded as golang-migrate's CLI words it.

Usage texts are the Go CLI's (``internal/cli/main.go``). Errors keep the Go
CLI's first line, so scripts and log alerts that match it keep working, and
put sqlmigrate's explanation (state, fix command) on the lines after it.
"""

from __future__ import annotations

import re
import shlex
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CREATE_USAGE = (
    "create [-ext E] [-dir D] [-seq] [-digits N] [-format] [-tz] NAME\n"
    "\t   Create a set of timestamped up/down migrations titled NAME, in directory D with "
    "extension E.\n"
    "\t   Use -seq option to generate sequential up/down migrations with N digits.\n"
    "\t   Use -format option to specify a Go time format string. Note: migrations with the "
    'same time cause "duplicate migration version" error.\n'
    "           Use -tz option to specify the timezone that will be used when generating "
    "non-sequential migrations (defaults: UTC).\n"
)
GOTO_USAGE = "goto V       Migrate to version V"
UP_USAGE = "up [N]       Apply all or N up migrations"
DOWN_USAGE = (
    "down [N] [-all]    Apply all or N down migrations\n\tUse -all to apply all down migrations"
)
DROP_USAGE = "drop [-f]    Drop everything inside database\n\tUse -f to bypass confirmation"
FORCE_USAGE = "force V      Set version V but don't run migration (ignores dirty state)"

MAIN_USAGE = f"""\
Usage: migrate OPTIONS COMMAND [arg...]
       migrate [ -version | -help ]

Options:
  -source          Location of the migrations (driver://url)
  -path            Shorthand for -source=file://path
  -database        Run migrations against this database (driver://url)
  -prefetch N      Number of migrations to load in advance before executing (default 10)
  -lock-timeout N  Allow N seconds to acquire database lock (default 15)
  -verbose         Print verbose logging
  -version         Print version
  -help            Print usage

Commands:
  {CREATE_USAGE}
  {GOTO_USAGE}
  {UP_USAGE}
  {DOWN_USAGE}
  {DROP_USAGE}
  {FORCE_USAGE}
  version      Print current migration version

Source drivers: file
Database drivers: sqlite3, mysql, postgres, postgresql
"""

# The Go CLI's message for a failure, at the start of sqlmigrate's first line.
_GO_FIRST_LINES = re.compile(
    r"(limit \d+ short|first \.: file does not exist|file does not exist"
    r"|timeout: can't acquire database lock|no migration found for version \d+): (.*)",
    re.DOTALL,
)
_MANAGE_HINT = re.compile(r"python manage\.py sqlmigrate_(\w+)( -\d+)?")


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()``: ``7.889692ms``, ``850µs``, ``1.5s``, ``1m0.25s``."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return _fraction(ns, 1_000) + "µs"
    if ns < 1_000_000_000:
        return _fraction(ns, 1_000_000) + "ms"
    minutes, rest = divmod(ns, 60_000_000_000)
    hours, minutes = divmod(minutes, 60)
    text = _fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


def _fraction(value: int, unit: int) -> str:
    whole, part = divmod(value, unit)
    digits = str(part).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def go_error(message: str, rerun: str) -> str:
    """sqlmigrate's error text with the Go CLI's first line, and the fix commands in
    this command line's words (``rerun``: ``python -m sqlmigrate -path D -database U``)."""
    match = _GO_FIRST_LINES.match(message)
    if match:
        message = f"{match.group(1)}\n{match.group(2)}"
    return rewrite_hints(message, rerun)


def rewrite_hints(message: str, rerun: str) -> str:
    """``python manage.py sqlmigrate_force 3`` -> ``<rerun> force 3`` (the engine's
    messages name the management commands)."""
    message = message.replace("sqlmigrate_down --all", "sqlmigrate_down -all")
    message = message.replace("--lock-timeout / SQLMIGRATE_LOCK_TIMEOUT", "-lock-timeout")
    return _MANAGE_HINT.sub(lambda m: _go_words(rerun, m.group(1), m.group(2)), message)


def _go_words(rerun: str, command: str, negative: str | None) -> str:
    # Go's flag parsing reads ``force -1`` as an unknown flag: the CLI needs ``--``.
    return f"{rerun} {command}" + (f" --{negative}" if negative else "")


def rerun_prefix(where: list[str], database: str) -> str:
    """This command line's start, for fix commands in messages; no password in it."""
    return shlex.join(["python", "-m", "sqlmigrate", *where, "-database", redact_url(database)])


def redact_url(url: str) -> str:
    """``url`` with its password (in the authority or ``?password=``) replaced by ``***``."""
    if url.startswith("mysql://"):
        return _redact_dsn(url)
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "***"
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key == "password" for key, _ in pairs):
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # as written: urlunsplit would drop an empty authority (sqlite3:///path)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _redact_dsn(url: str) -> str:
    """A go-sql-driver DSN's password: between the user's ``:`` and the last ``@`` before
    the database name's ``/`` (it may hold ``/``, ``:`` and ``@`` itself)."""
    head, question, query = url.removeprefix("mysql://").partition("?")
    slash = head.rfind("/")
    where, rest = (head[:slash], head[slash:]) if slash >= 0 else (head, "")
    credentials, at, address = where.rpartition("@")
    user, colon, _ = credentials.partition(":")
    if at and colon:
        where = f"{user}:***@{address}"
    return f"mysql://{where}{rest}{question}{query}"
