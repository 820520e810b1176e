"""How commands print results: the seed Makefile's ``OK   file`` lines, plus a duration."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runner import AppliedMigration, PreparedStep

Write = Callable[[str], None]
Style = Callable[[str], str]


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def format_applied(applied: AppliedMigration) -> str:
    return f"OK   {applied.label} ({format_duration(applied.duration)})"


def progress_printer(
    write: Write, verbosity: int, success: Style = str
) -> Callable[[AppliedMigration], None]:
    def report(applied: AppliedMigration) -> None:
        if verbosity >= 1:
            write(success(format_applied(applied)))
        if verbosity >= 2:
            mode = "one transaction" if applied.atomic else "dirty-flag protocol"
            write(f"     now at {applied.target} ({mode})")

    return report


def statement_printer(write: Write, keyword: Style = str) -> Callable[[str], None]:
    """``-v 3``: each statement of a file, indented under it, as it is sent."""

    def show(statement: str) -> None:
        lines = statement.strip("\n").splitlines() or [""]
        write("\n".join(keyword(f"     {line}") for line in lines))

    return show


def format_plan(planned: tuple[PreparedStep, ...]) -> list[str]:
    """--dry-run: each step and how it would run; ``no change`` when there is none."""
    if not planned:
        return ["no change"]
    width = max(len(item.step.label) for item in planned)
    lines = [f"would run  {item.step.label:<{width}}  ({item.mode})" for item in planned]
    lines.append(f"dry run: {len(planned)} migration(s) checked, nothing changed")
    return lines
