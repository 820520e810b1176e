"""Planning and status with 10 000 migration files.

    python bench/bench_status.py [--repeat N]

Timed inside one started Django process (bench/_probe.py), median of N calls:
- ``engine.up(dry_run=True)`` on an empty database: all 10 000 pending, so
  every file is read, hashed and parsed (the pre-flight);
- ``read_status()`` on the empty database;
- both again once all 10 000 are applied (with history rows): nothing
  pending, every applied file is hashed for the drift check.
Target: each under 0.5 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import _common as c

COUNT = 10_000
TARGET = 0.5


def measure(url: str, directory: Path, repeat: int, state: str) -> list[c.Row]:
    rows = []
    for kind, name in (("dry-run", "engine.up(dry_run=True)"), ("status", "read_status()")):
        probed = c.probe(url, kind, directory, repeat)
        seconds = c.median(probed["seconds"])
        rows.append(
            c.row(
                f"{name}, {COUNT} files, {state}",
                seconds,
                None,
                "s",
                f"< {TARGET} s",
                seconds < TARGET,
                runs=probed["seconds"],
            )
        )
        print(f"      {kind} {state}: {probed['did']}, runs {_ms(probed['seconds'])}")
    return rows


def _ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f}" for v in values) + " ms"


def main(repeat: int = 3) -> dict[str, Any]:
    rows = []
    with c.migrations_dir(COUNT) as directory:
        with c.fresh_database() as url:
            rows += measure(url, directory, repeat, "all pending")
        # Applying is set-up here, not the measurement: commits need not reach disk.
        with c.fresh_database(durable=False) as url:
            c.run(c.manage("sqlmigrate_up", "--path", str(directory), "-v", "0"), url)
            rows += measure(url, directory, repeat, "all applied")
    c.show(rows)
    return {"rows": rows}


if __name__ == "__main__":
    main(c.repeat_arg(3))
