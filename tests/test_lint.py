"""Lint with squawk (the real binary from the squawk-cli wheel) on real files.

Most tests turn off squawk's three rules that fire on nearly every DDL
statement (NOISE), so each case shows the one rule it is about.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.core.checks import Tags, run_checks
from django.test import override_settings

from sqlmigrate import checks, lint
from sqlmigrate.lint import NOT_INSTALLED, find_squawk, lint_files

from .conftest import Migrations, Schema, database_url, run_command, run_manage

NOISE = ["prefer-robust-stmts", "require-lock-timeout", "require-statement-timeout"]
NOT_NULL = "ALTER TABLE jobs ADD COLUMN priority bigint NOT NULL;\n"
INDEX = "CREATE TABLE IF NOT EXISTS jobs (id bigint);\nCREATE INDEX jobs_id ON jobs (id);\n"
DROP = "ALTER TABLE jobs DROP COLUMN priority;\n"
IGNORED_DROP = "-- squawk-ignore ban-drop-column\nALTER TABLE jobs DROP COLUMN a;\n" + DROP
CLEAN = "SELECT 1;\n"

NOT_NULL_LINE = (
    "adding-required-field: Adding a new column that is `NOT NULL` and has no default value "
    "to an existing table effectively makes it required."
)
NOT_NULL_HELP = (
    "Make the field nullable or add a non-VOLATILE DEFAULT "
    "(see https://squawkhq.com/docs/adding-required-field)"
)
DROP_LINE = "ban-drop-column: Dropping a column may break existing clients."


def found(path: Path, exclude: list[str]) -> list[tuple[int, int, str]]:
    report = lint_files([path], exclude=exclude)
    assert report.skipped is None
    assert report.error is None
    return [(f.line, f.column, f.rule) for f in report.findings]


@pytest.mark.parametrize(
    ("text", "exclude", "expected"),
    [
        pytest.param(NOT_NULL, NOISE, [(1, 18, "adding-required-field")], id="not-null"),
        pytest.param(INDEX, NOISE, [(2, 1, "require-concurrent-index-creation")], id="index"),
        pytest.param(DROP, NOISE, [(1, 18, "ban-drop-column")], id="drop-column"),
        pytest.param(IGNORED_DROP, NOISE, [(3, 18, "ban-drop-column")], id="ignore-comment"),
        pytest.param(DROP, [*NOISE, "ban-drop-column"], [], id="excluded-rule"),
        pytest.param(CLEAN, [], [], id="clean"),
        pytest.param(
            '-- "jöbs" ünïcode\nALTER TABLE "jöbs" DROP COLUMN a;\n',
            NOISE,
            [(2, 20, "ban-drop-column")],
            id="columns-in-characters",
        ),
        pytest.param("\ufeff" + DROP, NOISE, [(1, 18, "ban-drop-column")], id="bom"),
        pytest.param(
            DROP,
            [],
            [
                (1, 1, "require-lock-timeout"),
                (1, 1, "require-statement-timeout"),
                (1, 18, "ban-drop-column"),
                (1, 18, "prefer-robust-stmts"),
            ],
            id="all-rules",
        ),
    ],
)
def test_findings(
    migrations: Migrations, text: str, exclude: list[str], expected: list[tuple[int, int, str]]
) -> None:
    path = migrations.write("0001_x.up.sql", text)
    assert found(path, exclude) == expected


def test_help_text_and_levels(migrations: Migrations) -> None:
    path = migrations.write("0001_x.up.sql", NOT_NULL)
    [finding] = lint_files([path], exclude=NOISE).findings
    assert finding.describe() == f"{path}:1:18: {NOT_NULL_LINE}"
    assert finding.hint == NOT_NULL_HELP
    assert finding.level == "warning"


def test_no_files_runs_nothing() -> None:
    report = lint_files([], squawk="/nonexistent/squawk")
    assert (report.files, report.findings, report.skipped, report.ok) == (0, [], None, True)


# -- sqlmigrate_validate --lint --------------------------------------------------------


def test_validate_lint_groups_findings_per_file(migrations: Migrations) -> None:
    migrations.pair(1, "priority", NOT_NULL, DROP)  # the down file's drop is not linted
    migrations.pair(2, "drop", DROP, "")
    migrations.pair(3, "clean", CLEAN, "")
    with override_settings(SQLMIGRATE_LINT_EXCLUDE=NOISE):
        result = run_command("sqlmigrate_validate", "--lint", path=migrations.path)
    one, two = migrations.path / "1_priority.up.sql", migrations.path / "2_drop.up.sql"
    assert result.out.splitlines() == [
        f"{one}: 1 finding(s)",
        f"  {one}:1:18: {NOT_NULL_LINE}",
        f"    help: {NOT_NULL_HELP}",
        f"{two}: 1 finding(s)",
        f"  {two}:1:18: {DROP_LINE}",
        "    help: see https://squawkhq.com/docs/ban-drop-column",
        "lint: 2 finding(s) in 3 file(s)",
    ]
    assert result.err == f"2 problem(s) in {migrations.path}"
    assert result.code == 1


def test_validate_lint_from_the_shell(migrations: Migrations) -> None:
    migrations.pair(1, "drop", "-- squawk-ignore prefer-robust-stmts\n" + DROP, "")
    done = run_manage(
        "sqlmigrate_validate", "--lint", "--path", str(migrations.path), url=database_url()
    )
    path = migrations.path / "1_drop.up.sql"
    assert done.stdout.splitlines()[:2] == [
        f"{path}: 3 finding(s)",
        f"  {path}:2:1: require-lock-timeout: Missing `set lock_timeout` before potentially slow "
        "ACCESS EXCLUSIVE lock operations",
    ]
    assert done.stdout.splitlines()[-1] == "lint: 3 finding(s) in 1 file(s)"
    assert done.stderr == f"error: 3 problem(s) in {migrations.path}\n"
    assert done.returncode == 1


def test_validate_lint_clean(migrations: Migrations) -> None:
    migrations.pair(1, "clean", CLEAN, DROP)
    result = run_command("sqlmigrate_validate", "--lint", path=migrations.path)
    assert result.out.splitlines() == [
        "lint: no findings in 1 file(s)",
        f"ok: 1 migrations, 2 files in {migrations.path}",
    ]
    assert (result.err, result.code) == ("", 0)


def test_validate_without_lint_does_not_run_squawk(migrations: Migrations) -> None:
    migrations.pair(1, "drop", DROP, "")
    with override_settings(SQLMIGRATE_SQUAWK="/nonexistent/squawk"):
        result = run_command("sqlmigrate_validate", path=migrations.path)
    assert (result.out, result.err, result.code) == (
        f"ok: 1 migrations, 2 files in {migrations.path}\n",
        "",
        0,
    )


def not_executable(tmp_path: Path) -> str:
    """A file marked executable that the kernel cannot run (no #! line, not ELF)."""
    path = tmp_path / "squawk"
    path.write_text("not a program\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize(
    ("squawk", "reason"),
    [
        pytest.param("/nonexistent/squawk", NOT_INSTALLED, id="missing"),
        pytest.param("squawk-not-on-path", NOT_INSTALLED, id="not-on-path"),
        pytest.param(not_executable, f"{NOT_INSTALLED} (SQUAWK: Exec format error)", id="broken"),
    ],
)
def test_missing_squawk_is_said_once_and_skipped(
    migrations: Migrations, tmp_path: Path, squawk: object, reason: str
) -> None:
    migrations.pair(1, "drop", DROP, "")
    migrations.pair(2, "index", INDEX, "")
    binary = squawk(tmp_path) if callable(squawk) else str(squawk)
    with override_settings(SQLMIGRATE_SQUAWK=binary):
        result = run_command("sqlmigrate_validate", "--lint", path=migrations.path)
    assert result.out == f"ok: 2 migrations, 4 files in {migrations.path}\n"
    assert result.err == f"warning: {reason.replace('SQUAWK', binary)}\n"
    assert result.code == 0


def test_squawk_failure_is_an_error(migrations: Migrations) -> None:
    migrations.pair(1, "clean", CLEAN, "")
    with override_settings(SQLMIGRATE_LINT_EXCLUDE=["ban-drop-colum"]):
        result = run_command("sqlmigrate_validate", "--lint", path=migrations.path)
    assert result.out == ""
    assert result.err == (
        "error: lint: squawk failed (exit status 2): invalid value 'ban-drop-colum' for "
        "'--exclude <rule>': invalid rule name ban-drop-colum\n"
        f"1 problem(s) in {migrations.path}"
    )
    assert result.code == 1


def logged_squawk(tmp_path: Path) -> tuple[Path, Path]:
    """A squawk that logs how many arguments each call had, then runs the real one."""
    log, wrapper = tmp_path / "calls.log", tmp_path / "squawk-logged"
    wrapper.write_text(f'#!/bin/sh\necho "$#" >> {log}\nexec {find_squawk()} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def test_unreadable_file_is_an_error_and_the_others_are_linted(migrations: Migrations) -> None:
    migrations.pair(1, "latin1", b"SELECT 'caf\xe9';\n", "")
    migrations.pair(2, "drop", DROP, "")
    with override_settings(SQLMIGRATE_LINT_EXCLUDE=NOISE):
        result = run_command("sqlmigrate_validate", "--lint", path=migrations.path)
    latin1, drop = migrations.path / "1_latin1.up.sql", migrations.path / "2_drop.up.sql"
    assert result.out.splitlines()[:2] == [f"{drop}: 1 finding(s)", f"  {drop}:1:18: {DROP_LINE}"]
    assert result.err.splitlines() == [
        f"error: {latin1}:1:12: not valid UTF-8 (byte 0xe9); save the file as UTF-8",
        f"2 problem(s) in {migrations.path}",
    ]
    assert result.code == 1


def test_unexpected_report_is_an_error(migrations: Migrations, tmp_path: Path) -> None:
    other = tmp_path / "squawk-other"  # a squawk whose JSON is not what 2.x writes
    other.write_text('#!/bin/sh\necho \'[{"path": "x"}]\'\nexit 1\n')
    other.chmod(0o755)
    path = migrations.write("1_drop.up.sql", DROP)
    report = lint_files([path], squawk=str(other))
    assert report.error == (
        "squawk's JSON report is not in the form sqlmigrate reads: [{'path': 'x'}]"
    )
    assert (report.findings, report.ok) == ([], False)


def test_one_squawk_process_for_all_files(migrations: Migrations, tmp_path: Path) -> None:
    wrapper, log = logged_squawk(tmp_path)
    for version in range(1, 21):
        migrations.pair(version, f"drop{version}", DROP, DROP)
    with override_settings(SQLMIGRATE_SQUAWK=str(wrapper), SQLMIGRATE_LINT_EXCLUDE=NOISE):
        result = run_command("sqlmigrate_validate", "--lint", path=migrations.path)
    assert result.out.splitlines()[-1] == "lint: 20 finding(s) in 20 file(s)"
    # one call: --reporter json --exclude=... and the 20 up files
    assert log.read_text() == "23\n"


def test_long_argument_lists_are_split(
    migrations: Migrations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapper, log = logged_squawk(tmp_path)
    paths = [migrations.write(f"{v}_drop.up.sql", DROP) for v in range(1, 11)]
    monkeypatch.setattr(lint, "ARGUMENT_BYTES", 4 * (len(str(paths[-1])) + 1))
    report = lint_files(paths, exclude=NOISE, squawk=str(wrapper))
    assert [finding.path for finding in report.findings] == paths
    assert log.read_text().split() == ["7", "7", "5"]  # 4 + 4 + 2 files


# -- SQLMIGRATE_LINT: up --dry-run and check --database: pending files only ------------


@pytest.fixture
def applied_and_pending(schema: Schema, migrations: Migrations) -> Migrations:
    migrations.pair(
        1, "drop_applied", "CREATE TABLE jobs (id bigint, a bigint, priority bigint);\n" + DROP, ""
    )
    assert run_command("sqlmigrate_up", path=migrations.path).code == 0
    migrations.pair(2, "drop_pending", "ALTER TABLE jobs DROP COLUMN a;\n", "")
    return migrations


def test_dry_run_prints_findings_under_the_plan(applied_and_pending: Migrations) -> None:
    folder = applied_and_pending.path
    with override_settings(SQLMIGRATE_LINT=True, SQLMIGRATE_LINT_EXCLUDE=NOISE):
        result = run_command("sqlmigrate_up", path=folder, dry_run=True)
    pending = folder / "2_drop_pending.up.sql"
    assert result.out.splitlines() == [
        "would run  2_drop_pending.up.sql  (atomic: one transaction with the version update)",
        "dry run: 1 migration(s) checked, nothing changed",
        f"{pending}: 1 finding(s)",
        f"  {pending}:1:18: {DROP_LINE}",
        "    help: see https://squawkhq.com/docs/ban-drop-column",
        "lint: 1 finding(s) in 1 file(s)",
    ]
    assert (result.err, result.code) == ("", 0)


@pytest.mark.parametrize(
    ("lint", "dry_run"), [pytest.param(False, True, id="off"), pytest.param(True, False, id="run")]
)
def test_no_lint_unless_on_and_dry_run(
    applied_and_pending: Migrations, lint: bool, dry_run: bool
) -> None:
    with override_settings(SQLMIGRATE_LINT=lint, SQLMIGRATE_SQUAWK="/nonexistent/squawk"):
        result = run_command("sqlmigrate_up", path=applied_and_pending.path, dry_run=dry_run)
    assert "lint" not in result.out + result.err
    assert result.code == 0


def test_dry_run_without_squawk_says_so(applied_and_pending: Migrations) -> None:
    with override_settings(SQLMIGRATE_LINT=True, SQLMIGRATE_SQUAWK="/nonexistent/squawk"):
        result = run_command("sqlmigrate_up", path=applied_and_pending.path, dry_run=True)
    assert result.err == f"warning: {NOT_INSTALLED}\n"
    assert result.out.splitlines()[-1] == "dry run: 1 migration(s) checked, nothing changed"
    assert result.code == 0


def test_check_warns_per_finding_in_pending_files(applied_and_pending: Migrations) -> None:
    pending = applied_and_pending.path / "2_drop_pending.up.sql"
    with override_settings(
        SQLMIGRATE_DIR=applied_and_pending.path,
        SQLMIGRATE_LINT=True,
        SQLMIGRATE_LINT_EXCLUDE=NOISE,
    ):
        messages = checks.check_lint(databases=["default"])
        assert checks.check_lint() == []  # without --database: nothing to lint
        registered = run_checks(databases=["default"], tags=[Tags.database])
        assert [m.id for m in registered if m.id == "sqlmigrate.W004"] == ["sqlmigrate.W004"]
    assert [(m.id, m.msg, m.hint) for m in messages] == [
        (
            "sqlmigrate.W004",
            f"{pending}:1:18: {DROP_LINE} (squawk, in a pending SQL migration)",
            "see https://squawkhq.com/docs/ban-drop-column. To accept it, put "
            "'-- squawk-ignore ban-drop-column' above the statement, or add "
            "'ban-drop-column' to SQLMIGRATE_LINT_EXCLUDE.",
        )
    ]


@pytest.mark.parametrize(
    ("squawk", "exclude", "expected"),
    [
        pytest.param("/nonexistent/squawk", [], NOT_INSTALLED, id="missing"),
        pytest.param(
            None,
            ["no-such-rule"],
            "lint skipped: squawk failed (exit status 2): invalid value "
            "'no-such-rule' for '--exclude <rule>': invalid rule name no-such-rule",
            id="bad-rule",
        ),
    ],
)
def test_check_says_when_lint_cannot_run(
    applied_and_pending: Migrations, squawk: str | None, exclude: list[str], expected: str
) -> None:
    with override_settings(
        SQLMIGRATE_DIR=applied_and_pending.path,
        SQLMIGRATE_LINT=True,
        SQLMIGRATE_SQUAWK=squawk,
        SQLMIGRATE_LINT_EXCLUDE=exclude,
    ):
        messages = checks.check_lint(databases=["default"])
    assert [(m.id, m.msg) for m in messages] == [("sqlmigrate.W005", expected)]


def test_check_off_by_default(applied_and_pending: Migrations) -> None:
    with override_settings(SQLMIGRATE_DIR=applied_and_pending.path):
        assert checks.check_lint(databases=["default"]) == []
