"""PyMySQL in place of mysqlclient where mysqlclient cannot be built (no C headers).

Django supports mysqlclient; sqlmigrate's MySQL tests and their child
processes fall back to PyMySQL through ``install_as_MySQLdb()`` only when
mysqlclient is missing. Django checks the driver's version, so PyMySQL is
announced as the mysqlclient release it stands in for.
"""

from __future__ import annotations

import contextlib


def install_fallback() -> None:
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        with contextlib.suppress(ImportError):
            import pymysql

            pymysql.version_info = (2, 2, 1, "final", 0)
            pymysql.install_as_MySQLdb()
