"""`up` of realistic migration sets (bench/corpus.py) against `psql -f` and `psql -1 -f`.

    python bench/bench_corpus.py [--repeat N] [--sets oneline,views,...] [--server service]

For each set, every run on a fresh database, alternating method by method:
``psql -f`` and ``psql -1 -f`` of the up files concatenated (the floors; psql
is /usr/bin/psql), ``psql -f`` with ``synchronous_commit=off`` (how
sqlmigrate's run commits: plain ``psql -f`` waits for the disk after every
statement, which on a slow disk is most of its time), ``engine.up()`` timed
inside a started Django process (bench/_probe.py), and the whole processes
``manage.py sqlmigrate_up`` and ``python -m sqlmigrate up``. Medians of N
runs (3 for the 300 000-statement set, whose ``psql -f`` runs once: 300 000
commits, each waiting for the disk).
Client CPU is the user + system time of our process (in-process: during the
call) or of the child (whole processes, psql). Round trips: psycopg
``Cursor.execute`` calls in-process; psql sends one per statement.

Goals (issue 11): in-process at most 0.9x ``psql -f`` (1.0x for the
300 000-statement file); the whole ``python -m sqlmigrate`` process at most
0.7x the Go CLI's ``migrate -path DIR -database URL up`` (1.0x on the small
wrapped set, where Python's start-up is most of the budget). The CLI is
measured when there is one (GOLANG_MIGRATE, ``migrate`` on PATH, or
/opt/golang-migrate/migrate); without it those rows are left out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _common as c
import corpus

PSQL = "/usr/bin/psql" if Path("/usr/bin/psql").exists() else c.psql()
SERVICE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
GOAL = {"inserts": 1.0}  # in-process / psql -f; 0.9 for the others
CLI_GOAL = {"wrapped": 1.0}  # python -m sqlmigrate / the Go CLI; 0.7 for the others


def golang_migrate() -> str | None:
    """The Go CLI: GOLANG_MIGRATE, ``migrate`` on PATH, or /opt/golang-migrate/migrate."""
    for candidate in (os.environ.get("GOLANG_MIGRATE"), shutil.which("migrate")):
        if candidate:
            return candidate
    built = Path("/opt/golang-migrate/migrate")
    return str(built) if built.exists() else None


CLI = golang_migrate()
METHODS = (
    "psql -f",
    "psql -f, async commit",
    "psql -1 -f",
    "engine.up",
    "manage.py",
    "python -m sqlmigrate",
    *(("golang-migrate",) if CLI else ()),
)
#: psql committing as sqlmigrate's run does (synchronous_commit = off): on a server
#: whose disk is slow to flush, plain ``psql -f`` mostly measures one flush per statement
ASYNC = {"PGOPTIONS": "-c synchronous_commit=off"}


def use_server(choice: str) -> str:
    """Point _common at the PostgreSQL 15 service, or the embedded server; which one."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return "BENCH_DATABASE_URL"
    if c.server_url.cache_info().currsize:  # another benchmark of this process chose
        return "embedded"
    if choice == "service" or (choice == "auto" and _answers("127.0.0.1", 5432)):
        os.environ["BENCH_DATABASE_URL"] = SERVICE_URL
        return "service"
    return "embedded"


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def timed(args: list[str], url: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one command; fails loudly on a bad exit."""
    with Path(os.devnull).open("wb") as null, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        environment = {**c.child_env(url), **(env or {})}
        child = subprocess.Popen(args, env=environment, cwd=c.ROOT, stdout=null, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise RuntimeError(f"{args} failed:\n{errors.read()[-2000:].decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime


def measure(method: str, folder: corpus.Folder, whole: Path) -> dict[str, Any]:
    with c.fresh_database() as url:
        if method.startswith("psql"):
            one = ["-1"] if "-1" in method else []
            args = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", *one, "-d", url, "-f", str(whole)]
            wall, cpu = timed([*args, "-o", os.devnull], url, ASYNC if "async" in method else None)
            return {"wall": wall, "cpu": cpu}
        if method == "engine.up":
            probed = c.probe(url, "up", folder.path)
            if probed["did"]["applied"] != folder.count:
                raise RuntimeError(f"engine.up applied {probed['did']}, not {folder.count}")
            return {
                "wall": probed["seconds"][0],
                "cpu": probed["cpu_seconds"][0],
                "trips": probed["round_trips"],
            }
        if method == "manage.py":
            args = c.manage("sqlmigrate_up", "--path", str(folder.path), "-v", "0")
        elif method == "golang-migrate":
            assert CLI is not None
            # lib/pq asks for TLS unless told otherwise; the local server has none
            plain = url + ("&" if "?" in url else "?") + "sslmode=disable"
            args = [CLI, "-path", str(folder.path), "-database", plain, "up"]
        else:
            args = [c.PYTHON, "-m", "sqlmigrate", "-path", str(folder.path), "-database", url, "up"]
        wall, cpu = timed(args, url)
        return {"wall": wall, "cpu": cpu}


def statements(whole: Path) -> int:
    """How many statements psql sends (one round trip each)."""
    import pglast

    return len(pglast.split(whole.read_text(), with_parser=False))


def bench_set(name: str, repeat: int) -> dict[str, Any]:
    folder = corpus.build(name)
    whole = folder.path.parent / f"{name}.all.sql"
    whole.write_text("".join(p.read_text() for p in folder.ups))
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in METHODS}
    for index in range(repeat):
        for method in METHODS:
            if method.startswith("psql -f") and name == "inserts" and index > 0:
                continue  # 300 000 commits that each wait for the disk: minutes, once is enough
            runs[method].append(measure(method, folder, whole))
            print(
                f"  {name} run {index + 1} {method}: {runs[method][-1]['wall']:.2f} s", flush=True
            )
    size = corpus.size(folder)
    return {"name": name, "files": folder.count, "bytes": size, "runs": runs,
            "statements": statements(whole)}  # fmt: skip


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return c.median([r[key] for r in runs])


def rows_for(result: dict[str, Any]) -> list[c.Row]:
    name, runs = result["name"], result["runs"]
    label = f"{name} ({result['files']} files, {result['bytes'] / c.MB:.2f} MB)"
    floor, floor1 = median_of(runs["psql -f"], "wall"), median_of(runs["psql -1 -f"], "wall")
    floor_async = median_of(runs["psql -f, async commit"], "wall")
    inside = median_of(runs["engine.up"], "wall")
    goal = GOAL.get(name, 0.9)
    walls = {m: [r["wall"] for r in runs[m]] for m in METHODS}
    rows = [
        c.row(f"{label}: engine.up in a started process vs psql -f", inside, floor, "s",
              f"<= {goal}x psql -f", inside / floor <= goal, runs=walls["engine.up"],
              base_runs=walls["psql -f"]),
        c.row(f"{label}: engine.up vs psql -f with synchronous_commit=off (as our run)", inside,
              floor_async, "s", "info", None, runs=walls["engine.up"],
              base_runs=walls["psql -f, async commit"]),
        c.row(f"{label}: engine.up vs psql -1 -f", inside, floor1, "s", "info", None,
              runs=walls["engine.up"], base_runs=walls["psql -1 -f"]),
    ]  # fmt: skip
    for method in ("manage.py", "python -m sqlmigrate"):
        whole = median_of(runs[method], "wall")
        rows.append(
            c.row(f"{label}: whole `{method}` process vs psql -f", whole, floor,
                  "s", "info", None, runs=walls[method], base_runs=walls["psql -f"])
        )  # fmt: skip
    if "golang-migrate" in runs:
        rows += cli_rows(label, name, runs, walls)
    cpu, psql_cpu = median_of(runs["engine.up"], "cpu"), median_of(runs["psql -f"], "cpu")
    megabytes = result["bytes"] / c.MB
    rows += [
        c.row(f"{label}: client CPU, engine.up vs psql -f ({cpu / megabytes:.2f} s per MB)",
              cpu, psql_cpu, "s", "info", None),
        c.row(f"{label}: client CPU, whole manage.py process vs psql -f",
              median_of(runs["manage.py"], "cpu"), psql_cpu, "s", "info", None),
        c.row(f"{label}: round trips of engine.up (psql -f: one per statement)",
              runs["engine.up"][0]["trips"], result["statements"], "", "info", None),
    ]  # fmt: skip
    return rows


def cli_rows(
    label: str, name: str, runs: dict[str, list[dict[str, Any]]], walls: dict[str, list[float]]
) -> list[c.Row]:
    """Whole processes against the Go CLI's (the issue's whole-process goal)."""
    cli = median_of(runs["golang-migrate"], "wall")
    goal = CLI_GOAL.get(name, 0.7)
    rows = []
    for method in ("python -m sqlmigrate", "manage.py"):
        whole = median_of(runs[method], "wall")
        rows.append(
            c.row(f"{label}: whole `{method}` process vs the Go CLI (`migrate up`)", whole, cli,
                  "s", f"<= {goal}x CLI" if method != "manage.py" else "info",
                  whole / cli <= goal if method != "manage.py" else None,
                  runs=walls[method], base_runs=walls["golang-migrate"])
        )  # fmt: skip
    rows.append(
        c.row(f"{label}: client CPU, whole python -m sqlmigrate process vs the Go CLI",
              median_of(runs["python -m sqlmigrate"], "cpu"),
              median_of(runs["golang-migrate"], "cpu"), "s", "info", None)
    )  # fmt: skip
    return rows


def main(repeat: int = 5, sets: list[str] | None = None, server: str = "auto") -> dict[str, Any]:
    where = use_server(server)
    print(f"server: {where} ({c.server_url().rsplit('@', 1)[-1]}); psql: {PSQL}")
    rows: list[c.Row] = []
    results = []
    for name in sets or list(corpus.SETS):
        result = bench_set(name, min(repeat, 3) if name == "inserts" else repeat)
        results.append(result)
        rows += rows_for(result)
        c.show(rows_for(result))
    shutil.rmtree(corpus.OUT / "inserts", ignore_errors=True)  # 22 MB: rebuilt on demand
    return {"rows": rows, "results": results, "server": where}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--sets", default=",".join(corpus.SETS), help="comma-separated set names")
    parser.add_argument(
        "--server",
        choices=["auto", "service", "embedded"],
        default="auto",
        help="the PostgreSQL service on 127.0.0.1:5432 (auto: when it answers) or embedded PG",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args(sys.argv[1:])
    main(options.repeat, options.sets.split(","), options.server)
