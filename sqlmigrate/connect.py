"""Wait for a database to accept connections, within a deadline (``sqlmigrate_up --wait``).

On a deploy the service and its database may start together (Render does
this): the first connection can be refused for a few seconds. Each attempt
is a throwaway connection made with the alias's own parameters, its connect
timeout capped by the time left, so the wait never outlasts the deadline by
more than libpq's two-second minimum. Django's connection is left alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

from .exceptions import CommandArgumentError, SQLMigrateError
from .session import connection_for

#: pauses between refused attempts: short at first (a server seconds from ready)
_FIRST_PAUSE = 0.1
_LONGEST_PAUSE = 1.0


class DatabaseUnavailableError(SQLMigrateError):
    """The database did not accept a connection before the deadline."""


def wait_for_database(
    using: str, seconds: float, *, say: Callable[[str], None] | None = None
) -> float:
    """Return once ``using`` accepts a connection: the seconds that took.

    ``say`` gets one line when the first attempt fails and one when the
    database answers. Raises DatabaseUnavailableError after ``seconds``.
    """
    if not (math.isfinite(seconds) and seconds >= 0):
        raise CommandArgumentError(f"--wait must be a number of seconds, 0 or more, not {seconds}")
    connection_for(using)  # an unknown alias is an error now, not after the wait
    started = time.monotonic()
    deadline = started + seconds
    pause = _FIRST_PAUSE
    error = _attempt(using, seconds)
    if error is None:
        return 0.0
    if say is not None:
        say(f"waiting for {describe(using)} to accept connections ...")
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(pause, left))
        pause = min(pause * 2, _LONGEST_PAUSE)
        error = _attempt(using, deadline - time.monotonic())
        if error is None:
            took = time.monotonic() - started
            if say is not None:
                say(f"database alias {using!r} accepts connections (after {took:.1f} s)")
            return took
    raise DatabaseUnavailableError(
        f"{describe(using)} did not accept connections within {seconds:g} s: "
        f"{_masked(using, error)}. Check that the database is running and that "
        f"DATABASES[{using!r}] points at it, or wait longer with --wait SECONDS"
    )


def describe(using: str) -> str:
    """``database alias 'default' (127.0.0.1:5433)``: where, never who or the password."""
    settings = connections[using].settings_dict
    host = settings.get("HOST") or "local socket"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"database alias {using!r} ({host}{port})"


def _attempt(using: str, left: float) -> Exception | None:
    """None when a connection could be made; else the error that refused it."""
    connection = connections[using]
    params: dict[str, Any] = connection.get_connection_params()
    if connection.vendor == "postgresql":
        # libpq rounds up to whole seconds and treats less than 2 as 2.
        configured = params.get("connect_timeout")
        cap = max(1, math.ceil(left))
        params["connect_timeout"] = min(int(configured), cap) if configured else cap
    driver: Any = connection.Database  # type: ignore[attr-defined]  # every backend has it
    try:
        probe = driver.connect(**params)
    except driver.Error as error:
        refused: Exception = error
        return refused
    probe.close()
    return None


def _masked(using: str, error: Exception) -> str:
    text = " ".join(str(error).split())
    password = connections[using].settings_dict.get("PASSWORD")
    return text.replace(str(password), "********") if password else text
