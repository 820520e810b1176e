"""Runs inside one Django process: times an engine call; prints JSON on its last line.

    python bench/_probe.py up|dry-run|status PATH REPEAT

Round trips are counted as psycopg ``Cursor.execute`` calls: sqlmigrate sends
each message as one simple query, so one call is one round trip.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def count_round_trips() -> list[int]:
    import psycopg

    counter = [0]
    original = psycopg.Cursor.execute

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        counter[0] += 1
        return original(self, *args, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    return counter


def call(kind: str, path: Path) -> dict[str, Any]:
    """Run one call; what it did, to check that the run measured the right thing."""
    from sqlmigrate import engine
    from sqlmigrate.status import read_status

    if kind == "up":
        return {"applied": len(engine.up(path=path).applied)}
    if kind == "dry-run":
        return {"planned": len(engine.up(path=path, dry_run=True).planned)}
    status = read_status(path=path)
    if status.database_error or status.source_error:
        raise RuntimeError(status.database_error or status.source_error)
    return {"rows": len(status.rows), "pending": status.pending, "applied": status.applied}


def cpu_seconds() -> float:
    """User + system CPU of this process so far (the client's share of a run)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    import django

    kind, path, repeat = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    django.setup()
    trips = count_round_trips()
    seconds, cpu, did = [], [], {}
    for _ in range(repeat):
        started, used = time.perf_counter(), cpu_seconds()
        did = call(kind, path)
        seconds.append(time.perf_counter() - started)
        cpu.append(cpu_seconds() - used)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "round_trips": trips[0],
                "did": did,
                "peak_rss_mib": peak_rss_mib(),
            }
        )
    )


if __name__ == "__main__":
    main()
