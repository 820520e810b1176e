"""``sqlmigrate_drop``: golang-migrate's ``drop``, without what the Go driver leaves behind."""

from __future__ import annotations

import pytest
from django.db import connection

from sqlmigrate.backends.postgresql import advisory_lock_id

from .conftest import Migrations, Schema, run_command, run_manage

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "Are you sure you want to drop the entire database schema? [y/N]"

#: one of each kind; golang-migrate's driver drops only the two base tables
OBJECTS = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TYPE pair AS (a int, b text);
CREATE TYPE span AS RANGE (subtype = int4);
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE SEQUENCE invoice_numbers;
CREATE TABLE accounts (id serial PRIMARY KEY, mood mood, size positive);
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW sad_accounts AS SELECT id FROM accounts WHERE mood = 'sad';
CREATE MATERIALIZED VIEW account_count AS SELECT count(*) FROM accounts;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE PROCEDURE reset() LANGUAGE sql AS $$ DELETE FROM accounts $$;
CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int, initcond = '0');
"""


def leftovers(schema: Schema) -> list[tuple[str, str]]:
    """Every relation, routine and type still in the schema (arrays and row types aside)."""
    return schema.query(
        f"""
        SELECT 'relation', relname FROM pg_class WHERE relnamespace = '"{schema.name}"'::regnamespace
        UNION ALL
        SELECT 'routine', proname FROM pg_proc WHERE pronamespace = '"{schema.name}"'::regnamespace
        UNION ALL
        SELECT 'type', typname FROM pg_type WHERE typnamespace = '"{schema.name}"'::regnamespace
        ORDER BY 1, 2
        """
    )


def applied(schema: Schema, migrations: Migrations) -> None:
    migrations.pair(1, "objects", OBJECTS)
    assert run_command("sqlmigrate_up", path=migrations.path).code == 0
    assert ("relation", "schema_migrations") in leftovers(schema)


def test_drops_everything_in_the_schema(schema: Schema, migrations: Migrations) -> None:
    applied(schema, migrations)
    result = run_command("sqlmigrate_drop", database="default", force=True)
    assert result.code == 0, result.err
    assert result.out == (
        "dropped 1 materialized view, 1 view, 5 tables, 3 sequences, 3 routines, 3 types, "
        "1 domain "
        f"in schema {schema.name}\n"
    )
    assert leftovers(schema) == []
    # As after the Go CLI's drop: the next command starts from no version.
    assert run_command("sqlmigrate_version").err == "no migration"
    assert run_command("sqlmigrate_up", path=migrations.path).code == 0


def test_lists_what_it_drops_at_v2(schema: Schema, migrations: Migrations) -> None:
    applied(schema, migrations)
    lines = run_command("sqlmigrate_drop", database="default", force=True, verbosity=2).out
    assert f"dropped materialized view {schema.name}.account_count\n" in lines
    assert f"dropped routine {schema.name}.total(integer)\n" in lines
    assert f"dropped table {schema.name}.schema_migrations_history\n" in lines


def test_an_empty_schema(schema: Schema) -> None:
    result = run_command("sqlmigrate_drop", database="default", force=True)
    assert (result.code, result.out) == (0, f"nothing to drop in schema {schema.name}\n")


def test_an_extension_and_its_objects_stay(schema: Schema) -> None:
    if schema.query("SELECT count(*) FROM pg_extension WHERE extname = 'citext'") != [(0,)]:
        pytest.skip("citext is already installed in this database")
    schema.query(f'CREATE EXTENSION citext SCHEMA "{schema.name}"')
    schema.query("CREATE TABLE people (email citext)")
    result = run_command("sqlmigrate_drop", database="default", force=True)
    assert result.out == f"dropped 1 table in schema {schema.name}\n"
    assert schema.query("SELECT 'A'::citext = 'a'::citext") == [(True,)]


@pytest.mark.parametrize(
    ("answer", "dropped"), [("y\n", True), ("Y\n", True), ("yes\n", False), ("", False)]
)
def test_asks_first(schema: Schema, migrations: Migrations, answer: str, dropped: bool) -> None:
    applied(schema, migrations)
    done = run_manage("sqlmigrate_drop", "--database", "default", url=schema.url, stdin=answer)
    assert done.stderr.startswith(QUESTION + "\n")
    if dropped:
        assert (done.returncode, leftovers(schema)) == (0, [])
        assert "Dropping the entire database schema\n" in done.stderr
    else:
        assert done.returncode == 1
        assert done.stderr.endswith("error: Aborted dropping the entire database schema\n")
        assert ("relation", "accounts") in leftovers(schema)


def test_noinput_refuses_without_force(schema: Schema, migrations: Migrations) -> None:
    applied(schema, migrations)
    before = leftovers(schema)
    result = run_command("sqlmigrate_drop", database="default", interactive=False)
    assert result.code == 1
    assert result.err == (
        "drop with --noinput would empty the schema without asking: add --force to mean it"
    )
    assert leftovers(schema) == before
    done = run_manage("sqlmigrate_drop", "--database", "default", "--noinput", "-f", url=schema.url)
    assert (done.returncode, done.stderr, leftovers(schema)) == (0, "", [])


def test_the_alias_must_be_named(schema: Schema, migrations: Migrations) -> None:
    applied(schema, migrations)
    done = run_manage("sqlmigrate_drop", "--force", url=schema.url)
    assert done.returncode == 2
    assert "error: the following arguments are required: --database" in done.stderr
    assert ("relation", "accounts") in leftovers(schema)


def test_waits_for_the_migration_lock(schema: Schema, migrations: Migrations) -> None:
    applied(schema, migrations)
    name = connection.settings_dict["NAME"]
    key = advisory_lock_id("/" + name, schema.name, "schema_migrations")
    with schema.connect() as other:
        other.execute(f"SELECT pg_advisory_lock({key})")
        result = run_command("sqlmigrate_drop", database="default", force=True, lock_timeout=0.3)
    assert result.code == 1
    assert result.err.startswith("timeout: can't acquire database lock: waited 0.3 s")
    assert ("relation", "accounts") in leftovers(schema)


def test_all_or_nothing(schema: Schema, migrations: Migrations) -> None:
    """A drop the server refuses half-way (here an event trigger) leaves everything."""
    applied(schema, migrations)
    before = leftovers(schema)
    schema.query(
        "CREATE FUNCTION refuse_view_drops() RETURNS event_trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'views stay'; END $$"
    )
    schema.query(
        "CREATE EVENT TRIGGER refuse_view_drops ON ddl_command_start "
        "WHEN TAG IN ('DROP MATERIALIZED VIEW') EXECUTE FUNCTION refuse_view_drops()"
    )
    try:
        result = run_command("sqlmigrate_drop", database="default", force=True)
    finally:
        schema.query("DROP EVENT TRIGGER refuse_view_drops")
    assert result.code == 1
    assert result.err == (
        f"cannot drop the objects of schema {schema.name}: views stay (P0001). "
        "Nothing was dropped: the drops ran in one transaction"
    )
    assert leftovers(schema) == sorted([*before, ("routine", "refuse_view_drops")])
