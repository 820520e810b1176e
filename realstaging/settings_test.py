"""Settings for pytest: a throwaway PostgreSQL unless TEST_DATABASE_URL names one.

The first process to import this starts the server and exports
TEST_DATABASE_URL, so the processes it spawns (management commands run as
subprocesses, for example) share that server instead of each starting one.
"""

from __future__ import annotations

import os

import dj_database_url

from realstaging.devdb import throwaway_database_url

os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or throwaway_database_url()

from realstaging.settings import *  # noqa: F403

# Vendor tests (tests/vendors.py) point this alias at a new file per test.
DATABASES["sqlite"] = {  # noqa: F405
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": ":memory:",
}


def _mysql_url() -> str:
    """TEST_MYSQL_URL, else a MariaDB answering on 127.0.0.1:3306 (root, database test)."""
    import socket

    if os.environ.get("TEST_MYSQL_URL"):
        return os.environ["TEST_MYSQL_URL"]
    try:
        socket.create_connection(("127.0.0.1", 3306), 0.5).close()
    except OSError:
        return ""
    return "mysql://root@127.0.0.1:3306/test"


if _mysql_url():  # tests/vendors.py skips the MySQL cases without it
    from realstaging.mysql_driver import install_fallback

    install_fallback()
    DATABASES["mysql"] = dj_database_url.parse(_mysql_url())  # noqa: F405

# pytest-django creates test_<NAME>; sqlmigrate applies infra/migrations to it.
SQLMIGRATE_TEST_DATABASES = ["default"]

# Hashing cost is a production concern; tests that log in users pay it every time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DEBUG = False
