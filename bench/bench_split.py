"""Time and peak memory of splitting big files, without a database.

    python bench/bench_split.py [mysql-inserts|mysql-one-insert|sqlite-semicolons ...]

Each case runs in a fresh child process (so its peak RSS is its own):
- ``mysql-inserts``: 20 MB of one-line INSERTs (~450 bytes each), split and
  checked by the MySQL backend's ``parse_migration``;
- ``mysql-one-insert``: one 20 MB ``INSERT ... VALUES (...), (...)`` statement;
- ``sqlite-semicolons``: one 2 MB statement holding 100 000 quoted semicolons,
  and the same at 1 MB, split by the SQLite backend: the ratio of the two
  times shows whether the cost grows linearly (about 2) or quadratically (4).
Printed: seconds, peak RSS of the child (MB) and its RSS before the split.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
ROW = "INSERT INTO big (id, payload) VALUES ({0}, '{1}');\n"


def mysql_inserts(size: int) -> str:
    payload = "x" * 400
    lines, total, number = [], 0, 0
    while total < size:
        line = ROW.format(number, payload)
        lines.append(line)
        total += len(line)
        number += 1
    return "".join(lines)


def mysql_one_insert(size: int) -> str:
    rows = [f"({n}, '{'y' * 60}')" for n in range(size // 70)]
    return "INSERT INTO big (id, payload) VALUES\n" + ",\n".join(rows) + ";\n"


def sqlite_semicolons(count: int) -> str:
    chunk = "'" + ";" * 1 + "x" * 16 + "'"
    return "SELECT " + " || ".join([chunk] * count) + ";\n"


def child(case: str) -> None:
    sys.path.insert(0, str(ROOT))
    if case.startswith("mysql"):
        from sqlmigrate.backends.mysql.parsing import parse_migration

        text = mysql_inserts(20 * MB) if case == "mysql-inserts" else mysql_one_insert(20 * MB)
    else:
        from sqlmigrate.backends.sqlite.parsing import parse_migration

        count = 100_000 if case == "sqlite-semicolons" else 50_000
        text = sqlite_semicolons(count)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    parsed = parse_migration(text, "bench.sql")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{case}: {len(text) / MB:.1f} MB, {len(parsed.statements)} statements, "
        f"{seconds:.2f} s, peak RSS {peak:.0f} MB (before the split {before:.0f} MB)"
    )


def main() -> None:
    cases = sys.argv[1:] or [
        "mysql-inserts",
        "mysql-one-insert",
        "sqlite-half",
        "sqlite-semicolons",
    ]
    for case in cases:
        subprocess.run([sys.executable, __file__, "--child", case], check=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        main()
