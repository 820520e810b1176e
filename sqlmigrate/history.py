"""sqlmigrate's side table: one row per migration run, with the file's checksum.

golang-migrate keeps one row, the current version; the Go CLI knows nothing
of this table and keeps working beside it. Rows say what ran, when, for how
long, by whom, and the sha256 of the file's bytes, so that sqlmigrate can
refuse edited applied files (drift) and older files merged late (out of
order). When the version moved without sqlmigrate (the CLI ran), the next
run records what it observed, so gaps are explained rather than guessed.

Outcomes: ``applied`` (ran here), ``running`` (a dirty-protocol file that has
not finished: a crash leaves it so, never claiming success), ``failed``,
``observed`` (applied or undone outside sqlmigrate), ``backfilled``
(adopted with ``sqlmigrate_backfill``). Direction ``force`` rows record forces.
"""

from __future__ import annotations

import hashlib
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pglast import parser as pg_parser

from . import __version__
from .backends.base import Backend
from .source import Migration, MigrationSource

COLUMNS = (
    "id, version, name, direction, outcome, checksum, content_checksum, started_at, "
    "duration_ms, db_user, hostname, application, resulting_version"
)
#: outcomes that say whether a version's up file is in the database
STATE_OUTCOMES = ("applied", "observed", "backfilled")


def create_table_sql(qualified: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {qualified} (
    id bigserial PRIMARY KEY,
    version bigint NOT NULL,
    name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('up', 'down', 'force')),
    outcome text NOT NULL
        CHECK (outcome IN ('running', 'applied', 'failed', 'observed', 'backfilled')),
    checksum text,
    content_checksum text,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    duration_ms double precision,
    db_user text NOT NULL DEFAULT current_user,
    hostname text,
    application text,
    resulting_version bigint
)"""


def states_sql(qualified: str) -> str:
    """Per version, the latest row that says whether its up file is applied."""
    outcomes = ", ".join(f"'{o}'" for o in STATE_OUTCOMES)
    return (
        f"SELECT DISTINCT ON (version) {COLUMNS} FROM {qualified} "
        f"WHERE direction IN ('up', 'down') AND outcome IN ({outcomes}) "
        f"ORDER BY version, id DESC"
    )


def last_sql(qualified: str) -> str:
    return f"SELECT {COLUMNS} FROM {qualified} ORDER BY id DESC LIMIT 1"


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    version: int
    name: str
    direction: str
    outcome: str
    checksum: str | None
    content_checksum: str | None
    started_at: datetime
    duration_ms: float | None
    db_user: str
    hostname: str | None
    application: str | None
    resulting_version: int | None

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Entry:
        entry = cls(*row)
        if entry.resulting_version == -1:
            return _replace_resulting(entry, None)
        return entry

    @property
    def outside(self) -> bool:
        """True when sqlmigrate did not run it (observed or adopted)."""
        return self.outcome in ("observed", "backfilled")


def _replace_resulting(entry: Entry, value: int | None) -> Entry:
    values = {name: getattr(entry, name) for name in Entry.__slots__}
    values["resulting_version"] = value
    return Entry(**values)


@dataclass(frozen=True, slots=True)
class HistoryView:
    """What the side table says, read once per run."""

    states: dict[int, Entry] = field(default_factory=dict)
    last: Entry | None = None
    exists: bool = False

    @classmethod
    def from_rows(
        cls, states: Iterable[tuple[Any, ...]], last: Iterable[tuple[Any, ...]]
    ) -> HistoryView:
        entries = [Entry.from_row(row) for row in states]
        last_rows = [Entry.from_row(row) for row in last]
        return cls({e.version: e for e in entries}, last_rows[0] if last_rows else None, True)

    def applied(self, version: int) -> Entry | None:
        """The row that put ``version``'s up file in the database, if it is there."""
        entry = self.states.get(version)
        return entry if entry is not None and entry.direction == "up" else None

    def knows(self, version: int) -> bool:
        return version in self.states

    def tracked_before(self, version: int) -> bool:
        """History covers an earlier version, so ``version`` had its turn here."""
        return any(known < version for known in self.states)


@dataclass(frozen=True, slots=True)
class Checksums:
    sha256: str
    #: sha256 of the SQL tokens without whitespace and comments
    content: str


def checksums(data: bytes, text: str) -> Checksums:
    return Checksums(hashlib.sha256(data).hexdigest(), content_checksum(text))


def content_checksum(text: str) -> str:
    """A hash that ignores whitespace and comments, to tell cosmetic edits apart."""
    try:
        tokens = [
            text[token.start : token.end + 1]
            for token in pg_parser.scan(text)
            if token.name not in ("SQL_COMMENT", "C_COMMENT")
        ]
    except pg_parser.ParseError:
        tokens = text.split()
    return hashlib.sha256("\x00".join(tokens).encode("utf-8")).hexdigest()


def file_checksums(path: Path) -> Checksums:
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    return checksums(data, text)


def application_name() -> str:
    command = [Path(sys.argv[0]).name, *sys.argv[1:2]] if sys.argv and sys.argv[0] else []
    return " ".join([f"sqlmigrate {__version__}", *command])


class HistoryTable:
    """Writes and reads the side table through a locked backend session."""

    def __init__(self, backend: Backend, table: str, qualified: str, label: str) -> None:
        self.backend = backend
        self.table = table
        self.qualified = qualified
        self.label = label
        self._hostname = socket.gethostname()
        self._application = application_name()

    def ensure(self) -> None:
        """Create the table when missing; checked first, as for the version table."""
        if not self.backend.table_exists(self.table):
            self.backend.execute(create_table_sql(self.qualified))

    def load(self) -> HistoryView:
        return HistoryView.from_rows(
            self.backend.query(states_sql(self.qualified)),
            self.backend.query(last_sql(self.qualified)),
        )

    def observe(
        self, view: HistoryView, current: int | None, source: MigrationSource
    ) -> HistoryView:
        """Record a version change made outside sqlmigrate since its last row.

        The rows say which files went in (or out) without sqlmigrate, with the
        checksums the files have now, so later checks have something to go on.
        """
        last = view.last
        if last is None or last.resulting_version == current:
            return view
        before = last.resulting_version
        rows = [
            self.insert_sql(**row, outcome="observed", resulting=current, timed=False)
            for row in _observed_rows(view, source, before, current)
        ]
        if not rows:
            rows.append(
                self.insert_sql(
                    version=current,
                    name="",
                    direction="force",
                    outcome="observed",
                    sums=None,
                    resulting=current,
                    timed=False,
                )
            )
        self.backend.execute(";\n".join(rows))
        return self.load()

    def backfill_sql(
        self, source: MigrationSource, view: HistoryView, current: int | None
    ) -> list[str]:
        """Rows adopting every applied version that history does not know yet."""
        return [
            self.insert_sql(
                version=m.version,
                name=m.up.name,
                direction="up",
                outcome="backfilled",
                sums=file_checksums(m.up.path),
                resulting=current,
                timed=False,
            )
            for m in source
            if current is not None
            and m.version <= current
            and m.up is not None
            and not view.knows(m.version)
        ]

    def insert_sql(
        self,
        *,
        version: int | None,
        name: str,
        direction: str,
        outcome: str,
        sums: Checksums | None,
        resulting: int | None,
        timed: bool = True,
    ) -> str:
        """An INSERT of one row; ``timed``: duration from the transaction's start."""
        lit = self.backend.literal
        duration = (
            "extract(epoch FROM clock_timestamp() - transaction_timestamp()) * 1000"
            if timed
            else "NULL"
        )
        values = [
            str(-1 if version is None else version),
            lit(name),
            lit(direction),
            lit(outcome),
            lit(sums.sha256 if sums else None),
            lit(sums.content if sums else None),
            "transaction_timestamp()" if timed else "clock_timestamp()",
            duration,
            lit(self._hostname),
            lit(self._application),
            str(-1 if resulting is None else resulting),
        ]
        return (
            f"INSERT INTO {self.qualified} (version, name, direction, outcome, checksum, "
            f"content_checksum, started_at, duration_ms, hostname, application, "
            f"resulting_version) VALUES ({', '.join(values)})"
        )

    def start_running(self, **row: Any) -> int:
        """Insert a ``running`` row, committed before the file runs; returns its id."""
        sql = self.insert_sql(outcome="running", timed=False, **row) + " RETURNING id"
        return int(self.backend.query(sql)[0][0])

    def finish_sql(self, row_id: int, outcome: str = "applied") -> str:
        return (
            f"UPDATE {self.qualified} SET outcome = {self.backend.literal(outcome)}, "
            f"duration_ms = extract(epoch FROM clock_timestamp() - started_at) * 1000 "
            f"WHERE id = {int(row_id)}"
        )


class HistoryRecorder:
    """The rows one run writes, beside (and where possible inside) each migration."""

    def __init__(self, table: HistoryTable) -> None:
        self.table = table
        self._running: int | None = None

    def applied_sql(self, step: Any, sums: Checksums | None) -> str:
        return self.table.insert_sql(**_row(step, sums), outcome="applied")

    def start(self, step: Any, sums: Checksums | None) -> None:
        self._running = self.table.start_running(**_row(step, sums))

    def finish_sql(self) -> str:
        assert self._running is not None
        row_id, self._running = self._running, None
        return self.table.finish_sql(row_id)

    def failed(self, step: Any, sums: Checksums | None) -> None:
        """Best effort: a failure report must not be hidden by a failing history write."""
        try:
            if self._running is not None:
                row_id, self._running = self._running, None
                self.table.backend.execute(self.table.finish_sql(row_id, "failed"))
            else:
                row = {**_row(step, sums), "resulting": step.before}
                self.table.backend.execute(
                    self.table.insert_sql(**row, outcome="failed", timed=False)
                )
        except Exception:  # noqa: S110 - the migration's own error is what matters
            pass

    def force_sql(self, version: int | None) -> str:
        return self.table.insert_sql(
            version=version,
            name="",
            direction="force",
            outcome="applied",
            sums=None,
            resulting=version,
            timed=False,
        )


def _observed_rows(
    view: HistoryView, source: MigrationSource, before: int | None, current: int | None
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    low, high = (before, current) if _below(before, current) else (current, before)
    for migration in source:
        if not (_below(low, migration.version) and not _below(high, migration.version)):
            continue
        if _below(before, current) and migration.up is not None:
            rows.append(_observed(migration, "up", file_checksums(migration.up.path)))
        elif not _below(before, current) and view.applied(migration.version):
            rows.append(_observed(migration, "down", None))
    return rows


def _below(a: int | None, b: int | None) -> bool:
    """a < b, where None (no version) is below every version."""
    if b is None:
        return False
    return a is None or a < b


def _observed(migration: Migration, direction: str, sums: Checksums | None) -> dict[str, Any]:
    file = migration.file("up" if direction == "up" else "down") or migration.up or migration.down
    return {
        "version": migration.version,
        "name": file.name if file else str(migration.version),
        "direction": direction,
        "sums": sums,
    }


def _row(step: Any, sums: Checksums | None) -> dict[str, Any]:
    file = step.file
    return {
        "version": step.migration.version,
        "name": file.name if file is not None else step.label,
        "direction": step.direction,
        "sums": sums,
        "resulting": step.target,
    }
