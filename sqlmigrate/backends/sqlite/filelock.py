"""The migration lock for SQLite: an OS file lock beside the database file.

golang-migrate's sqlite3 driver has no cross-process lock at all (an
in-process flag only), so two CLI runs can interleave. sqlmigrate runners
exclude each other with ``flock()`` on ``<database>.sqlmigrate.lock``: the
kernel releases it when the process dies, and no SQL can release it (unlike
the POSIX record locks SQLite itself uses, which closing *any* descriptor of
the file drops; ``ATTACH`` of the lock file cannot touch a ``flock``).

An in-memory database exists in one process only: a process-wide lock per
database name is enough there.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_FIRST_PAUSE = 0.01
_LONGEST_PAUSE = 0.25
_MEMORY_LOCKS: dict[str, threading.Lock] = {}
_MEMORY_GUARD = threading.Lock()


@dataclass
class FileLock:
    """``path``: the lock file; None for an in-memory database named ``name``."""

    path: str | None
    name: str
    _fd: int | None = None
    _inode: tuple[int, int] | None = None
    _memory: threading.Lock | None = None

    def acquire(self, timeout: float) -> bool:
        """Take the lock, polling until ``timeout`` seconds have passed; False: not taken."""
        if self.path is None:
            return self._acquire_memory(timeout)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.close(fd)
                    return False
                time.sleep(min(pause, left))
                pause = min(pause * 2, _LONGEST_PAUSE)
        self._fd = fd
        stat = os.fstat(fd)
        self._inode = (stat.st_dev, stat.st_ino)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder().encode(), 0)
        return True

    def _acquire_memory(self, timeout: float) -> bool:
        with _MEMORY_GUARD:
            lock = _MEMORY_LOCKS.setdefault(self.name, threading.Lock())
        if not lock.acquire(timeout=timeout):
            return False
        self._memory = lock
        return True

    def release(self) -> None:
        if self._memory is not None:
            lock, self._memory = self._memory, None
            lock.release()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self._inode = None
            os.close(fd)  # closing the descriptor releases the flock

    @property
    def held(self) -> bool:
        """True while this lock is taken and its file is still the one at ``path``.

        Removing or replacing the lock file while a run holds it would let a
        second runner lock a new file: the run stops before its next write."""
        if self._memory is not None:
            return True
        if self._fd is None or self.path is None:
            return False
        try:
            stat = Path(self.path).stat()
        except OSError:
            return False
        return (stat.st_dev, stat.st_ino) == self._inode

    def holder(self) -> str:
        """Who holds the lock, as its holder wrote it into the file."""
        if self.path is None:
            return "another thread of this process"
        try:
            with Path(self.path).open(encoding="utf-8", errors="replace") as file:
                text = file.read(200).strip()
        except OSError:
            text = ""
        return text or "another process"


def _holder() -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return f"pid {os.getpid()} on {socket.gethostname()}, since {started}\n"
