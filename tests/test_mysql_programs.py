"""Stored programs with BEGIN ... END bodies on a real MariaDB: created, callable,
failing as the CLI leaves them; MariaDB's compound statements outside programs.

How such files are split (without a server) is in test_mysql_splitting.py.
"""

from __future__ import annotations

import subprocess
import uuid
from urllib.parse import urlsplit

import pytest

from sqlmigrate import engine
from sqlmigrate.exceptions import MigrationFailedError

from .conftest import Migrations
from .golang_migrate import require_cli
from .vendors import Vendor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.parametrize("vendor", ["mysql"], indirect=True),
]

PROGRAMS = """\
CREATE TABLE a (v int);
CREATE TABLE log (msg varchar(100));
-- a procedure with a labelled loop, a nested IF, END in strings and comments
CREATE PROCEDURE p(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  counting: LOOP
    SET i = i + 1;
    IF i > n THEN
      LEAVE counting;  -- END IF; END;
    END IF;
    INSERT INTO log VALUES (CONCAT('p ', i, ' END;'));
  END LOOP counting;
END;
CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC
BEGIN
  RETURN CASE WHEN x < 0 THEN 0 ELSE x + 1 END;
END;
CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW
BEGIN
  IF NEW.v < 0 THEN
    SET NEW.v = 0;
  ELSEIF NEW.v > 100 THEN
    BEGIN
      CASE NEW.v WHEN 500 THEN SET NEW.v = 101; ELSE SET NEW.v = 100; END CASE;
    END;
  END IF;
END;
CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO
BEGIN
  DELETE FROM log WHERE msg = 'END;';
END;
"""
PROGRAMS_DOWN = """\
DROP EVENT e;
DROP TRIGGER t;
DROP FUNCTION f;
DROP PROCEDURE p;
DROP TABLE log;
DROP TABLE a;
"""


def up(vendor: Vendor, migrations: Migrations) -> engine.RunResult:
    return engine.up(using=vendor.alias, path=migrations.path)


def routines(vendor: Vendor) -> set[str]:
    rows = vendor.query(
        "SELECT routine_name FROM information_schema.routines WHERE routine_schema = DATABASE()"
    )
    return {row[0] for row in rows}


def test_procedures_functions_triggers_and_events_are_created_and_work(
    vendor: Vendor, migrations: Migrations
) -> None:
    migrations.pair(1, "programs", PROGRAMS, PROGRAMS_DOWN)
    up(vendor, migrations)
    assert vendor.version_row() == [(1, False)]
    vendor.query("CALL p(3)")
    assert vendor.query("SELECT msg FROM log ORDER BY msg") == [
        ("p 1 END;",),
        ("p 2 END;",),
        ("p 3 END;",),
    ]
    assert vendor.query("SELECT f(1), f(-5)") == [(2, 0)]
    vendor.query("INSERT INTO a VALUES (-3), (7), (200), (500)")
    assert vendor.query("SELECT v FROM a ORDER BY v") == [(0,), (7,), (100,), (101,)]
    events = vendor.query(
        "SELECT event_name FROM information_schema.events WHERE event_schema = DATABASE()"
    )
    assert events == [("e",)]
    engine.down(1, using=vendor.alias, path=migrations.path)
    assert routines(vendor) == set()
    assert not {"a", "log"} & vendor.tables()


def _definitions(vendor: Vendor, database: str) -> list[str]:
    shown = []
    for kind, name, column in (
        ("PROCEDURE", "p", 2),
        ("FUNCTION", "f", 2),
        ("TRIGGER", "t", 2),
        ("EVENT", "e", 3),
    ):
        text = vendor.query(f"SHOW CREATE {kind} `{database}`.`{name}`")[0][column]
        # an event's header holds the time it was created (STARTS ...): its body only
        shown.append(text.partition(" DO ")[2] if kind == "EVENT" else text)
    return shown


def test_the_cli_and_sqlmigrate_store_the_same_programs(
    vendor: Vendor, migrations: Migrations
) -> None:
    cli = require_cli()
    migrations.pair(1, "programs", PROGRAMS, PROGRAMS_DOWN)
    up(vendor, migrations)
    ours = vendor.query("SELECT DATABASE()")[0][0]
    theirs = f"t_{uuid.uuid4().hex[:12]}"
    server = urlsplit(vendor.url)
    vendor.query(f"CREATE DATABASE `{theirs}`")
    try:
        url = f"mysql://{server.username}@tcp({server.hostname}:{server.port or 3306})/{theirs}"
        ran = subprocess.run(
            [cli, "-path", str(migrations.path), "-database", url, "up"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert ran.returncode == 0, ran.stderr
        # Each body is what the server got: the file's text, byte for byte, both ways.
        assert _definitions(vendor, theirs) == _definitions(vendor, ours)
        assert "-- END IF; END;" in _definitions(vendor, ours)[0]
    finally:
        vendor.query(f"DROP DATABASE `{theirs}`")


def test_a_failing_statement_after_a_procedure_is_placed_and_leaves_it_dirty(
    vendor: Vendor, migrations: Migrations
) -> None:
    migrations.pair(1, "t", "CREATE TABLE t (id int);")
    migrations.pair(
        2,
        "bad",
        "CREATE PROCEDURE q()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
        "  INSERT INTO nosuch VALUES (1);\nCREATE TABLE never (id int);\n",
    )
    with pytest.raises(MigrationFailedError) as failed:
        up(vendor, migrations)
    assert failed.value.location.endswith("2_bad.up.sql:6:3")
    assert failed.value.sqlstate == "1146"
    assert failed.value.statement == "INSERT INTO nosuch VALUES (1)"
    # As the CLI leaves it: what ran before stays (MySQL committed it), version dirty.
    assert vendor.version_row() == [(2, True)]
    assert routines(vendor) == {"q"}
    assert "never" not in vendor.tables()


def test_an_error_inside_a_body_is_the_servers_at_its_statement(
    vendor: Vendor, migrations: Migrations
) -> None:
    # The server checks a body when it is created: the file's first statement fails.
    migrations.pair(1, "p", "CREATE TABLE t (id int);\nCREATE FUNCTION g() RETURNS INT\nBEGIN\n"
                    "  SELECT 1;\nEND;\n")  # fmt: skip
    with pytest.raises(MigrationFailedError) as failed:
        up(vendor, migrations)
    assert failed.value.location.endswith("1_p.up.sql:2:1")
    assert failed.value.statement is not None
    assert failed.value.statement.startswith("CREATE FUNCTION g()")
    assert failed.value.statement.endswith("END")
    assert vendor.version_row() == [(1, True)]


def test_mariadbs_compound_statements_run_outside_programs(
    vendor: Vendor, migrations: Migrations
) -> None:
    migrations.pair(
        1,
        "compound",
        "CREATE TABLE n (i int);\n"
        "BEGIN NOT ATOMIC\n  DECLARE i INT DEFAULT 0;\n"
        "  WHILE i < 3 DO SET i = i + 1; INSERT INTO n VALUES (i); END WHILE;\nEND;\n"
        "IF (SELECT COUNT(*) FROM n) = 3 THEN INSERT INTO n VALUES (10); END IF;\n"
        "FOR j IN 20..21 DO INSERT INTO n VALUES (j); END FOR;\n"
        "BEGIN;\nINSERT INTO n VALUES (30);\nCOMMIT;\n",
    )
    up(vendor, migrations)
    assert vendor.query("SELECT i FROM n ORDER BY i") == [
        (1,),
        (2,),
        (3,),
        (10,),
        (20,),
        (21,),
        (30,),
    ]
    assert vendor.version_row() == [(1, False)]
