"""MySQL/MariaDB: the backend (mysqlclient, through Django's connection), its parsing
(sqlglot's MySQL tokenizer, imported when a file is parsed), its session state and its
history table types."""

from __future__ import annotations

from .backend import MySQLBackend, lock_name

__all__ = ["MySQLBackend", "lock_name"]
