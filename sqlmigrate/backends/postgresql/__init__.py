"""PostgreSQL: the backend (psycopg, through Django's connection) and its parsing (pglast).

``parsing`` (with ``splitting`` and ``classify``) loads pglast, so it is
imported only when a file is parsed.
"""

from __future__ import annotations

from .backend import ADVISORY_LOCK_SALT, PostgreSQLBackend, advisory_lock_id

__all__ = ["ADVISORY_LOCK_SALT", "PostgreSQLBackend", "advisory_lock_id"]
