"""How a MySQL/MariaDB file is split, without a server: stored programs and compound
statements stay whole, hostile texts are split exactly or refused with their place,
and tokenizing in windows gives the tokens tokenizing at once gives.

The server-side proof (the programs run and are callable) is in test_mysql_programs.py.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import TokenError

from sqlmigrate.backends.mysql.parsing import parse_migration
from sqlmigrate.backends.mysql.tokens import Unterminated, stream, tokens_of
from sqlmigrate.exceptions import SqlParseError

PROCEDURE = "CREATE PROCEDURE p() BEGIN DECLARE x INT; SET x = 1; SELECT x; END"
TRIGGER = (
    "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW "
    "BEGIN IF NEW.v < 0 THEN SET NEW.v = 0; END IF; END"
)
FUNCTION = "CREATE FUNCTION f(a INT) RETURNS INT DETERMINISTIC BEGIN RETURN a + 1; END"
EVENT = "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM a; END"


def split(text: str) -> list[str]:
    parsed = parse_migration(text, "f.sql")
    return [text[s.start : s.end] for s in parsed.statements]


@pytest.mark.parametrize(
    "statements",
    [
        [PROCEDURE, "CREATE TABLE a (v int)", TRIGGER, FUNCTION, EVENT, "SELECT 1"],
        # labels, nested blocks, loops, CASE statements holding CASE expressions
        [
            "CREATE PROCEDURE p() lbl: BEGIN l2: LOOP LEAVE l2; END LOOP l2; "
            "CASE 1 WHEN 1 THEN SELECT CASE WHEN 1 THEN 2 END; ELSE BEGIN END; END CASE; "
            "REPEAT SET @a = 1; UNTIL CASE WHEN 1 THEN 1 END END REPEAT; "
            "w: WHILE 0 DO SELECT 1; END WHILE w; END lbl",
            "SELECT 2",
        ],
        # END, CASE and ; in strings, comments and backticks; `end` as a name
        [
            "CREATE PROCEDURE `p;end`() BEGIN SELECT 'END; END IF;' AS `end`; -- END;\n"
            '# END;\n/* END; */ SELECT "END;", `END`, t.end FROM t; END',
            "SELECT 'END'",
        ],
        # BEGIN as a column name inside a body: a block opens only where a statement starts
        [
            "CREATE PROCEDURE p() BEGIN SELECT begin FROM t WHERE begin > 0; "
            "UPDATE t SET begin = begin + 1; END",
        ],
        # a body that is one statement, with IF() and a CASE expression in it
        [
            "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.v = IF(NEW.v < 0, 0, "
            "CASE WHEN NEW.v > 9 THEN 9 ELSE NEW.v END)",
            "CREATE TRIGGER u BEFORE UPDATE ON a FOR EACH ROW FOLLOWS t "
            "IF NEW.v < 0 THEN SET NEW.v = 0; ELSEIF NEW.v > 9 THEN SET NEW.v = 9; END IF",
            "CREATE FUNCTION g() RETURNS INT RETURN 1",
            "CREATE PROCEDURE q() SELECT 1",
        ],
        # headers: DEFINER, IF NOT EXISTS, characteristics, a type with CHARACTER SET
        [
            "CREATE DEFINER='root'@'localhost' PROCEDURE IF NOT EXISTS p(IN a DECIMAL(10,2)) "
            "SQL SECURITY INVOKER COMMENT 'x; END' NOT DETERMINISTIC BEGIN SELECT a; END",
            "CREATE OR REPLACE FUNCTION h() RETURNS VARCHAR(10) CHARACTER SET utf8mb4 "
            "DETERMINISTIC BEGIN DECLARE s VARCHAR(10) DEFAULT 'a'; RETURN s; END",
            "ALTER EVENT e DO BEGIN SELECT 1; SELECT 2; END",
            "ALTER EVENT e RENAME TO e2",
        ],
        # handlers with a block of their own
        [
            "CREATE PROCEDURE p() BEGIN DECLARE done INT DEFAULT 0; "
            "DECLARE CONTINUE HANDLER FOR SQLSTATE VALUE '23000', NOT FOUND, 1062 "
            "BEGIN SET done = 1; SET @e = 1; END; "
            "DECLARE EXIT HANDLER FOR SQLEXCEPTION SET done = 2; SELECT done; END",
        ],
        # MariaDB's compound statements outside programs; BEGIN alone stays transaction control
        [
            "BEGIN NOT ATOMIC DECLARE x INT DEFAULT 1; SELECT x; END",
            "IF 1 THEN SELECT 1; END IF",
            "FOR i IN 1..2 DO SELECT i; END FOR",
            "BEGIN",
            "INSERT INTO a VALUES (1)",
            "COMMIT",
            "BEGIN WORK",
            "START TRANSACTION",
            "COMMIT",
        ],
        # BEGIN and END as column names outside bodies (legal in MySQL); executable
        # comments inside a plain statement stay the server's business
        [
            "CREATE TABLE /*!32312 IF NOT EXISTS */ t (begin int, end int)",
            "SELECT begin, end FROM t",
        ],
    ],
)
def test_statements_are_split_as_the_server_splits_them(statements: list[str]) -> None:
    text = ";\n".join(statements) + ";\n"
    assert split(text) == statements


def test_a_stored_program_runs_under_the_dirty_flag_protocol() -> None:
    parsed = parse_migration(f"{PROCEDURE};\n", "f.sql")
    assert not parsed.atomic
    assert parsed.reason == "CREATE (MySQL commits implicitly around it) (line 1)"
    compound = parse_migration("INSERT INTO a VALUES (1);\nIF 1 THEN SELECT 1; END IF;", "f.sql")
    assert compound.reason == "a compound statement (IF ... END) (line 2)"


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        (
            "SELECT 1;\nCREATE PROCEDURE p() BEGIN SELECT 1;\n",
            "f.sql:2:22: this compound statement has no END: its body runs to the end of the "
            "file. Close every BEGIN, IF, CASE, LOOP, WHILE, REPEAT and FOR with its END",
        ),
        (
            "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END; END;",
            "f.sql:1:48: END here, but the innermost open block is IF: it ends with END IF",
        ),
        (
            "CREATE PROCEDURE p() BEGIN SELECT 1; END IF;",
            "f.sql:1:38: END IF here, but the innermost open block is a BEGIN: it ends with END",
        ),
        (
            "CREATE PROCEDURE p() BEGIN SELECT end FROM t; END;",
            "f.sql:1:35: END in the middle of a statement inside a compound statement",
        ),
        (
            "CREATE PROCEDURE p() BEGIN SET @x = CASE WHEN 1 THEN 2 END CASE; END;",
            "f.sql:1:60: END CASE closes a CASE statement, but this CASE is inside an expression",
        ),
        (
            "CREATE PROCEDURE p() BEGIN IF (SELECT 1; 2) THEN SELECT 1; END IF; END;",
            "f.sql:1:40: a semicolon inside a condition, a parenthesis or a CASE expression",
        ),
        (
            "CREATE PROCEDURE p() a: BEGIN SELECT 1; END b;",
            "f.sql:1:45: b after END: a block's END may only be followed by its own label",
        ),
        (
            "CREATE PROCEDURE p() BEGIN SELECT 1; END\nSELECT 2;",
            "f.sql:2:1: SELECT after END: a block's END may only be followed by its own label",
        ),
        ("SELECT 1;\n  END;", "f.sql:2:3: END outside a compound statement"),
        (
            "CREATE PROCEDURE p() " + "BEGIN " * 5000 + "END; " * 5000,
            "f.sql:1:406: blocks or CASE expressions nested more than 64 deep",
        ),
        (
            "CREATE FUNCTION f() RETURNS INT RETURN " + "CASE WHEN 1 THEN " * 5000 + "1 END" * 5000,
            "f.sql:1:1111: blocks or CASE expressions nested more than 64 deep",
        ),
        ("ELSE SELECT 1;", "f.sql:1:1: ELSE outside a compound statement"),
        (
            "CREATE PROCEDURE p() BEGIN /*!50003 SELECT 1; */ SELECT 2; END;",
            "f.sql:1:28: an executable comment (/*! ... */) inside a compound statement",
        ),
        (
            "CREATE /*!50017 DEFINER = root */ PROCEDURE p() BEGIN SELECT 1; END;",
            "f.sql:1:8: an executable comment (/*! ... */) inside a compound statement",
        ),
        (
            "CREATE PROCEDURE p() x: SELECT 1;",
            "f.sql:1:22: a label must be followed by BEGIN, LOOP, WHILE, REPEAT or FOR",
        ),
        (
            "SELECT 1;\nCREATE PROCEDURE p() BEGIN SELECT 'oops; END;\n",
            "f.sql:2:35: unterminated quoted string: it runs to the end of the file",
        ),
        # DELIMITER stays refused: it is the mysql client's, not SQL
        (
            "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;\n",
            "f.sql:1:1: DELIMITER is a command of the mysql client, not SQL",
        ),
    ],
)
def test_what_cannot_be_told_for_sure_is_refused_with_its_place(text: str, refusal: str) -> None:
    with pytest.raises(SqlParseError) as refused:
        parse_migration(text, "f.sql")
    assert str(refused.value).startswith(refusal)
    assert str(refused.value).endswith("nothing was run")


# -- generated programs ------------------------------------------------------------

#: pieces of SQL that look like block words to a careless reader, but are not
_NOISE = st.sampled_from(
    [
        "'END'",
        "'END IF;'",
        '"END; BEGIN"',
        "`end`",
        "`BEGIN`",
        "t.end",
        "IF(1, 2, 3)",
        "CASE WHEN 1 THEN 'END' ELSE 2 END",
        "CASE 1 WHEN 2 THEN (CASE WHEN 3 THEN 4 END) END",
        "REPEAT('x', 2)",
        "'\\'; END'",
        "'a'';END'",
        "1 /* END; */",
        "2 -- END;\n",
        "3 # END IF;\n",
    ]
)


@st.composite
def _body_statement(draw: st.DrawFn, depth: int) -> str:
    simple = st.builds(lambda a, b: f"SELECT {a}, {b} FROM t", _NOISE, _NOISE)
    if depth >= 3:
        return draw(simple)
    inner = st.lists(_body_statement(depth + 1), min_size=1, max_size=3).map(
        lambda items: "".join(f"{item}; " for item in items)
    )
    kind = draw(st.sampled_from(["simple", "begin", "if", "case", "loop", "while", "repeat"]))
    label = draw(st.sampled_from(["", "lbl"])) + str(depth)
    named = f"l{label}: " if label[:-1] else ""
    end_name = f" l{label}" if label[:-1] else ""
    if kind == "simple":
        return draw(simple)
    if kind == "begin":
        return f"{named}BEGIN {draw(inner)}END{end_name}"
    if kind == "if":
        cond = draw(_NOISE)
        return f"IF {cond} THEN {draw(inner)}ELSEIF 1 THEN {draw(inner)}ELSE {draw(inner)}END IF"
    if kind == "case":
        return f"CASE {draw(_NOISE)} WHEN 1 THEN {draw(inner)}ELSE {draw(inner)}END CASE"
    if kind == "loop":
        return f"{named}LOOP {draw(inner)}END LOOP{end_name}"
    if kind == "while":
        return f"{named}WHILE {draw(_NOISE)} DO {draw(inner)}END WHILE{end_name}"
    return f"{named}REPEAT {draw(inner)}UNTIL {draw(_NOISE)} END REPEAT{end_name}"


_HEADERS = st.sampled_from(
    [
        "CREATE PROCEDURE p() ",
        "CREATE DEFINER = CURRENT_USER PROCEDURE `db`.`p`(IN a INT, OUT b ENUM('x', 'y')) "
        "COMMENT 'END;' ",
        "CREATE FUNCTION f() RETURNS INT ",
        "CREATE TRIGGER t AFTER DELETE ON a FOR EACH ROW ",
        "CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP + INTERVAL 1 HOUR DO ",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    programs=st.lists(st.tuples(_HEADERS, _body_statement(0)), min_size=1, max_size=3),
    separator=st.sampled_from([";\n", ";", " ; -- END;\n", ";\n/* END; */\n;\n"]),
)
def test_generated_programs_split_into_exactly_their_text(
    programs: list[tuple[str, str]], separator: str
) -> None:
    statements = [
        # a function's body must RETURN: one that does not would not be created
        header + (f"BEGIN {body}; RETURN 1; END" if "FUNCTION" in header else body)
        for header, body in programs
    ] + ["SELECT 'END;'"]
    text = separator.join(statements)
    assert split(text) == statements


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "BEGIN", "END", "IF", "THEN", "ELSE", "CASE", "WHEN", "LOOP", "REPEAT",
                "UNTIL", "WHILE", "DO", "FOR", "EACH", "ROW", "CREATE", "PROCEDURE", "p()",
                "FUNCTION", "RETURNS", "RETURN", "TRIGGER", "EVENT", "NOT", "ATOMIC", "l:",
                ";", "(", ")", "'END;'", "`end`", "-- x;\n", "/* ; */", "1", "x", ".", ",",
            ]
        ),
        max_size=40,
    ).map(" ".join)
)  # fmt: skip
def test_any_text_splits_exactly_or_is_refused(text: str) -> None:
    """Ends on any input; what it returns covers the text exactly (the gaps between
    statements are only whitespace, comments and ;)."""
    refusal = ""
    try:
        found = parse_migration(text, "f.sql").statements
    except SqlParseError as error:
        refusal = str(error)
    if refusal:
        assert refusal.startswith("f.sql:")
        assert refusal.endswith("nothing was run")
        return
    # by position, not by searching the text: a statement's words may also stand in a
    # comment before it ("-- x;\n x")
    previous = 0
    for statement in found:
        piece = text[statement.start : statement.end]
        assert piece
        assert piece.strip() == piece
        gap = text[previous : statement.start]
        assert all(t.token_type.name == "SEMICOLON" for t in tokens_of(gap))
        previous = statement.end
    assert all(t.token_type.name == "SEMICOLON" for t in tokens_of(text[previous:]))


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(["'a;b'", "'a,", "b'", "`x;`", "-- c;\n", "/* ,; */", ";", ",", " ",
                         "SELECT", "1", "\n", "\\'", "'", "#;\n", "'';'"]),
        max_size=60,
    ).map("".join),
    window=st.integers(min_value=1, max_value=12),
)  # fmt: skip
def test_tokens_read_in_windows_are_the_tokens_read_at_once(text: str, window: int) -> None:
    try:
        whole = [(t.token_type, t.start, t.end) for t in tokens_of(text)]
    except TokenError:
        with pytest.raises(Unterminated) as unterminated:
            list(stream(text, window))
        # tokens up to where the trouble starts are the ones tokenizing at once gives
        before = text[: unterminated.value.offset]
        assert before[-1:] in ("", ";", ",")
        tokens_of(before)  # no TokenError
        return
    assert [(t.token_type, t.start, t.end) for t in stream(text, window)] == whole
