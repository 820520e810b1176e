"""Python's cyclic garbage collector, paused while thousands of files are read and checked.

The pre-flight and the status page make tens of thousands of small objects
(statements, spans, checksums, rows) that live until the call returns. Every
few hundred allocations the collector walks the young ones again, and now and
then all of them: about a fifth of a dry run over 10 000 files. They need no
collector (reference counting frees them; the loops make no reference cycles),
so it is paused for those loops only.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector inside the block; back on after it, only if it was on
    (a caller that turned it off keeps it off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
