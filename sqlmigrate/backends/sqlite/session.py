"""The connection state sqlmigrate works in on SQLite, and how it is put back.

A migration file may change its connection: ``PRAGMA query_only = 1`` would
make the version write fail, ``PRAGMA recursive_triggers``, ``writable_schema``
or ``busy_timeout`` would change what the next file does, an ``ATTACH`` would
stay. ``Baseline`` is the connection as the run found it (plus sqlmigrate's
``busy_timeout``); ``restore_sql`` sets every such PRAGMA back and works inside
a transaction, and ``SQLiteBackend.restore`` also detaches what a file attached.

Every statement of sqlmigrate's own names its tables ``main.<name>``, so a
TEMP table of the same name cannot redirect them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

#: connection-wide PRAGMAs a file can change and the next file would feel
PRAGMAS = (
    "automatic_index",
    "busy_timeout",
    "cell_size_check",
    "defer_foreign_keys",
    "foreign_keys",
    "ignore_check_constraints",
    "legacy_alter_table",
    "query_only",
    "recursive_triggers",
    "reverse_unordered_selects",
    "trusted_schema",
    "writable_schema",
)


@dataclass(frozen=True, slots=True)
class Baseline:
    pragmas: tuple[tuple[str, int], ...]
    #: schema names attached when the run started ("main", "temp", ...)
    databases: frozenset[str]

    def restore_sql(self) -> str:
        return ";\n".join(f"PRAGMA {name} = {int(value)}" for name, value in self.pragmas)


def read_baseline(raw: sqlite3.Connection) -> Baseline:
    pragmas = []
    for name in PRAGMAS:
        row = raw.execute(f"PRAGMA {name}").fetchone()
        if row is not None:  # a PRAGMA this SQLite does not know returns nothing
            pragmas.append((name, int(row[0])))
    databases = frozenset(str(row[1]) for row in raw.execute("PRAGMA database_list"))
    return Baseline(tuple(pragmas), databases)
