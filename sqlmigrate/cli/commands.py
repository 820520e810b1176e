"""The Go CLI's commands, each over the same engine call as its management command.

Each follows ``internal/cli/main.go``'s order: the command's own flags (bad
ones exit 2, ``-help`` prints its usage), then opening the source and the
database, then the arguments, then the run.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from ..goflag import Flag, FlagSet, UsageExit, Value, parse_int
from . import Cli, connect, fatal
from .text import CREATE_USAGE, DOWN_USAGE, DROP_USAGE, FORCE_USAGE, GOTO_USAGE, UP_USAGE

HELP = Flag("help", "bool", False, "Print help information")
DOWN_QUESTION = "Are you sure you want to apply all down migrations? [y/N]"
DROP_QUESTION = "Are you sure you want to drop the entire database schema? [y/N]"
DEFAULT_TIME_FORMAT = "20060102150405"


def parse_command(
    name: str, args: list[str], usage: str, *flags: Flag
) -> tuple[dict[str, Value], list[str]]:
    """A command's flags and arguments; ``-help`` prints its usage, exit 0."""
    flag_set = FlagSet(name, [*flags, HELP])
    values, rest = flag_set.parse(args)
    if values["help"]:
        raise UsageExit(f"{usage}\n{flag_set.defaults()}", 0)
    return values, rest


def up(cli: Cli, args: list[str]) -> None:
    _, rest = parse_command("up", args, UP_USAGE)
    folder = cli.open()
    limit = None
    if rest:
        limit = parse_int(rest[0], signed=False)
        if limit is None:
            fatal("error: can't read limit argument N")
    from .. import engine

    with _stoppable(cli):
        result = engine.up(limit, **cli.run_options(folder))
    _report(cli, result.changed, result.notice)


def down(cli: Cli, args: list[str]) -> None:
    values, rest = parse_command(
        "down", args, DOWN_USAGE, Flag("all", "bool", False, "Apply all down migrations")
    )
    folder = cli.open()
    limit = None
    if values["all"]:
        if rest:
            fatal("error: -all cannot be used with other arguments")
    elif len(rest) > 1:
        fatal("error: too many arguments")
    elif rest:
        limit = parse_int(rest[0], signed=False)
        if limit is None:
            fatal("error: can't read limit argument N")
    elif _confirmed(cli, DOWN_QUESTION):
        cli.say("Applying all down migrations")
    else:
        fatal("Not applying all down migrations")
    from .. import engine

    with _stoppable(cli):
        result = engine.down(limit, **cli.run_options(folder))
    _report(cli, result.changed, result.notice)


def goto(cli: Cli, args: list[str]) -> None:
    _, rest = parse_command("goto", args, GOTO_USAGE)
    folder = cli.open()
    if not rest:
        fatal("error: please specify version argument V")
    version = parse_int(rest[0], signed=False)
    if version is None:
        fatal("error: can't read version argument V")
    from .. import engine

    with _stoppable(cli):
        result = engine.goto(version, **cli.run_options(folder))
    _report(cli, result.changed, result.notice)


def force(cli: Cli, args: list[str]) -> None:
    _, rest = parse_command("force", args, FORCE_USAGE)
    folder = cli.open()
    if not rest:
        fatal("error: please specify version argument V")
    version = parse_int(rest[0], signed=True)
    if version is None:
        fatal("error: can't read version argument V")
    if version < -1:
        fatal("error: argument V must be >= -1")
    from .. import engine

    options = cli.run_options(folder)
    del options["progress"], options["should_stop"]
    engine.force(version, **options)


def version(cli: Cli, args: list[str]) -> None:
    cli.open()
    from .. import engine

    state = engine.version()
    if state.version is None:
        fatal("error: no migration")
    cli.say(f"{state.version} (dirty)" if state.dirty else str(state.version))


def drop(cli: Cli, args: list[str]) -> None:
    values, _ = parse_command(
        "drop",
        args,
        DROP_USAGE,
        Flag("f", "bool", False, "Force the drop command by bypassing the confirmation prompt"),
    )
    from .. import engine

    # A URL sqlmigrate cannot use is refused before the question (the Go CLI asks
    # first, then fails); the connection, as the Go CLI's, is made after it.
    folder = cli.configure()
    if not values["f"]:
        if not _confirmed(cli, DROP_QUESTION):
            fatal("Aborted dropping the entire database schema")
        cli.say("Dropping the entire database schema")
    connect()
    options = cli.run_options(folder)
    del options["progress"], options["should_stop"]
    engine.drop(**options)


def create(cli: Cli, args: list[str]) -> None:
    values, rest = parse_command(
        "create",
        args,
        CREATE_USAGE,
        Flag("ext", "string", "", "File extension"),
        Flag(
            "dir", "string", "", "Directory to place file in (default: current working directory)"
        ),
        Flag("format", "string", DEFAULT_TIME_FORMAT, _FORMAT_HELP),
        Flag(
            "tz",
            "string",
            "UTC",
            "The timezone that will be used for generating timestamps (default: utc)",
        ),
        Flag("seq", "bool", False, "Use sequential numbers instead of timestamps (default: false)"),
        Flag("digits", "int", 6, "The number of digits to use in sequences (default: 6)"),
    )
    if not rest:
        fatal("error: please specify name")
    if not values["ext"]:
        fatal("error: -ext flag must be specified")
    seq, time_format = bool(values["seq"]), str(values["format"])
    if seq and time_format != DEFAULT_TIME_FORMAT:
        fatal("error: the seq and format options are mutually exclusive")
    from ..create import create_migration

    created = create_migration(
        Path(str(values["dir"]) or "."),
        rest[0],
        seq=seq,
        digits=int(values["digits"]) if seq else None,
        ext=str(values["ext"]),
        time_format=time_format,
        tz=str(values["tz"]),
    )
    cli.say(os.path.abspath(created.up))
    cli.say(os.path.abspath(created.down))


_FORMAT_HELP = (
    'The Go time format string to use. If the string "unix" or "unixNano" is specified, then '
    "the seconds or nanoseconds since January 1, 1970 UTC respectively will be used. Caution, "
    "due to the behavior of time.Time.Format(), invalid format strings will not error"
)


def _confirmed(cli: Cli, question: str) -> bool:
    """The Go CLI's ``fmt.Scanln``: the first word of a line, ``y`` or ``Y`` confirms."""
    cli.say(question)
    words = sys.stdin.readline().split()
    return bool(words) and words[0].lower() == "y"


def _report(cli: Cli, changed: bool, notice: str | None) -> None:
    if notice:
        cli.say(notice)
    elif not changed:
        cli.say("no change")


@contextlib.contextmanager
def _stoppable(cli: Cli) -> Iterator[None]:
    """Ctrl-C finishes the running migration and runs no more, as with the Go CLI."""
    from ..interrupt import StopAfterCurrent

    with StopAfterCurrent(cli.say) as stop:
        cli.stop = stop
        yield


COMMANDS: dict[str, Callable[[Cli, list[str]], None]] = {
    "create": create,
    "goto": goto,
    "up": up,
    "down": down,
    "drop": drop,
    "force": force,
    "version": version,
}
#: commands after which -verbose prints "Finished after D"
TIMED = {"goto", "up", "down", "drop", "force"}
