"""`up` with nothing pending and 1000 applied files, against a bare `django.setup()`.

    python bench/bench_noop_up.py [--repeat N]

Both are whole processes with the same settings and DATABASE_URL, run
alternately; the difference of the medians is what sqlmigrate adds to a
deploy that has nothing to do: the command, the lock, reading the tables and
checking the 1000 applied files for drift. Target (issue 11): at most 20 ms more.
"""

from __future__ import annotations

import subprocess
from typing import Any

import _common as c

COUNT = 1000
TARGET_MS = 20  # issue 11
BARE = [c.PYTHON, "-c", "import django; django.setup()"]


def import_ms(url: str, package: str = "sqlmigrate") -> float:
    """Milliseconds of a bare django.setup() spent importing ``package`` and what only
    it pulls in (``-X importtime``: the cumulative time of its outermost imports)."""
    done = subprocess.run(
        [c.PYTHON, "-X", "importtime", *BARE[1:]],
        env=c.child_env(url),
        cwd=c.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    total, inside = 0, None  # inside: the indentation of the package import being counted
    for line in reversed(done.stderr.splitlines()):  # parents come after their children
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.split("|")
        depth = len(name) - len(name.lstrip())
        if inside is not None and depth <= inside:
            inside = None
        if inside is None and name.strip().split(".")[0] == package:
            total, inside = total + int(cumulative), depth
    return total / 1000


def main(repeat: int = 7) -> dict[str, Any]:
    bare, ours, imports, bare_cpu, ours_cpu = [], [], [], [], []
    with c.migrations_dir(COUNT) as directory, c.fresh_database() as url:
        up = c.manage("sqlmigrate_up", "--path", str(directory))
        c.run(up, url)
        for _ in range(repeat):
            elapsed, cpu, _ = c.run_with_cpu(BARE, url)
            bare.append(elapsed)
            bare_cpu.append(cpu)
            elapsed, cpu, out = c.run_with_cpu(up, url)
            if out.strip() != "no change":
                raise RuntimeError(f"expected 'no change', got {out!r}")
            ours.append(elapsed)
            ours_cpu.append(cpu)
            imports.append(import_ms(url))
    extra = c.median(ours) - c.median(bare)
    extra_cpu = c.median(ours_cpu) - c.median(bare_cpu)
    rows = [
        c.row(
            f"no-op up, {COUNT} applied files (manage.py process) vs bare django.setup()",
            c.median(ours),
            c.median(bare),
            "s",
            f"<= +{TARGET_MS} ms",
            extra * 1000 <= TARGET_MS,
            runs=ours,
            base_runs=bare,
        ),
        c.row(
            "the same in CPU time of the two processes (user + system; steadier on a "
            "shared machine)",
            c.median(ours_cpu),
            c.median(bare_cpu),
            "s",
            f"<= +{TARGET_MS} ms",
            extra_cpu * 1000 <= TARGET_MS,
            runs=ours_cpu,
            base_runs=bare_cpu,
        ),
        c.row(
            "share of bare django.setup() spent importing sqlmigrate (apps.ready; -X importtime)",
            c.median(imports) / 1000,
            None,
            "s",
            "info",
            None,
            runs=[ms / 1000 for ms in imports],
        ),
    ]
    c.show(rows)
    print(f"      difference of medians: {extra * 1000:+.0f} ms (CPU: {extra_cpu * 1000:+.0f} ms)")
    return {"rows": rows, "bare": bare, "up": ours, "import_ms": imports, "cpu": ours_cpu}


if __name__ == "__main__":
    main(c.repeat_arg(7))
