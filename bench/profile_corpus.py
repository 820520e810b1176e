"""Where the client's time goes in `engine.up()` of a corpus set (cProfile).

    python bench/profile_corpus.py [SET] [--top N] [--server service|embedded]

Builds the set (bench/corpus.py), applies it to a fresh database inside one
started Django process under cProfile, and prints the functions with the
most own time and the most cumulative time. Not a timing: cProfile slows
Python code down, but the ranking says what to optimise.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys

import _common as c
import bench_corpus
import corpus


def profile_child(path: str, top: int) -> None:
    """In the child: django.setup(), then engine.up() under the profiler."""
    import django

    django.setup()
    from sqlmigrate import engine

    profiler = cProfile.Profile()
    result = profiler.runcall(engine.up, path=c.Path(path))
    print(f"applied {len(result.applied)} migrations")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(f"--- by {order} ---")
        print(out.getvalue().split("\n", 6)[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("set", nargs="?", default="plpgsql", choices=list(corpus.SETS))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--server", choices=["auto", "service", "embedded"], default="auto")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        profile_child(options.child, options.top)
        return
    bench_corpus.use_server(options.server)
    folder = corpus.build(options.set)
    with c.fresh_database() as url:
        args = [c.PYTHON, __file__, options.set, "--top", str(options.top), "--child"]
        _, out = c.run([*args, str(folder.path)], url)
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
