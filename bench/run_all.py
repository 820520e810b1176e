"""Run every benchmark on one throwaway server and write bench/RESULTS.md.

    python bench/run_all.py        (or: make bench)

Takes about half an hour on 2 cores (most of it the corpus sets). Uses the
PostgreSQL service on 127.0.0.1:5432 when it answers, else a throwaway
embedded one; set BENCH_DATABASE_URL to use another server.
"""

from __future__ import annotations

import time
from typing import Any

import _common as c
import bench_corpus
import bench_memory
import bench_noop_up
import bench_status
import bench_up_vs_psql
import bench_vendors

BENCHMARKS = [
    bench_up_vs_psql,
    bench_noop_up,
    bench_status,
    bench_memory,
    bench_corpus,
    bench_vendors,
]
RESULTS = c.BENCH / "RESULTS.md"


def table(rows: list[c.Row]) -> list[str]:
    lines = [
        "| measurement | ours | floor / baseline | ours - base | ratio | target | result "
        "| runs: ours / base (min-max) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for entry in rows:
        unit, base = entry["unit"], entry["base"]
        extra = None if base is None else entry["ours"] - base
        ratio = "-" if entry["ratio"] is None else f"{entry['ratio']:.2f}"
        cells = [
            entry["measurement"].strip(),
            c.amount(entry["ours"], unit),
            c.amount(base, unit),
            c.amount(extra, unit),
            ratio,
            entry["target"],
            f"**{c.verdict(entry)}**",
            entry["spread"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def reproduce() -> list[str]:
    lines = [
        "## How to reproduce",
        "",
        "Everything: `make bench` (or `python bench/run_all.py`).",
        "One benchmark (each starts its own throwaway PostgreSQL):",
        "",
    ]
    for module in BENCHMARKS:
        summary = (module.__doc__ or "").strip().splitlines()[0]
        lines.append(f"- `python bench/{module.__name__}.py [--repeat N]`: {summary}")
    lines += [
        "",
        "Set `BENCH_DATABASE_URL` to measure against another server. Each file's "
        "docstring says exactly what is measured and how.",
        "",
    ]
    return lines


def write(machine: dict[str, str], rows: list[c.Row], minutes: float) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/run_all.py`; do not edit by hand. "
        "Wall-clock medians; a machine with other work running gives noisier numbers "
        "(see the load average).",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += [f"- Run time: {minutes:.1f} min", "", *table(rows), "", *reproduce()]
    RESULTS.write_text("\n".join(lines))


def main() -> dict[str, Any]:
    started = time.monotonic()
    server = bench_corpus.use_server("auto")  # the PostgreSQL service when it answers
    machine = {"Server": server, **c.machine()}
    results = {module.__name__: module.main() for module in BENCHMARKS}
    rows = [entry for result in results.values() for entry in result["rows"]]
    machine["Load average at the end"] = c.machine()["Load average (1, 5, 15 min)"]
    write(machine, rows, (time.monotonic() - started) / 60)
    print(f"wrote {RESULTS.relative_to(c.ROOT)}")
    return results


if __name__ == "__main__":
    main()
