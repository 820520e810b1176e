"""The management commands: output, prompts, arguments and exit codes."""

from __future__ import annotations

import re

import pytest

from .conftest import Migrations, Schema, run_command, run_manage

pytestmark = pytest.mark.django_db(transaction=True)

OK_LINE = r"OK   {name} \(\d+\.\d ms\)"


def pairs(migrations: Migrations, count: int = 3) -> None:
    for version in range(1, count + 1):
        migrations.pair(
            version,
            f"table_{version}",
            f"CREATE TABLE t{version} (id int);",
            f"DROP TABLE t{version};",
        )


def lines(text: str) -> list[str]:
    return text.strip().splitlines()


class TestUp:
    def test_prints_one_line_per_migration(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations, 2)
        result = run_command("sqlmigrate_up", path=migrations.path)
        assert result.code == 0
        out = lines(result.out)
        assert len(out) == 2
        assert re.fullmatch(OK_LINE.format(name=r"1_table_1\.up\.sql"), out[0])
        assert re.fullmatch(OK_LINE.format(name=r"2_table_2\.up\.sql"), out[1])

    def test_no_change_and_quiet(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations, 2)
        assert run_command("sqlmigrate_up", path=migrations.path, verbosity=0).out == ""
        assert schema.version_row() == [(2, False)]
        assert run_command("sqlmigrate_up", path=migrations.path).out == "no change\n"

    def test_up_n(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations, 3)
        result = run_command("sqlmigrate_up", "1", path=migrations.path)
        assert len(lines(result.out)) == 1
        assert run_command("sqlmigrate_up", "0", path=migrations.path).out == "no change\n"
        assert schema.version_row() == [(1, False)]

    @pytest.mark.parametrize("bad", ["-1", "x", "1.5", "99999999999999999999"])
    def test_bad_limit(self, schema: Schema, migrations: Migrations, bad: str) -> None:
        result = run_command("sqlmigrate_up", bad, path=migrations.path)
        assert result.code != 0
        assert f"can't read limit argument N: {bad!r}" in result.err

    def test_unknown_alias(self, schema: Schema, migrations: Migrations) -> None:
        result = run_command("sqlmigrate_up", path=migrations.path, database="nope")
        assert result.code == 1
        assert "database alias 'nope' is not in DATABASES (known aliases: default)" in result.err


class TestDown:
    def test_noinput_refuses_without_n_or_all(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations)
        run_command("sqlmigrate_up", path=migrations.path)
        result = run_command("sqlmigrate_down", path=migrations.path, interactive=False)
        assert result.code == 1
        assert "pass N, or --all" in result.err
        assert schema.version_row() == [(3, False)]

    def test_all_and_n(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations)
        run_command("sqlmigrate_up", path=migrations.path)
        result = run_command("sqlmigrate_down", "1", path=migrations.path)
        assert re.fullmatch(OK_LINE.format(name=r"3_table_3\.down\.sql"), result.out.strip())
        assert schema.version_row() == [(2, False)]
        result = run_command("sqlmigrate_down", path=migrations.path, all=True)
        assert len(lines(result.out)) == 2
        assert schema.version_row() == []
        assert run_command("sqlmigrate_down", path=migrations.path, all=True).out == "no change\n"

    def test_all_with_n_is_refused(self, schema: Schema, migrations: Migrations) -> None:
        result = run_command("sqlmigrate_down", "1", path=migrations.path, all=True)
        assert result.code == 1
        assert "-all cannot be used with other arguments" in result.err

    @pytest.mark.parametrize(
        ("answer", "applied"), [("y\n", True), ("Y\n", True), ("yes\n", False), ("", False)]
    )
    def test_prompt(
        self, schema: Schema, migrations: Migrations, answer: str, applied: bool
    ) -> None:
        pairs(migrations, 2)
        run_command("sqlmigrate_up", path=migrations.path)
        done = run_manage(
            "sqlmigrate_down", "--path", str(migrations.path), url=schema.url, stdin=answer
        )
        assert "Are you sure you want to apply all down migrations? [y/N]" in done.stderr
        if applied:
            assert done.returncode == 0
            assert "Applying all down migrations" in done.stderr
            assert schema.version_row() == []
        else:
            assert done.returncode == 1
            assert "error: Not applying all down migrations" in done.stderr
            assert schema.version_row() == [(2, False)]


class TestForceAndVersion:
    def test_version_outputs(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations)
        result = run_command("sqlmigrate_version")
        assert (result.code, result.err) == (1, "no migration")
        run_command("sqlmigrate_up", "2", path=migrations.path)
        assert run_command("sqlmigrate_version").out == "2\n"
        schema.query("UPDATE schema_migrations SET dirty = true")
        assert run_command("sqlmigrate_version").out == "2 (dirty)\n"

    def test_force(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations)
        result = run_command("sqlmigrate_force", "2", path=migrations.path)
        table = f"{schema.name}.schema_migrations"
        assert (result.code, result.out) == (0, f"version 2 (clean) written to {table}\n")
        assert schema.version_row() == [(2, False)]
        result = run_command("sqlmigrate_force", "-1", path=migrations.path)
        assert (result.code, result.out) == (0, f"version -1 (no version) written to {table}\n")
        assert schema.version_row() == []
        assert run_command("sqlmigrate_force", "3", path=migrations.path, verbosity=0).out == ""

    @pytest.mark.parametrize("bad", ["-2", "abc", ""])
    def test_force_bad_argument(self, schema: Schema, migrations: Migrations, bad: str) -> None:
        result = run_command("sqlmigrate_force", bad, path=migrations.path)
        assert result.code != 0
        assert "can't read version argument V" in result.err

    def test_goto(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations)
        result = run_command("sqlmigrate_goto", "2", path=migrations.path)
        assert len(lines(result.out)) == 2
        assert run_command("sqlmigrate_goto", "2", path=migrations.path).out == "no change\n"
        result = run_command("sqlmigrate_goto", "9", path=migrations.path)
        assert result.code == 1
        assert result.err.startswith("no migration found for version 9")


class TestCommandLine:
    """Through ``python manage.py``: streams, the ``error:`` prefix, exit codes."""

    def test_success_and_failure(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations, 1)
        migrations.pair(2, "broken", "CREATE TABLE x (id int);\nSELEC 1;")
        done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
        assert done.returncode == 1
        assert done.stdout == ""
        assert re.match(
            r"error: \S*2_broken\.up\.sql:2:1: syntax error at or near \"SELEC\"", done.stderr
        )
        assert schema.tables() == set()  # rejected before anything was written
        migrations.write("2_broken.up.sql", "CREATE TABLE x (id int);")
        done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
        assert done.returncode == 0, done.stderr
        assert len(lines(done.stdout)) == 2
        done = run_manage("sqlmigrate_version", url=schema.url)
        assert (done.returncode, done.stdout) == (0, "2\n")

    def test_dirty_refusal_says_what_to_run(self, schema: Schema, migrations: Migrations) -> None:
        pairs(migrations, 2)
        run_command("sqlmigrate_up", path=migrations.path)
        schema.query("UPDATE schema_migrations SET dirty = true")
        done = run_manage("sqlmigrate_up", "--path", str(migrations.path), url=schema.url)
        assert done.returncode == 1
        assert done.stderr.startswith("error: Dirty database version 2. Fix and force version.\n")
        assert "`python manage.py sqlmigrate_force 2` if the database now matches it" in done.stderr
        assert "`python manage.py sqlmigrate_force 1` if you undid the file" in done.stderr
