"""`up` of 1000 one-line migrations against `psql -f` of the same statements (the floor).

    python bench/bench_up_vs_psql.py [--repeat N]

Same server, each run in a fresh database, alternating run by run. psql
sends each statement as its own query in autocommit: one round trip and one
commit per statement. sqlmigrate sends each file with its version update and
history row in one message: one round trip and one commit per migration.

The target (at most 1.3x the floor) is on the migration work: engine.up timed
inside a started Django process. The whole `manage.py sqlmigrate_up` process
is shown too; it adds Django's start-up (about 0.4 s here, see
bench_noop_up.py), paid once per process whatever the number of migrations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import _common as c

COUNT = 1000
TARGET = 1.3


def concatenate(directory: Path) -> Path:
    """The floor's input: every up file, in order, in one file."""
    whole = directory.parent / "all.sql"
    whole.write_text("".join(p.read_text() for p in sorted(directory.glob("*.up.sql"))))
    return whole


def time_psql(whole: Path) -> float:
    with c.fresh_database() as url:
        command = [c.psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(whole)]
        return c.run(command, url)[0]


def time_up(directory: Path) -> float:
    with c.fresh_database() as url:
        return c.run(c.manage("sqlmigrate_up", "--path", str(directory), "-v", "0"), url)[0]


def probe_up(directory: Path) -> dict[str, Any]:
    with c.fresh_database() as url:
        return c.probe(url, "up", directory)


def main(repeat: int = 3) -> dict[str, Any]:
    floor, ours, inside, trips = [], [], [], 0
    with c.migrations_dir(COUNT) as directory:
        whole = concatenate(directory)
        for _ in range(repeat):
            floor.append(time_psql(whole))
            ours.append(time_up(directory))
            probed = probe_up(directory)
            inside.append(probed["seconds"][0])
            trips = int(probed["round_trips"])
    rows = summarize(floor, ours, inside, trips)
    c.show(rows)
    return {"rows": rows, "psql": floor, "up": ours, "engine_up": inside, "round_trips": trips}


def summarize(
    floor: list[float], ours: list[float], inside: list[float], trips: int
) -> list[c.Row]:
    base, mine = c.median(floor), c.median(ours)
    name = f"{COUNT} one-line migrations"
    return [
        c.row(
            f"up, {name}: engine.up in a started process vs psql -f",
            c.median(inside),
            base,
            "s",
            f"<= {TARGET}x floor",
            c.median(inside) / base <= TARGET,
            runs=inside,
            base_runs=floor,
        ),
        c.row(
            "the same as a whole manage.py sqlmigrate_up process (with Django's start-up)",
            mine,
            base,
            "s",
            "info",
            None,
            runs=ours,
            base_runs=floor,
        ),
        c.row(
            f"round trips of engine.up, {name} (psql -f: {COUNT})",
            trips,
            COUNT,
            "",
            "1 per migration + a few",
            trips <= COUNT + 20,
        ),
    ]


if __name__ == "__main__":
    main(c.repeat_arg(3))
