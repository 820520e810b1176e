"""1000 one-line migrations per vendor: ``manage.py sqlmigrate_up`` against the vendor's
own client reading the same statements from one file (the floor: no bookkeeping).

    python bench/bench_vendors.py [--count 1000] [--repeat 3] [--vendor sqlite|mysql]

SQLite: a new database file per run, ``sqlite3 DB < all.sql``. MySQL/MariaDB:
``BENCH_MYSQL_URL`` (default ``mysql://root@127.0.0.1:3306/``), a new database
per run, ``mariadb DB < all.sql``; skipped when no server answers. Where the Go
CLI is installed (bench_corpus.golang_migrate), its ``migrate up`` on a new
database too. Prints a Markdown table of medians (seconds); ``run_all`` puts the
rows in RESULTS.md (for information: the issue sets no target here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import _common as c
from bench_corpus import golang_migrate

ROOT = Path(__file__).resolve().parent.parent


def write_migrations(folder: Path, count: int) -> Path:
    """``count`` migrations of one line each, and the same lines in one file."""
    folder.mkdir()
    lines = []
    for version in range(1, count + 1):
        line = f"CREATE TABLE t{version} (id int);\n"
        (folder / f"{version}_t{version}.up.sql").write_text(line)
        (folder / f"{version}_t{version}.down.sql").write_text(f"DROP TABLE t{version};\n")
        lines.append(line)
    floor = folder.parent / "all.sql"
    floor.write_text("".join(lines))
    return floor


def timed(command: list[str], **kwargs: object) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started


def sqlmigrate_up(url: str, folder: Path) -> float:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "realstaging.settings"}
    command = [sys.executable, str(ROOT / "manage.py"), "sqlmigrate_up", "--path", str(folder)]
    return timed(command, env=env, cwd=ROOT)


CLI = golang_migrate()


def cli_up(url: str, folder: Path) -> float | None:
    """The Go CLI's ``migrate up`` on ``url`` (golang-migrate's URL form); None without it."""
    if CLI is None:
        return None
    return timed([CLI, "-path", str(folder), "-database", url, "up"])


def bench_sqlite(work: Path, folder: Path, floor: Path) -> tuple[float, float, float | None]:
    database = work / f"{uuid.uuid4().hex}.db"
    ours = sqlmigrate_up(f"sqlite:///{database}", folder)
    other = work / f"{uuid.uuid4().hex}.db"
    with floor.open("rb") as stdin:
        client = timed(["sqlite3", str(other)], stdin=stdin)
    return ours, client, cli_up(f"sqlite3://{work / uuid.uuid4().hex}.db", folder)


def mysql_server() -> str | None:
    url = os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 3306), 2).close()
    except OSError:
        return None
    return url.rstrip("/") + "/"


def bench_mysql(url: str, folder: Path, floor: Path) -> tuple[float, float, float | None]:
    parts = urlsplit(url)
    client = shutil.which("mariadb") or "mysql"
    base = [client, "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306)]
    base += ["-u", parts.username or "root"]
    if parts.password:
        base.append(f"-p{parts.password}")
    names = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(3)]
    ours_db, floor_db, cli_db = names
    for name in names:
        subprocess.run([*base, "-e", f"CREATE DATABASE {name}"], check=True)
    try:
        ours = sqlmigrate_up(url + ours_db, folder)
        with floor.open("rb") as stdin:
            other = timed([*base, floor_db], stdin=stdin)
        user = parts.username or "root"
        if parts.password:
            user += f":{parts.password}"
        host = f"{parts.hostname or '127.0.0.1'}:{parts.port or 3306}"
        cli = cli_up(f"mysql://{user}@tcp({host})/{cli_db}", folder)
    finally:
        for name in names:
            subprocess.run([*base, "-e", f"DROP DATABASE {name}"], check=True)
    return ours, other, cli


def measure(count: int, repeat: int, vendors: list[str]) -> dict[str, list[tuple[float, ...]]]:
    """Every run's (sqlmigrate_up, client < file[, CLI]) seconds, per vendor with a server."""
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        folder = work / "migrations"
        floor = write_migrations(folder, count)
        runs: dict[str, Callable[[], tuple[float, float, float | None]]] = {
            "sqlite": lambda: bench_sqlite(work, folder, floor)
        }
        server = mysql_server()
        if server is not None:
            runs["mysql"] = lambda: bench_mysql(server, folder, floor)
        measured = {}
        for vendor in vendors:
            if vendor in runs:
                measured[vendor] = [
                    tuple(t for t in runs[vendor]() if t is not None) for _ in range(repeat)
                ]
                print(f"  {vendor}: {measured[vendor]}", flush=True)
        return measured


def rows_for(count: int, measured: dict[str, list[tuple[float, ...]]]) -> list[c.Row]:
    rows = []
    clients = {"sqlite": "sqlite3 db < file", "mysql": "mariadb db < file"}
    for vendor, results in measured.items():
        ours, client = [r[0] for r in results], [r[1] for r in results]
        label = f"{vendor}: {count} one-line migrations, whole manage.py sqlmigrate_up process"
        rows.append(
            c.row(f"{label} vs {clients[vendor]}", c.median(ours), c.median(client),
                  "s", "info", None, runs=ours, base_runs=client)
        )  # fmt: skip
        if all(len(r) == 3 for r in results):
            cli = [r[2] for r in results]
            rows.append(
                c.row(f"{label} vs the Go CLI (`migrate up`)", c.median(ours), c.median(cli),
                      "s", "info", None, runs=ours, base_runs=cli)
            )  # fmt: skip
    return rows


def main(count: int = 1000, repeat: int = 3, vendors: list[str] | None = None) -> dict[str, Any]:
    measured = measure(count, repeat, vendors or ["sqlite", "mysql"])
    rows = rows_for(count, measured)
    c.show(rows)
    return {"rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vendor", action="append", choices=["sqlite", "mysql"])
    options = parser.parse_args()
    main(options.count, options.repeat, options.vendor)
