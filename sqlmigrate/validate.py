"""Offline checks of a migrations folder, for CI: no database needed.

Every file is read and parsed with its vendor's parser exactly as ``up``
would before running it; names, versions and pairs are checked. With a
database alias, drift and out-of-order files are checked too (read-only).
With ``lint``, the up files are linted by squawk too (``lint.py``); down
files are not: they undo, so they drop what the up made, and squawk's
drop rules would flag every one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections

from .backends import Parse, parser_for
from .exceptions import FileReadError, SQLMigrateError
from .lint import LintReport, lint_configured
from .source import Migration, display_path, load_source, read_sql
from .status import read_status
from .timeouts import read_directives


@dataclass
class Report:
    directory: Path
    files: int = 0
    migrations: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: squawk's findings, with ``lint``
    lint: LintReport | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and (self.lint is None or self.lint.ok)


def validate(
    directory: Path, *, strict: bool = False, using: str | None = None, lint: bool = False
) -> Report:
    report = Report(directory)
    try:
        source = load_source(directory)
    except SQLMigrateError as error:
        report.errors.append(str(error))
        return report
    report.migrations = len(source)
    readable: list[Path] = []
    parse = parser_for(_vendor(using))
    for migration in source:
        readable += _check_files(migration, report, parse)
        _check_pair(migration, report, strict)
    if using is not None:
        _check_database(directory, using, report)
    if lint and _vendor(using) != "postgresql":
        report.warnings.append(f"--lint skipped: squawk lints PostgreSQL, not {_vendor(using)}")
    elif lint:
        # Files that cannot be read are errors already; squawk would stop at the first.
        report.lint = lint_configured(readable)
    return report


def _vendor(using: str | None) -> str:
    """Whose SQL the files are: the alias's vendor (the default alias's without one;
    PostgreSQL when there is none). Reading ``vendor`` does not connect."""
    alias = using or DEFAULT_DB_ALIAS
    return connections[alias].vendor if alias in connections.settings else "postgresql"


def _check_files(migration: Migration, report: Report, parse: Parse) -> list[Path]:
    """Read and parse both files; the up file's path if it could be read."""
    readable = []
    for file in (migration.up, migration.down):
        if file is None:
            continue
        report.files += 1
        try:
            text = read_sql(file)
        except FileReadError as error:
            report.errors.append(str(error))
            continue
        if file.direction == "up":
            readable.append(file.path)
        try:
            parse(text, display_path(file.path))
            read_directives(text, display_path(file.path))  # -- sqlmigrate: comments
        except SQLMigrateError as error:
            report.errors.append(str(error))
    return readable


def _check_pair(migration: Migration, report: Report, strict: bool) -> None:
    present = migration.up or migration.down
    assert present is not None
    missing = "down" if migration.down is None else "up" if migration.up is None else None
    if missing is None:
        return
    message = (
        f"{display_path(present.path)}: version {migration.version} has no {missing} file; "
        f"{missing} past it runs nothing and only moves the version (as golang-migrate does)"
    )
    (report.errors if strict else report.warnings).append(message)


def _check_database(directory: Path, using: str, report: Report) -> None:
    status = read_status(using=using, path=directory)
    if status.database_error:
        report.errors.append(status.database_error)
    for row in status.drifted:
        assert row.drift is not None
        report.errors.append(row.drift.describe())
    for row in status.out_of_order:
        report.errors.append(
            f"out of order: {row.name} (version {row.version}) is older than the database's "
            f"version {status.version} and was never applied"
        )
    if status.dirty:
        report.errors.append(f"the database is dirty at version {status.version}")
    for row in status.missing_files:
        report.errors.append(f"the database is at version {row.version}, which has no file")
