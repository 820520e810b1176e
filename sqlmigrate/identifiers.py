"""Identifiers from settings: validated before use, and always quoted.

Kept apart from the PostgreSQL backend so that system checks can validate
settings without importing a database driver at every Django start.
"""

from __future__ import annotations

from .exceptions import ConfigurationError

MAX_IDENTIFIER_BYTES = 63


def check_table_name(name: str, setting: str = "SQLMIGRATE_TABLE") -> None:
    """Refuse a version table name that golang-migrate would not read the same way.

    golang-migrate quotes the whole value as one identifier in current_schema(),
    so a dot or quote would not mean a schema here either: say so instead.
    """
    problem = None
    if not name:
        problem = "is empty"
    elif "." in name or '"' in name:
        problem = (
            "must be a plain table name: the table lives in current_schema(), as "
            "golang-migrate's does; to put it in another schema, set search_path on the "
            "connection (OPTIONS or ?options=-csearch_path%3Dname in DATABASE_URL)"
        )
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "contains a control character"
    elif len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        problem = f"is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES}-byte identifier limit"
    if problem:
        raise ConfigurationError(f"{setting} {name!r} {problem}")


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
