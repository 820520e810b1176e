"""How commands print results: the seed Makefile's ``OK   file`` lines, plus a duration."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runner import AppliedMigration, PreparedStep


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def format_applied(applied: AppliedMigration) -> str:
    return f"OK   {applied.label} ({format_duration(applied.duration)})"


def progress_printer(
    write: Callable[[str], None], verbosity: int
) -> Callable[[AppliedMigration], None]:
    def report(applied: AppliedMigration) -> None:
        if verbosity >= 1:
            write(format_applied(applied))
        if verbosity >= 2:
            mode = "one transaction" if applied.atomic else "dirty-flag protocol"
            write(f"     now at {applied.target} ({mode})")

    return report


def format_plan(planned: tuple[PreparedStep, ...]) -> list[str]:
    """--dry-run: each step and how it would run; ``no change`` when there is none."""
    if not planned:
        return ["no change"]
    width = max(len(item.step.label) for item in planned)
    lines = [f"would run  {item.step.label:<{width}}  ({item.mode})" for item in planned]
    lines.append(f"dry run: {len(planned)} migration(s) checked, nothing changed")
    return lines
