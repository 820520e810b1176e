"""History, drift, out-of-order and ahead-of-files: what golang-migrate cannot tell."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.test import override_settings

from sqlmigrate import engine
from sqlmigrate.backends.mysql.history import MySQLHistorySql
from sqlmigrate.exceptions import (
    ConfigurationError,
    DriftError,
    MigrationFailedError,
    OutOfOrderError,
    SQLMigrateError,
    VersionNotFoundError,
)
from sqlmigrate.status import read_status

from .conftest import Migrations, Schema, run_command
from .vendors import Vendor

pytestmark = pytest.mark.django_db(transaction=True)

HISTORY = "schema_migrations_history"


def make(migrations: Migrations, *versions: int) -> None:
    for version in versions:
        migrations.pair(
            version, f"t{version}", f"CREATE TABLE t{version} (id int);", f"DROP TABLE t{version};"
        )


def history(schema: Schema | Vendor) -> list[tuple[object, ...]]:
    return schema.query(
        f"SELECT version, direction, outcome, resulting_version FROM {HISTORY} ORDER BY id"
    )


def cli_sets_version(schema: Schema | Vendor, version: int, *tables: int) -> None:
    """What the Go CLI leaves behind: its tables, and TRUNCATE + INSERT of the version
    (its sqlite3 and mysql drivers: DELETE + INSERT)."""
    for table in tables:
        schema.query(f"CREATE TABLE t{table} (id int)")
    if isinstance(schema, Vendor) and schema.name != "postgresql":
        schema.query("DELETE FROM schema_migrations")
        schema.query(f"INSERT INTO schema_migrations (version, dirty) VALUES ({version}, 0)")
        return
    schema.query(
        "BEGIN; TRUNCATE schema_migrations; "
        f"INSERT INTO schema_migrations VALUES ({version}, false); COMMIT"
    )


#: per vendor: a statement that makes file n run under the dirty protocol, and one that fails
DIRTY_PROTOCOL = {
    "postgresql": ("CREATE INDEX CONCURRENTLY t_{n} ON t (a);\n", "SELECT nope FROM t;"),
    "sqlite": ("VACUUM;\n", "SELECT nope FROM t;"),
    "mysql": ("CREATE TABLE u_{n} (id int);\n", "SELECT nope FROM t;"),
}


class TestRows:
    def test_each_run_records_a_row_with_the_file_checksum(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        make(migrations, 1, 2)
        engine.up(path=migrations.path)
        rows = schema.query(
            f"SELECT version, name, direction, outcome, checksum, duration_ms IS NOT NULL, "
            f"db_user = current_user, hostname IS NOT NULL, application LIKE 'sqlmigrate %%', "
            f"resulting_version FROM {HISTORY} ORDER BY id"
        )
        digest = hashlib.sha256(b"CREATE TABLE t1 (id int);").hexdigest()
        assert rows[0] == (1, "1_t1.up.sql", "up", "applied", digest, True, True, True, True, 1)
        assert [row[0] for row in rows] == [1, 2]
        engine.down(1, path=migrations.path)
        assert history(schema)[-1] == (2, "down", "applied", 1)

    def test_a_failed_atomic_file_leaves_a_failed_row_and_no_applied_one(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        make(migrations, 1)
        migrations.pair(2, "bad", "CREATE TABLE x (id int);\nSELECT 1/0;")
        with pytest.raises(MigrationFailedError):
            engine.up(path=migrations.path)
        assert history(schema) == [(1, "up", "applied", 1), (2, "up", "failed", 1)]

    def test_dirty_protocol_rows_go_running_then_applied_or_failed(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        migrations.pair(1, "t", "CREATE TABLE t (a int);")
        migrations.pair(
            2,
            "idx",
            "CREATE INDEX CONCURRENTLY t_a ON t (a);\n"
            f"CREATE TABLE seen AS SELECT outcome FROM {HISTORY} WHERE version = 2;",
        )
        migrations.pair(3, "bad", "CREATE INDEX CONCURRENTLY t_b ON t (nope);")
        with pytest.raises(MigrationFailedError):
            engine.up(path=migrations.path)
        assert schema.query("SELECT outcome FROM seen") == [("running",)]
        assert history(schema) == [
            (1, "up", "applied", 1),
            (2, "up", "applied", 2),
            (3, "up", "failed", 3),
        ]

    def test_running_rows_are_found_again_on_every_vendor(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        """The dirty protocol's ``running`` row is committed first, then updated by its id
        (MySQL: read with LAST_INSERT_ID(), which MySQL 8 has; it lacks INSERT ... RETURNING)."""
        seen = f"CREATE TABLE seen AS SELECT outcome FROM {HISTORY} WHERE version = 2;"
        outside_a_transaction, bad = DIRTY_PROTOCOL[vendor.name]
        migrations.pair(1, "t", "CREATE TABLE t (a int);")
        migrations.pair(2, "running", outside_a_transaction.format(n=2) + seen)
        migrations.pair(3, "bad", outside_a_transaction.format(n=3) + bad)
        with pytest.raises(MigrationFailedError):
            engine.up(using=vendor.alias, path=migrations.path)
        assert vendor.query("SELECT outcome FROM seen") == [("running",)]
        assert history(vendor) == [
            (1, "up", "applied", 1),
            (2, "up", "applied", 2),
            (3, "up", "failed", 3),
        ]

    def test_mysql_reads_the_id_without_returning(self) -> None:
        """MySQL 8 refuses INSERT ... RETURNING (a syntax error): the MySQL dialect never
        sends it, and reads the id on the session that inserted the row."""
        insert = "INSERT INTO h (version) VALUES (1)"
        assert MySQLHistorySql().returning_id(insert) == [insert, "SELECT LAST_INSERT_ID()"]

    def test_force_is_recorded(self, vendor: Vendor, migrations: Migrations) -> None:
        make(migrations, 1, 2)
        engine.force(2, using=vendor.alias, path=migrations.path)
        assert history(vendor) == [(2, "force", "applied", 2)]

    def test_history_table_name_is_validated(self, schema: Schema, migrations: Migrations) -> None:
        make(migrations, 1)
        with (
            override_settings(SQLMIGRATE_HISTORY_TABLE='a"b'),
            pytest.raises(ConfigurationError, match=r"^SQLMIGRATE_HISTORY_TABLE 'a\"b' must be"),
        ):
            engine.up(path=migrations.path)

    def test_history_can_be_turned_off(self, schema: Schema, migrations: Migrations) -> None:
        make(migrations, 1)
        with override_settings(SQLMIGRATE_HISTORY_TABLE=None):
            engine.up(path=migrations.path)
        assert schema.tables() == {"t1", "schema_migrations"}


class TestDrift:
    def test_edited_applied_file_is_refused(self, vendor: Vendor, migrations: Migrations) -> None:
        make(migrations, 1, 2)
        engine.up(1, using=vendor.alias, path=migrations.path)
        edited = migrations.write("1_t1.up.sql", "CREATE TABLE t1 (id bigint);")
        with pytest.raises(DriftError) as caught:
            engine.up(using=vendor.alias, path=migrations.path)
        message = str(caught.value)
        old = hashlib.sha256(b"CREATE TABLE t1 (id int);").hexdigest()
        new = hashlib.sha256(edited.read_bytes()).hexdigest()
        assert message.startswith("drift: ")
        assert "1_t1.up.sql changed after it was applied (applied " in message
        assert f"UTC by sqlmigrate; recorded sha256 {old}, file now {new}). " in message
        assert "The SQL itself changed." in message
        assert "pass --allow-drift or set SQLMIGRATE_ALLOW_DRIFT = True" in message
        assert vendor.version_row() == [(1, False)]
        with pytest.raises(DriftError):
            engine.down(using=vendor.alias, path=migrations.path)
        with pytest.raises(DriftError):
            engine.goto(2, using=vendor.alias, path=migrations.path)

    def test_whitespace_only_edit_is_drift_but_says_so(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        make(migrations, 1)
        engine.up(using=vendor.alias, path=migrations.path)
        migrations.write("1_t1.up.sql", "-- tidy\nCREATE TABLE   t1 (id int);\n")
        with pytest.raises(DriftError, match="Only whitespace or comments changed"):
            engine.down(1, using=vendor.alias, path=migrations.path)

    def test_allow_drift_runs_and_warns(self, vendor: Vendor, migrations: Migrations) -> None:
        make(migrations, 1, 2)
        engine.up(1, using=vendor.alias, path=migrations.path)
        migrations.write("1_t1.up.sql", "CREATE TABLE t1 (id bigint);")
        warnings: list[str] = []
        result = engine.up(
            using=vendor.alias, path=migrations.path, allow_drift=True, warn=warnings.append
        )
        assert result.version_after == 2
        assert warnings[0].startswith("warning: drift: ")
        with override_settings(SQLMIGRATE_ALLOW_DRIFT=True):
            assert engine.down(1, using=vendor.alias, path=migrations.path).version_after == 1


class TestOutOfOrder:
    def test_late_file_is_refused_then_applied_without_moving_back(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        make(migrations, 1, 2, 4)
        engine.up(using=vendor.alias, path=migrations.path)
        make(migrations, 3)
        with pytest.raises(OutOfOrderError) as caught:
            engine.up(using=vendor.alias, path=migrations.path)
        message = str(caught.value)
        assert "out of order: " in message
        assert (
            "3_t3.up.sql (version 3) was never applied, but the database is already at version 4"
            in message
        )
        assert "renumber it to come after 4" in message
        assert "--allow-out-of-order" in message
        result = engine.up(using=vendor.alias, path=migrations.path, allow_out_of_order=True)
        assert [a.label for a in result.applied] == ["3_t3.up.sql (out of order)"]
        assert vendor.version_row() == [(4, False)]
        assert "t3" in vendor.tables()
        assert history(vendor)[-1] == (3, "up", "applied", 4)
        assert engine.up(using=vendor.alias, path=migrations.path).changed is False

    def test_files_from_before_history_are_not_out_of_order(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        make(migrations, 1, 2, 3)
        engine.force(-1, path=migrations.path)  # creates the tables, no version
        schema.query(f"DELETE FROM {HISTORY}")
        cli_sets_version(schema, 2, 1, 2)
        result = engine.up(path=migrations.path)
        assert [a.version for a in result.applied] == [3]
        status = read_status(path=migrations.path)
        assert [row.outside for row in status.rows] == [True, True, False]
        assert status.out_of_order == ()


class TestTheGoCliInBetween:
    def test_versions_applied_by_the_cli_are_observed(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        make(migrations, 1, 2, 3, 4)
        engine.up(2, using=vendor.alias, path=migrations.path)
        cli_sets_version(vendor, 3, 3)
        engine.up(using=vendor.alias, path=migrations.path)
        assert history(vendor)[2:] == [(3, "up", "observed", 3), (4, "up", "applied", 4)]
        row = read_status(using=vendor.alias, path=migrations.path).row(3)
        assert row is not None
        assert row.outside
        # The CLI rolls back to 2: sqlmigrate notices, and 3 is pending again, not out of order.
        vendor.query("DROP TABLE t3")
        vendor.query("DROP TABLE t4")
        cli_sets_version(vendor, 2)
        result = engine.up(using=vendor.alias, path=migrations.path)
        assert [a.version for a in result.applied] == [3, 4]
        assert (4, "down", "observed", 2) in history(vendor)

    def test_drift_is_checked_against_what_was_observed(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        make(migrations, 1, 2, 3)
        engine.up(1, using=vendor.alias, path=migrations.path)
        cli_sets_version(vendor, 2, 2)
        engine.up(using=vendor.alias, path=migrations.path)
        migrations.write("2_t2.up.sql", "CREATE TABLE t2 (id text);")
        with pytest.raises(DriftError, match=r"UTC outside sqlmigrate \(first seen\)"):
            engine.down(1, using=vendor.alias, path=migrations.path)


class TestAhead:
    def test_an_older_release_finds_nothing_to_do(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        make(migrations, 1, 2, 3)
        engine.up(path=migrations.path)
        for direction in ("up", "down"):
            (migrations.path / f"3_t3.{direction}.sql").unlink()
        result = run_command("sqlmigrate_up", path=migrations.path)
        assert (result.code, result.out) == (
            0,
            "database is ahead of these files (at 3, files end at 2): nothing to do\n",
        )
        strict = run_command("sqlmigrate_up", path=migrations.path, strict=True)
        assert strict.code == 1
        assert strict.err.startswith("no migration found for version 3: database is ahead")
        with pytest.raises(VersionNotFoundError):
            engine.down(1, path=migrations.path)

    def test_unknown_or_in_between_versions_stay_errors(
        self, vendor: Vendor, migrations: Migrations
    ) -> None:
        make(migrations, 1, 3)
        engine.up(1, using=vendor.alias, path=migrations.path)
        cli_sets_version(vendor, 9)  # forced by hand: history never saw 9 applied
        with pytest.raises(SQLMigrateError, match=r"^no migration found for version 9"):
            engine.up(using=vendor.alias, path=migrations.path)
        cli_sets_version(vendor, 2)
        with pytest.raises(VersionNotFoundError, match=r"^no migration found for version 2"):
            engine.up(using=vendor.alias, path=migrations.path)


class TestBackfill:
    def test_adopting_an_existing_database(self, schema: Schema, migrations: Migrations) -> None:
        make(migrations, 1, 2, 3)
        engine.force(-1, path=migrations.path)
        cli_sets_version(schema, 2, 1, 2)
        result = run_command("sqlmigrate_backfill", path=migrations.path)
        assert result.out == (
            "recorded 2 applied migration(s) in the history table, adopted with the checksums "
            "their files have now:\n  1_t1.up.sql\n  2_t2.up.sql\n"
        )
        assert history(schema)[-2:] == [(1, "up", "backfilled", 2), (2, "up", "backfilled", 2)]
        again = run_command("sqlmigrate_backfill", path=migrations.path)
        assert again.out == "recorded 0 applied migration(s): history already knows them all\n"
        migrations.write("1_t1.up.sql", "CREATE TABLE t1 (id text);")
        with pytest.raises(DriftError, match=r"outside sqlmigrate"):
            engine.up(path=migrations.path)

    def test_lists_only_what_this_run_adopted(self, schema: Schema, migrations: Migrations) -> None:
        make(migrations, 1, 2, 3)
        engine.force(-1, path=migrations.path)
        cli_sets_version(schema, 1, 1)
        run_command("sqlmigrate_backfill", path=migrations.path)
        cli_sets_version(schema, 3, 2, 3)
        # Not the Go CLI this time: the version table was set by hand, so no run observed 2, 3.
        result = run_command("sqlmigrate_backfill", path=migrations.path)
        assert result.out.splitlines()[1:] == ["  2_t2.up.sql", "  3_t3.up.sql"]

    def test_status_tells_adopted_from_applied_outside(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        make(migrations, 1, 2, 3)
        engine.force(-1, path=migrations.path)
        cli_sets_version(schema, 1, 1)
        run_command("sqlmigrate_backfill", path=migrations.path)
        cli_sets_version(schema, 2, 2)
        engine.up(path=migrations.path)  # observes 2 (applied by the CLI), applies 3
        lines = run_command("sqlmigrate_status", path=migrations.path).out.splitlines()
        assert lines[1:3] == [
            "[X] 1_t1  adopted (backfill)",
            "[X] 2_t2  applied outside sqlmigrate",
        ]
        assert lines[3].startswith("[X] 3_t3  20")
        data = json.loads(run_command("sqlmigrate_status", path=migrations.path, json=True).out)
        assert [(m["adopted"], m["applied_outside_sqlmigrate"]) for m in data["migrations"]] == [
            (True, True),
            (False, True),
            (False, False),
        ]


class TestDryRun:
    def test_prints_the_plan_and_changes_nothing(
        self, schema: Schema, migrations: Migrations
    ) -> None:
        make(migrations, 1)
        migrations.pair(2, "idx", "CREATE INDEX CONCURRENTLY i ON t1 (id);")
        migrations.pair(3, "nodown", "CREATE TABLE t3 (id int);", down=None)
        result = run_command("sqlmigrate_up", path=migrations.path, dry_run=True)
        assert result.out.splitlines() == [
            "would run  1_t1.up.sql      (atomic: one transaction with the version update)",
            "would run  2_idx.up.sql     (dirty-flag protocol: CREATE INDEX CONCURRENTLY (line 1))",
            "would run  3_nodown.up.sql  (atomic: one transaction with the version update)",
            "dry run: 3 migration(s) checked, nothing changed",
        ]
        assert schema.tables() == set()
        engine.up(path=migrations.path)
        down = run_command("sqlmigrate_down", "2", path=migrations.path, dry_run=True)
        assert down.out.splitlines()[:2] == [
            "would run  3_nodown (no down file)  (no file: version only)",
            "would run  2_idx.down.sql           (atomic: one transaction with the version update)",
        ]
        assert schema.version_row() == [(3, False)]

    def test_dry_run_still_rejects_bad_files(self, schema: Schema, migrations: Migrations) -> None:
        migrations.pair(1, "bad", "SELEC 1;")
        result = run_command("sqlmigrate_up", path=migrations.path, dry_run=True)
        assert result.code == 1
        assert "1_bad.up.sql:1:1: syntax error" in result.err


class TestStatusCommand:
    def test_lines_and_check(self, schema: Schema, migrations: Migrations) -> None:
        make(migrations, 1, 2, 3)
        engine.up(2, path=migrations.path)
        result = run_command("sqlmigrate_status", path=migrations.path)
        lines = result.out.splitlines()
        assert (
            lines[0]
            == f"default: {schema.name}.schema_migrations at version 2; files in {migrations.path}"
        )
        assert lines[1].startswith("[X] 1_t1  20")
        assert lines[1].endswith(" ms")
        assert lines[2].endswith("ms  (current)")
        assert lines[3] == "[ ] 3_t3"
        assert lines[4] == "2 applied, 1 pending"
        assert run_command("sqlmigrate_status", path=migrations.path, check=True).code == 1
        engine.up(path=migrations.path)
        assert run_command("sqlmigrate_status", path=migrations.path, check=True).code == 0
        migrations.write("1_t1.up.sql", "CREATE TABLE t1 (id text);")
        checked = run_command("sqlmigrate_status", path=migrations.path, check=True)
        assert checked.code == 1
        assert "DRIFT: file changed since it was applied (SQL)" in checked.out

    def test_json(self, schema: Schema, migrations: Migrations) -> None:
        make(migrations, 1, 2)
        engine.up(1, path=migrations.path)
        data = json.loads(run_command("sqlmigrate_status", path=migrations.path, json=True).out)
        assert (data["version"], data["dirty"], data["ok"], data["pending"]) == (1, False, False, 1)
        assert [m["state"] for m in data["migrations"]] == ["current", "pending"]
        assert data["migrations"][0]["applied_at"] is not None
        assert data["migrations"][0]["applied_outside_sqlmigrate"] is False


class TestValidate:
    def test_offline_checks(self, tmp_path: Path) -> None:
        folder = tmp_path / "m"
        folder.mkdir()
        Migrations(folder).pair(1, "ok", "CREATE TABLE a (id int);", "DROP TABLE a;")
        assert (
            run_command("sqlmigrate_validate", path=folder).out
            == f"ok: 1 migrations, 2 files in {folder}\n"
        )
        Migrations(folder).pair(2, "nodown", "SELECT 1;", down=None)
        result = run_command("sqlmigrate_validate", path=folder)
        assert result.code == 0
        assert "warning: " in result.err
        assert "version 2 has no down file" in result.err
        assert run_command("sqlmigrate_validate", path=folder, strict=True).code == 1
        Migrations(folder).write("3_bad.up.sql", "SELECT 1;\n\\i other.sql\n")
        result = run_command("sqlmigrate_validate", path=folder)
        assert result.code == 1
        assert "3_bad.up.sql:2:1: psql meta-command \\i is not SQL" in result.err

    def test_with_a_database_checks_drift(self, schema: Schema, migrations: Migrations) -> None:
        make(migrations, 1)
        engine.up(path=migrations.path)
        migrations.write("1_t1.up.sql", "CREATE TABLE t1 (id text);")
        result = run_command("sqlmigrate_validate", path=migrations.path, database="default")
        assert result.code == 1
        assert "drift: " in result.err
