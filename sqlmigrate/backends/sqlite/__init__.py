"""SQLite: the backend (stdlib ``sqlite3``, through Django's connection), its parsing
(``sqlite3.complete_statement``), its file lock and its history table types."""

from __future__ import annotations

from .backend import SQLiteBackend

__all__ = ["SQLiteBackend"]
