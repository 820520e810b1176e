"""Migration folders shaped like real projects', generated deterministically (seeded).

    python bench/corpus.py            # writes bench/out/<set>/ and prints what it wrote

Each set is a golang-migrate folder (up and down files) that applies cleanly,
in order, to an empty database:

- ``oneline``: 1000 files of one ``CREATE TABLE`` each.
- ``plpgsql``: ~270 files, ~0.4 MB: tables, plpgsql functions in ``$$``
  quotes, ``DO`` blocks, backfills (``UPDATE ... FROM``), seed rows.
- ``views``: ~186 files, ~1.2 MB: enums, wide views over joins, trigger
  functions and triggers, comments; tables named ``subscriptions`` (the word
  that sends a statement to the full parser).
- ``wrapped``: ~77 files, each wrapped in its own ``BEGIN; ... COMMIT;``.
- ``inserts``: one file: a table and 300 000 ``INSERT`` statements (~18 MB).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
SEED = 20261201


@dataclass
class Folder:
    """The files of one set, written as ``NNNNNN_name.{up,down}.sql``."""

    path: Path
    count: int = 0
    ups: list[Path] = field(default_factory=list)

    def add(self, name: str, up: str, down: str) -> None:
        self.count += 1
        stem = f"{self.count:06d}_{name}"
        (self.path / f"{stem}.up.sql").write_text(up)
        (self.path / f"{stem}.down.sql").write_text(down)
        self.ups.append(self.path / f"{stem}.up.sql")


WORDS = (
    "account",
    "order",
    "invoice",
    "payment",
    "project",
    "member",
    "team",
    "plan",
    "price",
    "coupon",
    "event",
    "ticket",
    "shipment",
    "address",
    "review",
    "message",
    "device",
    "session",
    "report",
    "export",
)
TYPES = ("text", "integer", "bigint", "numeric(12,2)", "boolean", "timestamptz", "jsonb")


class Schema:
    """What the migrations so far have created, so later ones refer to real things."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tables: dict[str, list[str]] = {}
        self.serial = 0

    def name(self, kind: str) -> str:
        self.serial += 1
        return f"{self.rng.choice(WORDS)}_{kind}_{self.serial}"

    def table(self, name: str | None = None, columns: int = 6) -> tuple[str, str, str]:
        name = name or self.name("t")
        cols = [f"col_{i}_{self.rng.choice(WORDS)}" for i in range(columns)]
        lines = ["    id bigserial PRIMARY KEY"]
        lines += [f"    {c} {self.rng.choice(TYPES)}" for c in cols]
        lines.append("    created_at timestamptz NOT NULL DEFAULT now()")
        lines.append("    updated_at timestamptz NOT NULL DEFAULT now()")
        self.tables[name] = ["id", *cols]
        up = f"-- {name}: {self.rng.choice(WORDS)} records\nCREATE TABLE {name} (\n"
        up += ",\n".join(lines) + "\n);\n"
        up += f"CREATE INDEX {name}_created_idx ON {name} (created_at);\n"
        up += "".join(
            f"COMMENT ON COLUMN {name}.{c} IS 'the {self.rng.choice(WORDS)} of this "
            f"{self.rng.choice(WORDS)}, set by the {self.rng.choice(WORDS)} service';\n"
            for c in cols
        )
        return name, up, f"DROP TABLE IF EXISTS {name} CASCADE;\n"

    def some_table(self) -> str:
        return self.rng.choice(sorted(self.tables))


def plpgsql_function(schema: Schema, table: str) -> tuple[str, str, str]:
    fn = schema.name("fn")
    body = "\n".join(
        f"    IF NEW.{col} IS NULL THEN\n        NEW.{col} := OLD.{col};\n    END IF;"
        for col in schema.tables[table][1:]
    )
    up = (
        f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger\nLANGUAGE plpgsql AS $$\n"
        f"DECLARE\n    changed integer := 0; -- a semicolon; inside the body\nBEGIN\n"
        f"    NEW.updated_at := now();\n{body}\n    RAISE DEBUG 'row %: $x$ %', NEW.id, changed;\n"
        f"    FOR changed IN SELECT count(*) FROM {table} WHERE id < NEW.id LOOP\n"
        f"        EXIT WHEN changed > 10;\n    END LOOP;\n"
        f"    RETURN NEW;\nEND;\n$$;\n\n"
        f"COMMENT ON FUNCTION {fn}() IS 'keeps {table} consistent; see the runbook';\n"
        f"CREATE TRIGGER {fn}_trg BEFORE UPDATE ON {table}\n"
        f"    FOR EACH ROW EXECUTE FUNCTION {fn}();\n"
    )
    down = f"DROP TRIGGER IF EXISTS {fn}_trg ON {table};\nDROP FUNCTION IF EXISTS {fn}();\n"
    return fn, up, down


def do_block(schema: Schema) -> tuple[str, str, str]:
    enum = schema.name("kind")
    labels = ", ".join(f"'{w}'" for w in schema.rng.sample(WORDS, 5))
    up = (
        "DO $do$\nBEGIN\n"
        f"    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = '{enum}') THEN\n"
        f"        CREATE TYPE {enum} AS ENUM ({labels});\n    END IF;\n"
        "    PERFORM set_config('application_name', current_setting('application_name'), true);\n"
        "END\n$do$;\n"
    )
    return enum, up, f"DROP TYPE IF EXISTS {enum};\n"


def backfill(schema: Schema, table: str) -> tuple[str, str, str]:
    other = schema.some_table()
    column = schema.name("ref")
    schema.tables[table].append(column)
    up = (
        f"ALTER TABLE {table} ADD COLUMN {column} bigint;\n"
        f"INSERT INTO {other} (created_at)\n    SELECT now() - g * interval '1 hour'"
        f" FROM generate_series(1, 20) AS g;\n"
        f"INSERT INTO {table} (created_at)\n    SELECT now() - g * interval '1 day'"
        f" FROM generate_series(1, 20) AS g;\n"
        f"UPDATE {table} AS t\n    SET {column} = o.id\n    FROM {other} AS o\n"
        f"    WHERE o.id = t.id AND t.{column} IS NULL;\n"
        f"CREATE INDEX {table}_{column}_idx ON {table} ({column});\n"
    )
    return column, up, f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column};\n"


def plpgsql_set(folder: Folder, rng: random.Random, files: int = 270) -> None:
    schema = Schema(rng)
    while folder.count < files:
        roll = rng.random()
        if not schema.tables or roll < 0.3:
            name, up, down = schema.table(columns=rng.randint(10, 26))
        elif roll < 0.55:
            name, up, down = plpgsql_function(schema, schema.some_table())
        elif roll < 0.7:
            name, up, down = do_block(schema)
        else:
            name, up, down = backfill(schema, schema.some_table())
        folder.add(name, up, down)


def enum_type(schema: Schema) -> tuple[str, str, str]:
    enum = schema.name("status")
    labels = ",\n    ".join(f"'{w}_{i}'" for i, w in enumerate(schema.rng.sample(WORDS, 12)))
    up = f"CREATE TYPE {enum} AS ENUM (\n    {labels}\n);\n"
    up += f"COMMENT ON TYPE {enum} IS 'states of a {schema.rng.choice(WORDS)}';\n"
    return enum, up, f"DROP TYPE IF EXISTS {enum};\n"


def wide_view(schema: Schema) -> tuple[str, str, str]:
    view = schema.name("v")
    tables = schema.rng.sample(sorted(schema.tables), min(8, len(schema.tables)))
    columns = ",\n    ".join(
        f"t{i}.{col} AS {table[:20]}_{col}"
        for i, table in enumerate(tables)
        for col in schema.tables[table]
    )
    joins = "\n".join(
        f"LEFT JOIN {table} AS t{i} ON t{i}.id = t0.id" for i, table in enumerate(tables[1:], 1)
    )
    up = (
        f"-- reporting view over {', '.join(tables)}\n"
        f"CREATE OR REPLACE VIEW {view} AS\nSELECT\n    {columns},\n"
        f"    coalesce(t0.created_at, now()) AS seen_at,\n"
        f"    CASE WHEN t0.id % 2 = 0 THEN 'even' ELSE 'odd' END AS parity\n"
        f"FROM {tables[0]} AS t0\n{joins}\nWHERE t0.created_at > now() - interval '10 years';\n"
        f"COMMENT ON VIEW {view} IS 'for the {schema.rng.choice(WORDS)} dashboard';\n"
    )
    return view, up, f"DROP VIEW IF EXISTS {view};\n"


def audit_trigger(schema: Schema, table: str) -> tuple[str, str, str]:
    fn = schema.name("audit")
    audit = f"{fn}_log"
    checks = "\n".join(
        f"    IF NEW.{col} IS DISTINCT FROM OLD.{col} THEN\n"
        f"        INSERT INTO {audit} (row_id, field, changed_at)"
        f" VALUES (NEW.id, '{col}', now());\n    END IF;"
        for col in schema.tables[table][1:]
    )
    up = (
        f"CREATE TABLE {audit} (\n    id bigserial PRIMARY KEY,\n    row_id bigint NOT NULL,\n"
        f"    field text NOT NULL,\n    changed_at timestamptz NOT NULL\n);\n\n"
        f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n{checks}\n"
        f"    RETURN NEW;\nEND;\n$body$;\n\n"
        f"CREATE TRIGGER {fn}_trg AFTER UPDATE ON {table}\n"
        f"    FOR EACH ROW EXECUTE FUNCTION {fn}();\n"
    )
    down = f"DROP TRIGGER IF EXISTS {fn}_trg ON {table};\nDROP FUNCTION IF EXISTS {fn}();\n"
    return fn, up, down + f"DROP TABLE IF EXISTS {audit};\n"


def views_set(folder: Folder, rng: random.Random, files: int = 186) -> None:
    schema = Schema(rng)
    while folder.count < files:
        roll = rng.random()
        if len(schema.tables) < 4 or roll < 0.25:
            name = None
            if rng.random() < 0.5:
                schema.serial += 1
                name = f"subscriptions_{schema.serial}"
            table, up, down = schema.table(name, columns=rng.randint(20, 38))
            folder.add(table, up, down)
        elif roll < 0.45:
            folder.add(*enum_type(schema))
        elif roll < 0.75:
            folder.add(*wide_view(schema))
        else:
            folder.add(*audit_trigger(schema, schema.some_table()))


def wrapped_set(folder: Folder, rng: random.Random, files: int = 77) -> None:
    schema = Schema(rng)
    while folder.count < files:
        if not schema.tables or rng.random() < 0.5:
            name, body, down = schema.table(columns=rng.randint(4, 10))
        else:
            name, body, down = backfill(schema, schema.some_table())
        folder.add(name, f"BEGIN;\n\n{body}\nCOMMIT;\n", f"BEGIN;\n{down}COMMIT;\n")


def oneline_set(folder: Folder, rng: random.Random, files: int = 1000) -> None:
    for version in range(1, files + 1):
        folder.add(f"t{version:05d}", f"CREATE TABLE t{version:05d} (id int);\n", "")


def inserts_set(folder: Folder, rng: random.Random, rows: int = 300_000) -> None:
    lines = ["CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2));\n"]
    lines += [
        f"INSERT INTO items (id, name, price) VALUES ({i}, 'item {i}', {rng.randint(1, 99999) / 100});\n"  # noqa: E501
        for i in range(1, rows + 1)
    ]
    folder.add("items", "".join(lines), "DROP TABLE items;\n")


SETS: dict[str, tuple[str, Callable[[Folder, random.Random], None]]] = {
    "oneline": ("1000 one-line files", oneline_set),
    "plpgsql": ("plpgsql, DO blocks, backfills", plpgsql_set),
    "views": ("views, enums, triggers", views_set),
    "wrapped": ("every file BEGIN; ... COMMIT;", wrapped_set),
    "inserts": ("one file of 300 000 INSERT statements", inserts_set),
}


def build(name: str, out: Path = OUT) -> Folder:
    """(Re)write one set under ``out/name``; same bytes on every call."""
    path = out / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    folder = Folder(path)
    SETS[name][1](folder, random.Random(f"{SEED}-{name}"))
    return folder


def size(folder: Folder) -> int:
    return sum(p.stat().st_size for p in folder.ups)


if __name__ == "__main__":
    for set_name in SETS:
        built = build(set_name)
        print(f"{set_name}: {built.count} up files, {size(built) / 1e6:.2f} MB in {built.path}")
