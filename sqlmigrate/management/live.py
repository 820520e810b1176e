"""The live line on a terminal: which migration is running, and for how long.

A migration of minutes must not look hung. With a TTY, ``starting`` shows
``RUN  0012_backfill.up.sql (4.5 s)`` and a background thread rewrites it in
place (``\\r``) until ``stop``; the ``OK`` line then takes its place. Without
a TTY (deploy logs, pipes) nothing of this is used: plain lines only.
"""

from __future__ import annotations

import threading
import time

from django.core.management.base import OutputWrapper

#: shown only for a migration still running after this long; then rewritten this often
FIRST_AFTER = 0.5
EVERY = 0.5
_CLEAR = "\r\x1b[K"


def format_elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class LiveLine:
    def __init__(self, out: OutputWrapper) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False
        self._label = ""
        self._started = 0.0

    def start(self, label: str) -> None:
        self.stop()
        self._label, self._started = label, time.monotonic()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="sqlmigrate-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the line; safe to call when nothing runs."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopped.set()
        thread.join()
        with self._lock:
            self._clear()

    def write(self, text: str) -> None:
        """A whole line from the main thread, printed above (instead of) the live line."""
        with self._lock:
            self._clear()
            self._out.write(text)

    def _tick(self) -> None:
        if self._stopped.wait(FIRST_AFTER):
            return
        while True:
            elapsed = format_elapsed(time.monotonic() - self._started)
            with self._lock:
                self._out.write(f"{_CLEAR}RUN  {self._label} ({elapsed})", ending="")
                self._out.flush()
                self._shown = True
            if self._stopped.wait(EVERY):
                return

    def _clear(self) -> None:
        if self._shown:
            self._out.write(_CLEAR, ending="")
            self._out.flush()
            self._shown = False
