"""The real golang-migrate CLI, for the tests that compare with it when it is here.

It is not installed by the project (it cannot be built without Go and its
sources); the tests that use it skip with the reason when it is absent.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

NO_CLI = "no golang-migrate CLI: set GOLANG_MIGRATE, or put migrate on PATH"


def cli_path() -> str | None:
    """GOLANG_MIGRATE, ``migrate`` on PATH, or /opt/golang-migrate/migrate."""
    for candidate in (os.environ.get("GOLANG_MIGRATE"), shutil.which("migrate")):
        if candidate:
            return candidate
    built = Path("/opt/golang-migrate/migrate")
    return str(built) if built.exists() else None


def require_cli() -> str:
    found = cli_path()
    if found is None:
        pytest.skip(NO_CLI)
    return found
