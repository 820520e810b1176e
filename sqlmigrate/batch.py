"""Several small atomic migrations in one message, each in its own transaction.

One round trip per migration is most of what a run of small files costs. A
batch sends ``BEGIN; <timeouts>; <file>; <closing>; <duration>; COMMIT;`` for each of up
to ``BATCH_STEPS`` consecutive atomic migrations as one simple-query message.
The server stops at the first error, so the outcome is the same as sending
them one by one: the migrations before the failing one are committed, the
failing one is rolled back, the later ones never run. Which migration and
statement failed is read from the answers: each COMMIT that came back closes
one migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from .backends.base import Backend, ExecutionFailed, Outcome
from .runner import (
    AppliedMigration,
    PreparedStep,
    _atomic_failure,
    _body,
    _closing_sql,
    _Context,
    _Message,
    _opening,
    _show,
)

#: at most this many migrations, and this many characters, in one message
BATCH_STEPS = 100
BATCH_CHARS = 1 << 20
#: a file longer than this runs on its own
BATCHED_FILE = 64 << 10
_DURATION = (
    "SELECT extract(epoch FROM pg_catalog.clock_timestamp() - pg_catalog.transaction_timestamp())"
)


def batches(backend: Backend, prepared: list[PreparedStep]) -> Iterator[list[PreparedStep]]:
    """The steps in order, grouped: consecutive small atomic steps together."""
    group: list[PreparedStep] = []
    size = 0
    for item in prepared:
        length = _batchable(item) if backend.batches else None
        if length is None or len(group) >= BATCH_STEPS or size + length > BATCH_CHARS:
            if group:
                yield group
            group, size = [], 0
        if length is None:
            yield [item]
            continue
        group.append(item)
        size += length
    if group:
        yield group


def _batchable(item: PreparedStep) -> int | None:
    sql = item.sql
    if sql is None:
        return 0
    if not sql.atomic or sql.raw is not None or len(sql.text) > BATCHED_FILE:
        return None
    return len(sql.text)


@dataclass(frozen=True, slots=True)
class _Part:
    """One migration's share of the batch's text."""

    context: _Context
    message: _Message


def run_batch(contexts: list[_Context], done: Callable[[AppliedMigration], None]) -> None:
    """Run ``contexts`` (each a step) in one message; ``done`` gets each committed one, in
    order, also when a later one fails (then the failure is raised after them)."""
    parts, text = _build(contexts)
    backend = contexts[0].backend
    try:
        outcomes = backend.execute(text)
    except ExecutionFailed as failure:
        finished = _report(parts, list(failure.completed), done)
        raise _failure_of(parts, finished, failure) from None
    _report(parts, outcomes, done)


def _build(contexts: list[_Context]) -> tuple[list[_Part], str]:
    pieces: list[str] = []
    parts: list[_Part] = []
    offset = 0
    for context in contexts:
        count = len(context.sql.statements) if context.prepared.sql is not None else 0
        body, origin = _body(context.sql) if count else ("", 0)
        assert isinstance(body, str)
        opening = _opening(context)  # BEGIN, and the file's lock and statement timeouts
        text = opening + (f"{body}\n;\n" if count else "")
        text += f"{_closing_sql(context)};\n{_DURATION};\nCOMMIT;\n"
        skip = opening.count(";\n")
        message = _Message(text, 0, count, skip, origin, prefix=offset + len(opening))
        parts.append(_Part(context, message))
        pieces.append(text)
        offset += len(text)
        if count:
            _show(context, 0, count)
    return parts, "".join(pieces)


def _report(
    parts: list[_Part], outcomes: list[Outcome], done: Callable[[AppliedMigration], None]
) -> int:
    """Call ``done`` for each migration whose COMMIT came back; how many did. Its duration
    is the value of the statement just before its COMMIT."""
    finished = 0
    previous: Outcome = (-1, "", None)
    for outcome in outcomes:
        index, tag, _ = outcome
        if tag == "COMMIT" and finished < len(parts):
            value = previous[2] if previous[0] == index - 1 else None
            done(_applied(parts[finished].context, float(value) if value else 0.0))
            finished += 1
        previous = outcome
    return finished


def _failure_of(parts: list[_Part], finished: int, failure: ExecutionFailed) -> Exception:
    """The failing migration's error, with the statement counted from its own BEGIN."""
    part = parts[finished]
    before = _results_before(failure.completed, finished)
    index = failure.error.statement_index
    local = None if index is None else index - before
    error = replace(failure.error, statement_index=local)
    return _atomic_failure(part.context, part.message, error)


def _results_before(completed: tuple[Outcome, ...], finished: int) -> int:
    """How many answers the committed migrations took: up to the last COMMIT."""
    commits = [index for index, tag, _ in completed if tag == "COMMIT"]
    return commits[finished - 1] + 1 if finished else 0


def _applied(context: _Context, seconds: float) -> AppliedMigration:
    step = context.step
    return AppliedMigration(
        version=step.migration.version,
        direction=step.direction,
        label=step.label,
        target=step.target,
        duration=seconds,
        atomic=True,
        had_file=context.prepared.sql is not None,
    )
