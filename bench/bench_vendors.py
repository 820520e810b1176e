"""1000 one-line migrations per vendor: ``manage.py sqlmigrate_up`` against the vendor's
own client reading the same statements from one file (the floor: no bookkeeping).

    python bench/bench_vendors.py [--count 1000] [--repeat 3] [--vendor sqlite|mysql]

SQLite: a new database file per run, ``sqlite3 DB < all.sql``. MySQL/MariaDB:
``BENCH_MYSQL_URL`` (default ``mysql://root@127.0.0.1:3306/``), a new database
per run, ``mariadb DB < all.sql``; skipped when no server answers. Prints a
Markdown table of medians (seconds).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

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


def bench_sqlite(work: Path, folder: Path, floor: Path) -> tuple[float, float]:
    database = work / f"{uuid.uuid4().hex}.db"
    ours = sqlmigrate_up(f"sqlite:///{database}", folder)
    other = work / f"{uuid.uuid4().hex}.db"
    with floor.open("rb") as stdin:
        client = timed(["sqlite3", str(other)], stdin=stdin)
    return ours, client


def mysql_server() -> str | None:
    url = os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 3306), 2).close()
    except OSError:
        return None
    return url.rstrip("/") + "/"


def bench_mysql(url: str, folder: Path, floor: Path) -> tuple[float, float]:
    parts = urlsplit(url)
    client = shutil.which("mariadb") or "mysql"
    base = [client, "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306)]
    base += ["-u", parts.username or "root"]
    if parts.password:
        base.append(f"-p{parts.password}")
    ours_db, floor_db = f"bench_{uuid.uuid4().hex[:8]}", f"bench_{uuid.uuid4().hex[:8]}"
    for name in (ours_db, floor_db):
        subprocess.run([*base, "-e", f"CREATE DATABASE {name}"], check=True)
    try:
        ours = sqlmigrate_up(url + ours_db, folder)
        with floor.open("rb") as stdin:
            other = timed([*base, floor_db], stdin=stdin)
    finally:
        for name in (ours_db, floor_db):
            subprocess.run([*base, "-e", f"DROP DATABASE {name}"], check=True)
    return ours, other


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--vendor", action="append", choices=["sqlite", "mysql"])
    options = parser.parse_args()
    vendors = options.vendor or ["sqlite", "mysql"]
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        folder = work / "migrations"
        floor = write_migrations(folder, options.count)
        runs: dict[str, Callable[[], tuple[float, float]]] = {
            "sqlite": lambda: bench_sqlite(work, folder, floor)
        }
        server = mysql_server()
        if server is not None:
            runs["mysql"] = lambda: bench_mysql(server, folder, floor)
        print(f"| vendor | {options.count} migrations: sqlmigrate_up | client < file | ratio |")
        print("|---|---|---|---|")
        for vendor in vendors:
            if vendor not in runs:
                print(f"| {vendor} | skipped: no server | | |")
                continue
            results = [runs[vendor]() for _ in range(options.repeat)]
            ours = statistics.median(r[0] for r in results)
            floor_time = statistics.median(r[1] for r in results)
            print(f"| {vendor} | {ours:.2f} s | {floor_time:.2f} s | {ours / floor_time:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
