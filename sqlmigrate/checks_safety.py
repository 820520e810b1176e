"""System checks of the safe-deploy settings (README: "Safe deploys").

| id   | level | meaning                                              | fix                       |
|------|-------|------------------------------------------------------|---------------------------|
| E011 | Error | SQLMIGRATE_DDL_LOCK_TIMEOUT is not seconds >= 0/None | e.g. 5; None turns it off |
| E012 | Error | SQLMIGRATE_STATEMENT_TIMEOUT is not seconds >= 0/None| e.g. 600; None: no limit  |
| E013 | Error | SQLMIGRATE_DDL_RETRIES is not a whole number >= 0    | e.g. 3                    |
| E014 | Error | SQLMIGRATE_LOCK_STRATEGY is not "advisory" / "table" | one of them               |
| E015 | Error | SQLMIGRATE_LOCK_TABLE is not a usable table name     | plain name, its own table |
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.core.checks import CheckMessage, Error

from .conf import DEFAULT_LOCK_TABLE, settings
from .exceptions import ConfigurationError
from .identifiers import check_table_name
from .timeouts import retry_count, seconds_or_off


def check_safety_settings() -> list[CheckMessage]:
    return [*_check_limits(), *_check_lock_strategy(), *_check_lock_table()]


def _check_limits() -> list[CheckMessage]:
    found: list[CheckMessage] = []
    for setting, value, check, id_ in (
        ("SQLMIGRATE_DDL_LOCK_TIMEOUT", settings.ddl_lock_timeout, seconds_or_off, "E011"),
        ("SQLMIGRATE_STATEMENT_TIMEOUT", settings.statement_timeout, seconds_or_off, "E012"),
        ("SQLMIGRATE_DDL_RETRIES", settings.ddl_retries, retry_count, "E013"),
    ):
        try:
            check(value, setting)
        except ValueError as error:
            found.append(Error(f"{error}.", id=f"sqlmigrate.{id_}"))
    return found


def _check_lock_strategy() -> list[CheckMessage]:
    try:
        settings.lock_strategy  # noqa: B018 - the property validates
    except ConfigurationError as error:
        return [Error(f"{error}.", id="sqlmigrate.E014")]
    return []


def _check_lock_table() -> list[CheckMessage]:
    value = getattr(django_settings, "SQLMIGRATE_LOCK_TABLE", DEFAULT_LOCK_TABLE)
    if not isinstance(value, str):
        return [
            Error(f"SQLMIGRATE_LOCK_TABLE must be a string, not {value!r}.", id="sqlmigrate.E015")
        ]
    try:
        check_table_name(value, "SQLMIGRATE_LOCK_TABLE")
    except ConfigurationError as error:
        return [Error(f"{error}.", id="sqlmigrate.E015")]
    if value in (settings.table, settings.history_table):
        return [
            Error(
                f"SQLMIGRATE_LOCK_TABLE {value!r} is also the version or history table: the "
                f"lock needs a table of its own.",
                id="sqlmigrate.E015",
            )
        ]
    return []


__all__ = ["check_safety_settings"]
