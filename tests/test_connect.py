"""``sqlmigrate_up --wait SECONDS``: a database that is not there yet, or never comes."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.db import connection

from .conftest import Migrations, Schema, run_manage

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cret-pw-never-shown"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tcp_url(port: int, schema: str, password: str = "") -> str:
    settings = connection.settings_dict
    user = quote(settings["USER"] or "postgres", safe="")
    credentials = f"{user}:{quote(password)}" if password else user
    return (
        f"postgresql://{credentials}@127.0.0.1:{port}/{settings['NAME']}"
        f"?options=-csearch_path%3D{schema}&connect_timeout=5"
    )


def upstream() -> socket.socket:
    """A connection to the test PostgreSQL, wherever it listens (unix socket or TCP)."""
    host, port = connection.settings_dict["HOST"], connection.settings_dict["PORT"] or 5432
    if host.startswith("/"):
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(f"{host}/.s.PGSQL.{port}")
        return sock
    return socket.create_connection((host or "127.0.0.1", int(port)))


def pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def late_proxy(port: int, delay: float) -> Iterator[None]:
    """From ``delay`` seconds on, 127.0.0.1:port forwards to the test PostgreSQL."""
    stop = threading.Event()

    def serve() -> None:
        if stop.wait(delay):
            return
        with socket.socket() as listener:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen()
            listener.settimeout(0.2)
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                server = upstream()
                for a, b in ((client, server), (server, client)):
                    threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def test_nothing_listens_gives_up_at_the_deadline(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "one", "CREATE TABLE one (id int);")
    port = free_port()
    started = time.monotonic()
    done = run_manage(
        "sqlmigrate_up", "--wait", "2", "--path", str(migrations.path),
        url=tcp_url(port, schema.name, SECRET), timeout=30,
    )  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == 1
    assert done.stdout == (
        f"waiting for database alias 'default' (127.0.0.1:{port}) to accept connections ...\n"
    )
    assert re.fullmatch(
        rf"error: database alias 'default' \(127\.0\.0\.1:{port}\) did not accept connections "
        r"within 2 s: .*Connection refused.*\. Check that the database is running and that "
        r"DATABASES\['default'\] points at it, or wait longer with --wait SECONDS\n",
        done.stderr,
    )
    assert SECRET not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert 2 <= took < 2 + 10  # the deadline, plus a Django start-up
    assert schema.tables() == set()


def test_a_server_that_starts_late(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "one", "CREATE TABLE one (id int);")
    port = free_port()
    started = time.monotonic()
    with late_proxy(port, delay=3):
        done = run_manage(
            "sqlmigrate_up", "--wait", "30", "--path", str(migrations.path),
            url=tcp_url(port, schema.name), timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"waiting for database alias 'default' (127.0.0.1:{port}) to accept connections ..."
    )
    answered = re.fullmatch(
        r"database alias 'default' accepts connections \(after (\d+\.\d) s\)", lines[1]
    )
    assert answered is not None
    assert 0 < float(answered[1]) < 10  # counted from the command's first attempt
    assert time.monotonic() - started >= 3
    assert lines[2].startswith("OK   1_one.up.sql (")
    assert schema.version_row() == [(1, False)]


def test_an_answering_server_means_no_wait_line(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "one", "CREATE TABLE one (id int);")
    done = run_manage(
        "sqlmigrate_up", "--wait", "5", "--path", str(migrations.path), url=schema.url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK   1_one.up.sql (")


@pytest.mark.parametrize("bad", ["-1", "nan", "inf"])
def test_a_bad_wait_is_refused(schema: Schema, migrations: Migrations, bad: str) -> None:
    done = run_manage(
        "sqlmigrate_up", "--wait", bad, "--path", str(migrations.path), url=schema.url
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: --wait must be a number of seconds, 0 or more, not ")
