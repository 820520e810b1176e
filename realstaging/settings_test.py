"""Settings for pytest: a throwaway PostgreSQL unless TEST_DATABASE_URL names one.

The first process to import this starts the server and exports
TEST_DATABASE_URL, so the processes it spawns (management commands run as
subprocesses, for example) share that server instead of each starting one.
"""

from __future__ import annotations

import os

from realstaging.devdb import throwaway_database_url

os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or throwaway_database_url()

from realstaging.settings import *  # noqa: F403

# pytest-django creates test_<NAME>; sqlmigrate applies infra/migrations to it.
SQLMIGRATE_TEST_DATABASES = ["default"]

# Hashing cost is a production concern; tests that log in users pay it every time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DEBUG = False
