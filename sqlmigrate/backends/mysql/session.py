"""The session state sqlmigrate works in on MySQL/MariaDB, and how it is put back.

A file may ``SET`` session variables (``sql_mode``, ``foreign_key_checks``,
``autocommit``, ``time_zone``, character sets, lock wait timeouts) or ``USE``
another database; left alone, that would change the next file and
sqlmigrate's own writes. ``Baseline`` is the session when the run took the
lock; ``restore_sql`` puts it back after every file. sqlmigrate's own
statements name their tables with the database, so ``USE`` cannot redirect
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VARIABLES = (
    "sql_mode",
    "foreign_key_checks",
    "unique_checks",
    "autocommit",
    "time_zone",
    "character_set_client",
    "character_set_connection",
    "character_set_results",
    "collation_connection",
    "lock_wait_timeout",
    "innodb_lock_wait_timeout",
    "sql_safe_updates",
)
SESSION_SQL = "SELECT " + ", ".join(f"@@SESSION.{name}" for name in VARIABLES)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    text = value.decode() if isinstance(value, bytes) else str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Baseline:
    values: tuple[tuple[str, Any], ...]
    database: str

    @classmethod
    def from_row(cls, row: tuple[Any, ...], database: str) -> Baseline:
        return cls(tuple(zip(VARIABLES, row, strict=True)), database)

    def restore_sql(self) -> str:
        sets = ", ".join(f"{name} = {_literal(value)}" for name, value in self.values)
        quoted = "`" + self.database.replace("`", "``") + "`"
        return f"SET SESSION {sets};\nUSE {quoted}"
