"""System checks E011-E015 of the safe-deploy settings, and the options' own checks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error
from django.test import override_settings

from sqlmigrate import checks

from .conftest import run_command


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "SQLMIGRATE_DDL_LOCK_TIMEOUT",
            -1,
            "SQLMIGRATE_DDL_LOCK_TIMEOUT must be a number of seconds >= 0 (0: off), not -1.",
        ),
        (
            "SQLMIGRATE_DDL_LOCK_TIMEOUT",
            "5",
            "SQLMIGRATE_DDL_LOCK_TIMEOUT must be a number of seconds or None, not '5'.",
        ),
        (
            "SQLMIGRATE_STATEMENT_TIMEOUT",
            float("inf"),
            "SQLMIGRATE_STATEMENT_TIMEOUT must be a number of seconds >= 0 (0: off), not inf.",
        ),
        (
            "SQLMIGRATE_DDL_RETRIES",
            2.5,
            "SQLMIGRATE_DDL_RETRIES must be a whole number of retries >= 0, not 2.5.",
        ),
        (
            "SQLMIGRATE_DDL_RETRIES",
            True,
            "SQLMIGRATE_DDL_RETRIES must be a whole number of retries >= 0, not True.",
        ),
        (
            "SQLMIGRATE_LOCK_STRATEGY",
            "row",
            "SQLMIGRATE_LOCK_STRATEGY must be one of 'advisory', 'table', not 'row'.",
        ),
        (
            "SQLMIGRATE_LOCK_TABLE",
            "schema_migrations",
            "SQLMIGRATE_LOCK_TABLE 'schema_migrations' is also the version or history table: "
            "the lock needs a table of its own.",
        ),
        ("SQLMIGRATE_LOCK_TABLE", 7, "SQLMIGRATE_LOCK_TABLE must be a string, not 7."),
    ],
)
def test_bad_settings(setting: str, value: Any, message: str) -> None:
    ids = {
        "SQLMIGRATE_DDL_LOCK_TIMEOUT": "E011",
        "SQLMIGRATE_STATEMENT_TIMEOUT": "E012",
        "SQLMIGRATE_DDL_RETRIES": "E013",
        "SQLMIGRATE_LOCK_STRATEGY": "E014",
        "SQLMIGRATE_LOCK_TABLE": "E015",
    }
    with override_settings(**{setting: value}):
        assert checks.check_settings() == [Error(message, id=f"sqlmigrate.{ids[setting]}")]


@pytest.mark.parametrize(
    "values",
    [
        {"SQLMIGRATE_DDL_LOCK_TIMEOUT": None, "SQLMIGRATE_STATEMENT_TIMEOUT": 0},
        {"SQLMIGRATE_DDL_LOCK_TIMEOUT": 2.5, "SQLMIGRATE_STATEMENT_TIMEOUT": 600},
        {"SQLMIGRATE_DDL_RETRIES": 0, "SQLMIGRATE_LOCK_STRATEGY": "table"},
        {"SQLMIGRATE_LOCK_TABLE": "migrate_lock"},
    ],
)
def test_good_settings(values: dict[str, Any]) -> None:
    with override_settings(**values):
        assert checks.check_settings() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--ddl-lock-timeout", "-1"), "'-1' is not a number of seconds, 0 or more"),
        (("--ddl-lock-timeout", "nan"), "'nan' is not a number of seconds, 0 or more"),
        (("--retries", "x"), "can't read --retries: 'x' is not a whole number of retries"),
    ],
)
def test_bad_options_are_refused(args: tuple[str, ...], message: str) -> None:
    result = run_command("sqlmigrate_up", *args)
    assert result.code == 1
    assert message in result.err
