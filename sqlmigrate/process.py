"""What a command's own process does differently from a library call: the heap."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector off the objects of start-up, then off everything.

    Before the run: Django's and our modules' objects move to the permanent
    generation, so the full collections that parsing many files triggers
    walk only the run's own objects. After it: the process is about to
    exit, and interpreter shutdown would otherwise walk every object once
    more in a final collection (tens of ms after a big plan). Only for a
    process that ends with the command: frozen objects are never freed.
    Measured on the corpus sets (bench/corpus.py), whole ``sqlmigrate_up``
    processes: client CPU 1.44 -> 1.23 s (views), 1.09 -> 0.84 s (plpgsql).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.freeze()
