"""Peak memory of `manage.py sqlmigrate_up` applying one 50 MB migration file.

    python bench/bench_memory.py [--repeat N]

Two files, each applied by a fresh process into a fresh database, after a
one-line migration that creates the table:
- many INSERT statements (one per line, ~450 bytes each);
- one giant ``INSERT ... VALUES (...), (...), ...`` statement.
The peak RSS of the process comes from ``os.wait4``; the baseline is the
same command applying only the one-line migration. Target: the peak above
the baseline at most 3x the file's size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _common as c

SIZE = 50 * c.MB
# The issue asks for "not more than ~3x"; 10% is what "~" allows here. What is
# left above 3x for one giant statement is libpq growing its send buffer by
# doubling (the old and the new buffer live at once while it copies).
TARGET = 3.0
TOLERANCE = 1.1
CREATE = "CREATE TABLE big (id bigint, payload text);\n"


def many_inserts(payload: str) -> Iterator[str]:
    for i in range(1, 10**9):
        yield f"INSERT INTO big (id, payload) VALUES ({i}, '{payload}');\n"


def giant_insert(payload: str) -> Iterator[str]:
    yield "INSERT INTO big (id, payload) VALUES\n"
    for i in range(1, 10**9):
        yield f"({i}, '{payload}'),\n"


def write_file(path: Path, lines: Iterator[str], last: str = "") -> int:
    """Write lines until the file has SIZE bytes; returns how many went in."""
    written = count = 0
    with path.open("w") as out:
        while written < SIZE - len(last):
            written += out.write(next(lines))
            count += 1
        out.write(last)
    return count + 1


def folder(root: Path, name: str, body: Iterator[str] | None = None, last: str = "") -> Path:
    directory = root / name
    directory.mkdir()
    (directory / "000001_big.up.sql").write_text(CREATE)
    if body is not None:
        count = write_file(directory / f"000002_{name}.up.sql", body, last)
        print(f"      {name}: {count} lines in one {SIZE // c.MB} MB file")
    return directory


def peak(directory: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of applying the folder in a fresh database."""
    with c.fresh_database() as url:
        return c.run_measuring_rss(c.manage("sqlmigrate_up", "--path", str(directory)), url)


def measure(directory: Path, repeat: int) -> tuple[float, list[float]]:
    """(median seconds, every run's peak RSS in MiB)."""
    runs = [peak(directory) for _ in range(repeat)]
    return c.median([s for s, _ in runs]), [m for _, m in runs]


def main(repeat: int = 1) -> dict[str, Any]:
    rows, seconds = [], {}
    with tempfile.TemporaryDirectory(prefix="sqlmigrate-bench-") as tmp:
        root = Path(tmp)
        cases = {
            "many INSERT statements": folder(root, "many", many_inserts("x" * 400)),
            "one giant INSERT ... VALUES": folder(
                root, "giant", giant_insert("x" * 100), "(0, 'last');\n"
            ),
        }
        seconds["baseline"], bases = measure(folder(root, "baseline"), repeat)
        for name, directory in cases.items():
            seconds[name], peaks = measure(directory, repeat)
            rows.append(summarize(name, peaks, bases))
    c.show(rows)
    print("      seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    return {"rows": rows, "seconds": seconds}


def summarize(name: str, peaks: list[float], bases: list[float]) -> c.Row:
    rss, base = c.median(peaks), c.median(bases)
    ratio = (rss - base) / (SIZE / c.MB)
    return c.row(
        f"peak RSS, 50 MB file of {name} (ratio: above baseline / file size)",
        rss,
        base,
        "MiB",
        f"~{TARGET:g}x file size (<= {TARGET * TOLERANCE:.1f}x)",
        ratio <= TARGET * TOLERANCE,
        ratio=ratio,
        runs=peaks,
        base_runs=bases,
    )


if __name__ == "__main__":
    main(c.repeat_arg(1))
