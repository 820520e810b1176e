"""Typed access to the SQLMIGRATE_* settings.

Every property reads ``django.conf.settings`` on each access, so
``override_settings`` in tests and per-process settings both work.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings as django_settings

from .exceptions import ConfigurationError

DEFAULT_TABLE = "schema_migrations"
DEFAULT_LOCK_TIMEOUT = 15.0
DEFAULT_DIR = "infra/migrations"
DEFAULT_HISTORY_TABLE = "schema_migrations_history"
#: seconds a migration's statement may wait for a table lock (the site's queries queue
#: behind that wait); see the README's "Safe deploys"
DEFAULT_DDL_LOCK_TIMEOUT = 5.0
DEFAULT_DDL_RETRIES = 3
LOCK_STRATEGIES = ("advisory", "table")
DEFAULT_LOCK_TABLE = "schema_lock"


class Settings:
    @property
    def migrations_dir(self) -> Path:
        """SQLMIGRATE_DIR; relative paths are taken from BASE_DIR (or the cwd)."""
        configured = getattr(django_settings, "SQLMIGRATE_DIR", None)
        base = Path(getattr(django_settings, "BASE_DIR", Path.cwd()))
        if configured is None:
            return base / DEFAULT_DIR
        path = Path(configured)
        return path if path.is_absolute() else base / path

    @property
    def migrations_dir_configured(self) -> bool:
        """True when SQLMIGRATE_DIR is set: ``create`` makes no folder the user did not name."""
        return getattr(django_settings, "SQLMIGRATE_DIR", None) is not None

    @property
    def table(self) -> str:
        """SQLMIGRATE_TABLE: the golang-migrate version table (x-migrations-table)."""
        return str(getattr(django_settings, "SQLMIGRATE_TABLE", DEFAULT_TABLE))

    @property
    def lock_timeout(self) -> float:
        """SQLMIGRATE_LOCK_TIMEOUT in seconds; covers every wait for the lock."""
        value = getattr(django_settings, "SQLMIGRATE_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"SQLMIGRATE_LOCK_TIMEOUT must be a number of seconds, not {value!r}"
            ) from None

    @property
    def history_table(self) -> str | None:
        """SQLMIGRATE_HISTORY_TABLE: sqlmigrate's side table of runs; None turns history off."""
        value = getattr(django_settings, "SQLMIGRATE_HISTORY_TABLE", DEFAULT_HISTORY_TABLE)
        return str(value) if value else None

    @property
    def allow_drift(self) -> bool:
        """SQLMIGRATE_ALLOW_DRIFT: run even when an applied file changed since it ran."""
        return bool(getattr(django_settings, "SQLMIGRATE_ALLOW_DRIFT", False))

    @property
    def allow_out_of_order(self) -> bool:
        """SQLMIGRATE_ALLOW_OUT_OF_ORDER: apply never-applied files older than the version."""
        return bool(getattr(django_settings, "SQLMIGRATE_ALLOW_OUT_OF_ORDER", False))

    @property
    def strict(self) -> bool:
        """SQLMIGRATE_STRICT: a database ahead of the files is an error, as in golang-migrate."""
        return bool(getattr(django_settings, "SQLMIGRATE_STRICT", False))

    @property
    def test_databases(self) -> tuple[str, ...]:
        """SQLMIGRATE_TEST_DATABASES: aliases whose test databases get the SQL applied.

        ``True`` means every alias in DATABASES; the default, an empty tuple, is off.
        """
        value = getattr(django_settings, "SQLMIGRATE_TEST_DATABASES", ())
        if value is True:
            return tuple(django_settings.DATABASES)
        if not value:
            return ()
        if isinstance(value, str):
            return (value,)  # one alias, not its letters
        return tuple(value)

    @property
    def lint(self) -> bool:
        """SQLMIGRATE_LINT: lint pending files with squawk in ``up --dry-run`` and ``check``."""
        return bool(getattr(django_settings, "SQLMIGRATE_LINT", False))

    @property
    def lint_exclude(self) -> tuple[str, ...]:
        """SQLMIGRATE_LINT_EXCLUDE: squawk rules turned off, e.g. ``["ban-drop-column"]``."""
        value = getattr(django_settings, "SQLMIGRATE_LINT_EXCLUDE", ())
        if isinstance(value, str):
            return (value,)  # one rule, not its letters
        return tuple(str(rule) for rule in value or ())

    @property
    def squawk(self) -> str | None:
        """SQLMIGRATE_SQUAWK: the squawk executable (a path or a name on PATH); None finds it."""
        value = getattr(django_settings, "SQLMIGRATE_SQUAWK", None)
        return str(value) if value else None

    @property
    def ddl_lock_timeout(self) -> object:
        """SQLMIGRATE_DDL_LOCK_TIMEOUT: seconds (lock_timeout) for a migration's statements;
        None or 0: no limit. Checked by sqlmigrate.E011; read as given."""
        return getattr(django_settings, "SQLMIGRATE_DDL_LOCK_TIMEOUT", DEFAULT_DDL_LOCK_TIMEOUT)

    @property
    def statement_timeout(self) -> object:
        """SQLMIGRATE_STATEMENT_TIMEOUT: seconds (statement_timeout) per statement of a
        migration; None (the default) or 0: no limit. Checked by sqlmigrate.E012."""
        return getattr(django_settings, "SQLMIGRATE_STATEMENT_TIMEOUT", None)

    @property
    def ddl_retries(self) -> object:
        """SQLMIGRATE_DDL_RETRIES: how many times a migration that timed out waiting for a
        lock is tried again. Checked by sqlmigrate.E013."""
        return getattr(django_settings, "SQLMIGRATE_DDL_RETRIES", DEFAULT_DDL_RETRIES)

    @property
    def lock_strategy(self) -> str:
        """SQLMIGRATE_LOCK_STRATEGY: "advisory" (golang-migrate's default) or "table" (pgx's
        x-lock-strategy=table, for PgBouncer's transaction pooling). sqlmigrate.E014."""
        value = getattr(django_settings, "SQLMIGRATE_LOCK_STRATEGY", "advisory")
        if value not in LOCK_STRATEGIES:
            raise ConfigurationError(
                f"SQLMIGRATE_LOCK_STRATEGY must be one of {', '.join(map(repr, LOCK_STRATEGIES))}"
                f", not {value!r}"
            )
        return str(value)

    @property
    def lock_table(self) -> str:
        """SQLMIGRATE_LOCK_TABLE: the table-strategy lock table (pgx's x-lock-table)."""
        return str(getattr(django_settings, "SQLMIGRATE_LOCK_TABLE", DEFAULT_LOCK_TABLE))


settings = Settings()
