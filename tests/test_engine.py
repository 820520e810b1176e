"""The engine against a real PostgreSQL: applying, failing, and what is left behind."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from psycopg import pq

from sqlmigrate import engine
from sqlmigrate.exceptions import (
    DirtyError,
    DuplicateMigrationError,
    FileNotExistError,
    MigrationFailedError,
    ShortLimitError,
    SqlParseError,
    VersionNotFoundError,
)

from .conftest import Migrations, Schema

pytestmark = pytest.mark.django_db(transaction=True)


def three(migrations: Migrations) -> None:
    migrations.pair(1, "create_users", "CREATE TABLE users (id int);", "DROP TABLE users;")
    migrations.pair(2, "create_projects", "CREATE TABLE projects (id int);", "DROP TABLE projects;")
    migrations.pair(
        3, "add_column", "ALTER TABLE users ADD name text;", "ALTER TABLE users DROP name;"
    )


def session_is_idle() -> bool:
    return bool(connection.connection.info.transaction_status == pq.TransactionStatus.IDLE)


class TestApply:
    def test_up_applies_everything_in_order(self, schema: Schema, migrations: Migrations) -> None:
        three(migrations)
        seen: list[str] = []
        result = engine.up(path=migrations.path, progress=lambda a: seen.append(a.label))
        assert seen == ["1_create_users.up.sql", "2_create_projects.up.sql", "3_add_column.up.sql"]
        assert (result.version_before, result.version_after) == (None, 3)
        assert schema.version_row() == [(3, False)]
        assert {"users", "projects", "schema_migrations"} <= schema.tables()

    def test_up_n_then_no_change(self, schema: Schema, migrations: Migrations) -> None:
        three(migrations)
        assert engine.up(2, path=migrations.path).version_after == 2
        assert schema.version_row() == [(2, False)]
        assert engine.up(path=migrations.path).version_after == 3
        result = engine.up(path=migrations.path)
        assert not result.changed
        assert result.version_after == 3

    def test_table_is_golang_migrates(self, schema: Schema, migrations: Migrations) -> None:
        three(migrations)
        engine.up(path=migrations.path)
        columns = schema.query(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            f"WHERE table_schema = '{schema.name}' AND table_name = 'schema_migrations' "
            "ORDER BY ordinal_position"
        )
        assert columns == [("version", "bigint", "NO"), ("dirty", "boolean", "NO")]
        key = schema.query(
            "SELECT conname FROM pg_constraint WHERE contype = 'p' "
            f"AND conrelid = '\"{schema.name}\".schema_migrations'::regclass"
        )
        assert key == [("schema_migrations_pkey",)]

    def test_percent_signs_reach_the_server_unchanged(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(
            1,
            "percent",
            "CREATE TABLE p (s text);\n"
            "INSERT INTO p VALUES ('%'), ('%s'), ('%(x)s'), ('%%'), ('100%');",
        )
        engine.up(path=migrations.path)
        assert schema.query("SELECT s FROM p") == [("%",), ("%s",), ("%(x)s",), ("%%",), ("100%",)]

    def test_function_bodies_do_blocks_and_begin_atomic(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(
            1,
            "bodies",
            "CREATE TABLE t (n int);\n"
            "CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE plpgsql AS $fn$\n"
            "BEGIN\n  INSERT INTO t VALUES (i); RETURN i + 1;\nEND;\n$fn$;\n"
            "DO $$ BEGIN PERFORM add_one(41); END $$;\n"
            "CREATE FUNCTION two() RETURNS int LANGUAGE sql\n"
            "BEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\n",
        )
        engine.up(path=migrations.path)
        assert schema.query("SELECT n FROM t") == [(41,)]
        assert schema.query("SELECT two()") == [(2,)]

    def test_bom_and_crlf(self, schema: Schema, migrations: Migrations) -> None:
        migrations.write(
            "1_bom.up.sql", b"\xef\xbb\xbfCREATE TABLE b (id int);\r\nINSERT INTO b VALUES (1);\r\n"
        )
        engine.up(path=migrations.path)
        assert schema.query("SELECT id FROM b") == [(1,)]


class TestAtomicFailures:
    def test_seed_style_file_failing_midway_leaves_nothing(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "ok", "CREATE TABLE ok (id int);")
        migrations.pair(
            2,
            "half",
            "BEGIN;\nCREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\n"
            "INSERT INTO missing VALUES (1);\nCOMMIT;\n",
        )
        with pytest.raises(MigrationFailedError) as caught:
            engine.up(path=migrations.path)
        message = str(caught.value)
        assert re.match(
            r".*2_half\.up\.sql:4:13: relation \"missing\" does not exist \(42P01\)\n", message
        )
        assert "database is still at version 1 (clean)" in message
        assert "python manage.py sqlmigrate_up" in message
        assert schema.version_row() == [(1, False)]
        assert "half" not in schema.tables()
        assert session_is_idle()

    def test_implicit_file_failing_at_runtime_is_clean(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "boom", "CREATE TABLE a (id int);\nSELECT 1 / 0;")
        with pytest.raises(MigrationFailedError) as caught:
            engine.up(path=migrations.path)
        assert caught.value.location.endswith("1_boom.up.sql:2:1")
        assert caught.value.sqlstate == "22012"
        assert "no version (clean)" in str(caught.value)
        assert schema.version_row() == []
        assert "a" not in schema.tables()
        assert session_is_idle()

    def test_single_statement_failure_points_at_the_column(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "one", "-- comment\nCREATE TABLE a (id int REFERENCES nope (id));")
        with pytest.raises(MigrationFailedError) as caught:
            engine.up(path=migrations.path)
        assert caught.value.location.endswith("1_one.up.sql:2:1")
        assert schema.version_row() == []

    def test_failed_atomic_down_keeps_the_version(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "a", "CREATE TABLE a (id int);", "DROP TABLE a;")
        migrations.pair(2, "b", "CREATE TABLE b (id int);", "DROP TABLE b;\nDROP TABLE nope;")
        engine.up(path=migrations.path)
        with pytest.raises(MigrationFailedError):
            engine.down(1, path=migrations.path)
        assert schema.version_row() == [(2, False)]
        assert "b" in schema.tables()


class TestDirtyProtocol:
    def test_two_concurrent_index_statements_run_under_the_dirty_flag(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "t", "CREATE TABLE t (a int, b int);")
        migrations.pair(
            2,
            "indexes",
            "CREATE INDEX CONCURRENTLY t_a ON t (a);\n"
            "CREATE TABLE seen AS SELECT version, dirty FROM schema_migrations;\n"
            "CREATE INDEX CONCURRENTLY t_b ON t (b);\n",
        )
        result = engine.up(path=migrations.path)
        assert [a.atomic for a in result.applied] == [True, False]
        assert schema.query("SELECT version, dirty FROM seen") == [(2, True)]
        assert schema.version_row() == [(2, False)]
        indexes = schema.query(
            f"SELECT indexname FROM pg_indexes WHERE schemaname = '{schema.name}'"
        )
        assert {"t_a", "t_b"} <= {row[0] for row in indexes}

    def test_failure_leaves_the_target_dirty_and_says_how_to_fix(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "t", "CREATE TABLE t (a int);")
        migrations.pair(
            2,
            "idx",
            "CREATE INDEX CONCURRENTLY t_a ON t (a);\nCREATE INDEX CONCURRENTLY t_b ON t (nope);",
        )
        with pytest.raises(MigrationFailedError) as caught:
            engine.up(path=migrations.path)
        message = str(caught.value)
        assert '2_idx.up.sql:2:1: column "nope" does not exist (42703)' in message
        assert "marked version 2 (dirty)" in message
        assert "python manage.py sqlmigrate_force 2" in message
        assert "python manage.py sqlmigrate_force 1" in message
        assert schema.version_row() == [(2, True)]
        assert session_is_idle()
        with pytest.raises(
            DirtyError, match=r"^Dirty database version 2\. Fix and force version\."
        ):
            engine.up(path=migrations.path)

    def test_failing_down_marks_the_target_version_dirty(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "a", "CREATE TABLE a (id int);", "DROP TABLE a;")
        migrations.pair(2, "b", "CREATE TABLE b (id int);", "DROP INDEX CONCURRENTLY nope;")
        engine.up(path=migrations.path)
        with pytest.raises(MigrationFailedError) as caught:
            engine.down(1, path=migrations.path)
        assert "marked version 1 (dirty)" in str(caught.value)
        assert schema.version_row() == [(1, True)]

    def test_failing_first_down_stores_minus_one_dirty(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "a", "CREATE TABLE a (id int);", "VACUUM nope;")
        engine.up(path=migrations.path)
        with pytest.raises(MigrationFailedError):
            engine.down(path=migrations.path)
        assert schema.version_row() == [(-1, True)]
        assert engine.version() == engine.VersionState(None, True)
        with pytest.raises(DirtyError, match=r"^Dirty database version -1\."):
            engine.up(path=migrations.path)

    def test_transaction_control_mid_file_runs_as_written(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(
            1,
            "enum",
            "CREATE TYPE mood AS ENUM ('sad');\nCOMMIT;\nALTER TYPE mood ADD VALUE 'happy';\n"
            "COMMIT;\nBEGIN;\nCREATE TABLE m (x mood DEFAULT 'happy');\nCOMMIT;\n",
        )
        result = engine.up(path=migrations.path)
        assert not result.applied[0].atomic
        assert "m" in schema.tables()
        assert schema.version_row() == [(1, False)]


class TestRules:
    def test_missing_down_file_runs_nothing_and_moves_on(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "a", "CREATE TABLE a (id int);", "DROP TABLE a;")
        migrations.pair(2, "b", "CREATE TABLE b (id int);", down=None)
        engine.up(path=migrations.path)
        warnings: list[str] = []
        result = engine.down(1, path=migrations.path, warn=warnings.append)
        assert warnings == [
            "warning: version 2 has no down file: nothing to run, the version moves on as "
            "golang-migrate does"
        ]
        assert result.applied[0].label == "2_b (no down file)"
        assert schema.version_row() == [(1, False)]
        assert "b" in schema.tables()

    def test_duplicate_versions_stop_before_anything_runs(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "a", "CREATE TABLE a (id int);")
        migrations.write("001_b.up.sql", "CREATE TABLE b (id int);")
        with pytest.raises(DuplicateMigrationError) as caught:
            engine.up(path=migrations.path)
        assert str(caught.value).startswith("duplicate migration file: 1_a.up.sql (same version")
        assert "001_b.up.sql" in str(caught.value)
        assert "schema_migrations" not in schema.tables()

    def test_database_version_without_a_file(self, schema: Schema, migrations: Migrations) -> None:
        three(migrations)
        engine.force(2, path=migrations.path)
        (migrations.path / "2_create_projects.up.sql").unlink()
        (migrations.path / "2_create_projects.down.sql").unlink()
        for call in (engine.up, engine.down):
            with pytest.raises(VersionNotFoundError, match=r"^no migration found for version 2: "):
                call(path=migrations.path)
        assert schema.version_row() == [(2, False)]

    def test_preflight_rejects_psql_input_before_anything_runs(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "fine", "CREATE TABLE fine (id int);")
        migrations.pair(2, "meta", "\\set ON_ERROR_STOP on\nCREATE TABLE m (id int);")
        with pytest.raises(SqlParseError, match=r"2_meta\.up\.sql:1:1: psql meta-command \\set"):
            engine.up(path=migrations.path)
        (migrations.path / "2_meta.up.sql").write_text("COPY fine FROM stdin;\n1\n\\.\n")
        with pytest.raises(SqlParseError, match=r"2_meta\.up\.sql:1:1: COPY \.\.\. FROM STDIN"):
            engine.up(path=migrations.path)
        # Nothing was written, not even the tables: every check runs first.
        assert schema.tables() == set()

    def test_limit_short_applies_what_exists(self, schema: Schema, migrations: Migrations) -> None:
        three(migrations)
        engine.up(1, path=migrations.path)
        with pytest.raises(ShortLimitError, match=r"^limit 7 short"):
            engine.up(9, path=migrations.path)
        assert schema.version_row() == [(3, False)]
        with pytest.raises(FileNotExistError, match=r"^file does not exist"):
            engine.up(1, path=migrations.path)

    def test_goto_both_ways(self, schema: Schema, migrations: Migrations) -> None:
        three(migrations)
        assert engine.goto(2, path=migrations.path).version_after == 2
        assert engine.goto(3, path=migrations.path).version_after == 3
        result = engine.goto(1, path=migrations.path)
        assert [a.label for a in result.applied] == [
            "3_add_column.down.sql",
            "2_create_projects.down.sql",
        ]
        assert schema.version_row() == [(1, False)]
        with pytest.raises(VersionNotFoundError, match=r"^no migration found for version 7"):
            engine.goto(7, path=migrations.path)

    def test_force_ignores_dirty_and_minus_one_empties(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        three(migrations)
        engine.up(path=migrations.path)
        schema.query("UPDATE schema_migrations SET dirty = true")
        assert engine.force(2, path=migrations.path) == engine.VersionState(2, False)
        assert schema.version_row() == [(2, False)]
        engine.force(-1, path=migrations.path)
        assert schema.version_row() == []
        warnings: list[str] = []
        engine.force(99, path=migrations.path, warn=warnings.append)
        assert len(warnings) == 1
        assert "no file for version 99" in warnings[0]

    def test_reads_what_the_go_cli_writes(self, schema: Schema, migrations: Migrations) -> None:
        three(migrations)
        engine.up(1, path=migrations.path)
        # The CLI's SetVersion: TRUNCATE then INSERT, in one transaction.
        schema.query(
            "BEGIN; TRUNCATE schema_migrations; INSERT INTO schema_migrations VALUES (2, false); COMMIT"
        )
        schema.query("CREATE TABLE projects (id int)")
        result = engine.up(path=migrations.path)
        assert [a.version for a in result.applied] == [3]
        assert schema.version_row() == [(3, False)]


def test_commits_are_relaxed_during_a_run_and_restored_after(
    schema: Schema, migrations: Migrations
) -> None:
    """Each commit skips the fsync wait while the lock is held; unlock flushes and restores."""
    migrations.pair(
        1, "spy", "CREATE TABLE mode AS SELECT current_setting('synchronous_commit') AS value;"
    )
    engine.up(path=migrations.path)
    assert schema.query("SELECT value FROM mode") == [("off",)]
    assert schema.query("SELECT current_setting('synchronous_commit')") == [("on",)]


def test_a_big_statement_travels_alone_and_still_commits_with_its_version(
    schema: Schema, migrations: Migrations, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlmigrate import runner

    monkeypatch.setattr(runner, "BIG_STATEMENT", 10)
    values = ", ".join(f"({i})" for i in range(50))
    migrations.pair(1, "t", "CREATE TABLE t (id int);")
    migrations.pair(2, "load", f"-- the data\nINSERT INTO t VALUES {values};\n")
    migrations.pair(3, "bad", "INSERT INTO t VALUES (1);\nINSERT INTO t VALUES ('x');\n")
    with pytest.raises(MigrationFailedError) as caught:
        engine.up(path=migrations.path)
    assert caught.value.location.endswith("3_bad.up.sql:2:23")
    (migrations.path / "3_bad.up.sql").write_text(
        "-- one statement, sent whole\nINSERT INTO t VALUES ('y');"
    )
    with pytest.raises(MigrationFailedError) as caught:
        engine.up(path=migrations.path)
    assert caught.value.location.endswith("3_bad.up.sql:2:23")
    assert schema.query("SELECT count(*) FROM t") == [(50,)]
    assert schema.version_row() == [(2, False)]
    (migrations.path / "3_bad.up.sql").write_text("SELEC 1;")
    with pytest.raises(SqlParseError):
        engine.up(path=migrations.path)
