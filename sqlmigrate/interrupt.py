"""Ctrl-C during a run, as golang-migrate's CLI takes it (shared by the management
commands and ``python -m sqlmigrate``)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

INTERRUPTED = (
    "interrupted: the running migration was cancelled. Run `python manage.py "
    "sqlmigrate_version` to see where the database is: an atomic migration left nothing, "
    "one under the dirty-flag protocol is marked dirty (then see sqlmigrate_force)"
)


class StopAfterCurrent:
    """Ctrl-C as golang-migrate's CLI takes it: finish the running migration, run no
    more, exit 0. A second Ctrl-C cancels the running one."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopAfterCurrent:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.write("Stopping after this running migration ...")
