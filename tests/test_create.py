"""sqlmigrate_create and sqlmigrate.create: numbering, Go time layouts, names, files."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from sqlmigrate import create
from sqlmigrate.create import CreatedMigration, create_migration
from sqlmigrate.exceptions import CreateError
from sqlmigrate.golayout import go_format

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 24, 0, 24, 25, 123456, tzinfo=UTC)
STAMP = "20261124002425"
NAME_HINT = "use letters, digits, _ and - (spaces are kept as they are)"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrations folder (not yet created) shown relative to the cwd as ``m/...``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path / "m"


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("-- old\n")


def listing(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def pair(version: str, name: str, ext: str = "sql") -> list[str]:
    return [f"{version}_{name}.down.{ext}", f"{version}_{name}.up.{ext}"]


def refused(folder: Path, name: str = "x", **options: object) -> str:
    """The CreateError message; the folder must be left as it was."""
    before = listing(folder) if folder.is_dir() else None
    with pytest.raises(CreateError) as raised:
        create_migration(folder, name, now=NOW, **options)  # type: ignore[arg-type]
    assert (listing(folder) if folder.is_dir() else None) == before
    return str(raised.value)


# -- sequence numbers --------------------------------------------------------


def test_sequence_follows_the_width_of_the_newest_file(folder: Path) -> None:
    touch(folder, *pair("0010", "add_plans"), *pair("0011", "seed_plans_table"))
    created = create_migration(folder, "add_x")
    assert created == CreatedMigration(
        "0012", folder / "0012_add_x.up.sql", folder / "0012_add_x.down.sql"
    )
    assert listing(folder) == sorted(
        [*pair("0010", "add_plans"), *pair("0011", "seed_plans_table"), *pair("0012", "add_x")]
    )
    assert created.up.read_bytes() == b""
    assert created.down.read_bytes() == b""


def test_sequence_in_an_empty_folder_has_six_digits(folder: Path) -> None:
    folder.mkdir()
    assert create_migration(folder, "first", seq=True).version == "000001"
    assert create_migration(folder, "second", seq=True).version == "000002"


def test_explicit_digits_win_over_the_existing_width(folder: Path) -> None:
    touch(folder, *pair("0011", "seed"))
    assert create_migration(folder, "a", seq=True, digits=2).version == "12"
    assert create_migration(folder, "b", digits=6).version == "000013"


def test_digits_alone_mean_sequence_even_in_an_empty_folder(folder: Path) -> None:
    assert create_migration(folder, "a", digits=3, now=NOW).version == "001"


@pytest.mark.parametrize("digits", [0, -1])
def test_digits_must_be_positive(folder: Path, digits: int) -> None:
    assert refused(folder, seq=True, digits=digits) == "digits must be positive"


def test_sequence_too_large_for_the_width(folder: Path) -> None:
    touch(folder, *pair("9999", "last"))
    assert refused(folder, seq=True) == (
        "next sequence number 10000 too large, at most 4 digits are allowed; "
        "pass --digits 5 for a wider number"
    )
    assert create_migration(folder, "x", digits=5).version == "10000"


def test_sequence_too_large_for_explicit_digits(folder: Path) -> None:
    touch(folder, "9_nine.up.sql")
    assert refused(folder, seq=True, digits=1) == (
        "next sequence number 10 too large, at most 1 digits are allowed; "
        "pass --digits 2 for a wider number"
    )


def test_highest_version_is_found_by_number_not_by_name(folder: Path) -> None:
    # The Go CLI takes 9_a (the name-sorted last file) and would make 10 again.
    touch(folder, "9_a.up.sql", "10_b.up.sql")
    assert create_migration(folder, "c", seq=True).version == "11"


def test_non_migration_files_do_not_count(folder: Path) -> None:
    touch(folder, *pair("0003", "x"), "notes.sql", "zzz.sql", "0099_draft.sql", "README.md")
    (folder / "0500_sub.up.sql.d").mkdir()
    assert create_migration(folder, "y").version == "0004"


def test_widest_form_of_the_newest_version_sets_the_width(folder: Path) -> None:
    touch(folder, "7_a.up.sql", "007_a.down.sql")
    assert create_migration(folder, "b").version == "008"


# -- timestamps --------------------------------------------------------------


def test_empty_folder_gets_a_utc_timestamp(folder: Path) -> None:
    folder.mkdir()
    created = create_migration(folder, "ts name", now=NOW)
    assert created.version == STAMP
    assert listing(folder) == pair(STAMP, "ts name")


def test_missing_folder_is_created_with_its_parents(folder: Path) -> None:
    deep = folder / "db" / "migrations"
    create_migration(deep, "x", now=NOW)
    assert listing(deep) == pair(STAMP, "x")


def test_timestamp_folder_stays_timestamped(folder: Path) -> None:
    touch(folder, *pair("20240101120000", "old"))
    assert create_migration(folder, "x", now=NOW).version == STAMP


def test_mixed_folder_follows_its_highest_version(folder: Path) -> None:
    touch(folder, *pair("0001", "seq"), *pair("20240101120000", "ts"))
    assert create_migration(folder, "x", now=NOW).version == STAMP


def test_sequential_folder_with_timestamp_asked_for(folder: Path) -> None:
    touch(folder, *pair("0001", "seq"))
    assert create_migration(folder, "x", seq=False, now=NOW).version == STAMP
    assert create_migration(folder, "y", time_format="unix", now=NOW).version == "1795479865"


def test_seq_with_a_timestamp_folder_counts_on(folder: Path) -> None:
    touch(folder, *pair("20240101120000", "ts"))
    assert create_migration(folder, "x", seq=True).version == "20240101120001"


def test_naive_now_is_utc(folder: Path) -> None:
    naive = datetime(2026, 11, 24, 0, 24, 25)  # no tzinfo: taken as UTC
    assert create_migration(folder, "x", now=naive).version == STAMP


def test_time_zone_moves_the_timestamp(folder: Path) -> None:
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert create_migration(folder, "x", tz="Europe/Paris", now=late).version == "20261125003000"
    assert create_migration(folder, "y", tz="UTC", now=late).version == "20261124233000"


@pytest.mark.parametrize("tz", ["Bogus/Zone", "../../etc/passwd", "America"])
def test_unknown_time_zone(folder: Path, tz: str) -> None:
    assert refused(folder, tz=tz) == (
        f"unknown time zone {tz} (use an IANA name such as Europe/Paris, or UTC)"
    )


def test_unknown_time_zone_is_refused_in_sequence_mode_too(folder: Path) -> None:
    assert refused(folder, seq=True, tz="Bogus/Zone").startswith("unknown time zone Bogus/Zone")


@pytest.mark.parametrize(
    ("time_format", "version"),
    [
        ("unix", "1795479865"),
        ("unixNano", "1795479865123456000"),
        ("20060102150405", STAMP),
        ("200601021504059", "202611240024259"),  # the 9 is text
        ("060102", "261124"),
        ("2006002", "2026328"),
    ],
)
def test_time_formats(folder: Path, time_format: str, version: str) -> None:
    created = create_migration(folder, "x", time_format=time_format, now=NOW)
    assert created.version == version
    assert listing(folder) == pair(version, "x")


def test_unix_is_the_same_in_every_zone(folder: Path) -> None:
    created = create_migration(folder, "x", time_format="unix", tz="Asia/Tokyo", now=NOW)
    assert created.version == "1795479865"


def test_empty_time_format(folder: Path) -> None:
    assert refused(folder, time_format="") == "time format may not be empty"


@pytest.mark.parametrize("time_format", ["unix", "2006", ""])
def test_seq_and_format_are_mutually_exclusive(folder: Path, time_format: str) -> None:
    message = "the seq and format options are mutually exclusive"
    assert refused(folder, seq=True, time_format=time_format) == message
    assert refused(folder, digits=4, time_format=time_format) == message


def test_seq_with_the_default_format_spelled_out_is_fine(folder: Path) -> None:
    assert create_migration(folder, "x", seq=True, time_format="20060102150405").version == "000001"


def test_timestamp_and_digits_conflict(folder: Path) -> None:
    assert refused(folder, seq=False, digits=4) == (
        "digits only applies to sequence numbers; drop it or pass --seq"
    )


def test_layout_giving_no_number_is_refused(folder: Path) -> None:
    assert refused(folder, time_format="2006-01-02") == (
        "time format '2006-01-02' gives version '2026-11-24', which is not a number: "
        "golang-migrate only reads files whose names start with digits; use digits only, "
        "such as 20060102150405"
    )


def test_version_too_large_for_the_table(folder: Path) -> None:
    assert refused(folder, time_format="20060102150405.000000").startswith("time format")
    assert refused(folder, time_format="2006010215040520060102") == (
        "version 2026112400242520261124 is larger than 9223372036854775807, the largest "
        "the bigint version column holds; use a shorter time format"
    )


# -- Go layouts --------------------------------------------------------------

DENVER = ZoneInfo("America/Denver")
REFERENCE = datetime(2006, 1, 2, 15, 4, 5, tzinfo=DENVER)  # Go's reference time, in MST
REFERENCE_NS = 123456789


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        # Go's predefined layouts format the reference time as themselves.
        ("Mon Jan _2 15:04:05 2006", "Mon Jan  2 15:04:05 2006"),
        ("Mon Jan _2 15:04:05 MST 2006", "Mon Jan  2 15:04:05 MST 2006"),
        ("Mon Jan 02 15:04:05 -0700 2006", "Mon Jan 02 15:04:05 -0700 2006"),
        ("02 Jan 06 15:04 MST", "02 Jan 06 15:04 MST"),
        ("Monday, 02-Jan-06 15:04:05 MST", "Monday, 02-Jan-06 15:04:05 MST"),
        ("Mon, 02 Jan 2006 15:04:05 -0700", "Mon, 02 Jan 2006 15:04:05 -0700"),
        ("2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05-07:00"),
        ("2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.123456789-07:00"),
        ("3:04PM", "3:04PM"),
        ("Jan _2 15:04:05.000", "Jan  2 15:04:05.123"),
        ("Jan _2 15:04:05.000000", "Jan  2 15:04:05.123456"),
        ("01/02 03:04:05PM '06 -0700", "01/02 03:04:05PM '06 -0700"),
        # Every element, one at a time.
        ("January 1 pm", "January 1 pm"),
        ("-07 -07:00 -070000 -07:00:00", "-07 -07:00 -070000 -07:00:00"),
        ("Z07 Z0700 Z070000 Z07:00:00", "-07 -0700 -070000 -07:00:00"),
        ("__2 002", "  2 002"),
        ("15,000 .9 .99999999999", "15,123 .1 .123456789"),
        # Text that is no element is copied; Go's lookalikes stay literal.
        ("Month Janet Monk _2006", "Month Janet Monk _2006"),
        ("at 15h, day 2", "at 15h, day 2"),
        (".0001 .9990", ".0001 .9990"),
        ("v.9a", "v.1a"),  # as in Go: .9 before a non-digit is a fraction
    ],
)
def test_go_layouts_on_the_reference_time(layout: str, expected: str) -> None:
    assert go_format(layout, REFERENCE, REFERENCE_NS) == expected


def test_go_layout_elements_on_another_time() -> None:
    morning = datetime(2026, 3, 9, 0, 7, 8, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert go_format("Monday Mon January Jan 1 01 2 _2 02 06", morning) == (
        "Monday Mon March Mar 3 03 9  9 09 26"
    )
    assert go_format("15 3 03 4 04 5 05 PM pm", morning) == "00 12 12 7 07 8 08 AM am"
    assert go_format("MST -0700 -07:00 Z07:00 __2 002", morning) == (
        "IST +0530 +05:30 +05:30  68 068"
    )


def test_go_layout_in_utc_and_fractions() -> None:
    noon = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)
    assert go_format("MST Z07:00 Z0700 -0700 PM 3", noon) == "UTC Z Z +0000 PM 12"
    assert go_format("05.000|05.999|05,99", noon, 120_000_000) == "00.120|00.12|00,12"
    assert go_format("05.000|05.999", noon, 0) == "00.000|00"


# -- collisions --------------------------------------------------------------


@pytest.mark.parametrize(
    "existing",
    [
        "20261124002425_other.up.sql",  # same version, same padding
        "20261124002425_other.down.sql",
        "20261124002425_notes.sql",  # no migration, but the Go CLI's glob finds it
        "020261124002425_padded.up.sql",  # same number, other padding
        "20261124002425_other.up.txt",  # a migration golang-migrate reads whatever its extension
    ],
)
def test_duplicate_version(folder: Path, existing: str) -> None:
    touch(folder, existing)
    assert refused(folder) == f"duplicate migration version: {STAMP} (m/{existing} already exists)"


def test_duplicate_number_from_a_short_layout(folder: Path) -> None:
    touch(folder, "01124_x.up.sql")
    assert refused(folder, time_format="0102") == (
        "duplicate migration version: 1124 (m/01124_x.up.sql already exists)"
    )


def test_other_files_with_the_number_do_not_collide(folder: Path) -> None:
    touch(folder, f"{STAMP}.sql", f"{STAMP}_notes.md", f"x{STAMP}_a.up.sql")
    assert create_migration(folder, "x", now=NOW).version == STAMP


# -- names and extensions ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "migration name is empty; give a short description such as add_users"),
        (".", f"migration name '.' is not a description; {NAME_HINT}"),
        ("..", f"migration name '..' is not a description; {NAME_HINT}"),
        ("../x", f"migration name '../x' contains /; {NAME_HINT}"),
        ("a/b", f"migration name 'a/b' contains /; {NAME_HINT}"),
        ("a\\b", f"migration name 'a\\\\b' contains \\; {NAME_HINT}"),
        ("a\x00b", f"migration name 'a\\x00b' contains the control character U+0000; {NAME_HINT}"),
        ("a\nb", f"migration name 'a\\nb' contains the control character U+000A; {NAME_HINT}"),
        (
            "tab\there",
            f"migration name 'tab\\there' contains the control character U+0009; {NAME_HINT}",
        ),
        (
            "del\x7f",
            f"migration name 'del\\x7f' contains the control character U+007F; {NAME_HINT}",
        ),
    ],
)
def test_bad_names(folder: Path, name: str, message: str) -> None:
    assert refused(folder, name) == message
    assert not folder.exists()


@pytest.mark.parametrize("name", ["add users table", "x.y", "ÿ-unicode_ok", " lead", "..x"])
def test_names_are_kept_verbatim(folder: Path, name: str) -> None:
    created = create_migration(folder, name, now=NOW)
    assert listing(folder) == pair(STAMP, name)
    assert created.up.name == f"{STAMP}_{name}.up.sql"


@pytest.mark.parametrize(
    ("ext", "files"),
    [
        ("sql", pair(STAMP, "x")),
        (".sql", pair(STAMP, "x")),
        ("..sql", pair(STAMP, "x", ".sql")),
        ("txt", pair(STAMP, "x", "txt")),
        ("sql.gz", pair(STAMP, "x", "sql.gz")),
    ],
)
def test_extensions(folder: Path, ext: str, files: list[str]) -> None:
    create_migration(folder, "x", ext=ext, now=NOW)
    assert listing(folder) == files


@pytest.mark.parametrize(
    ("ext", "message"),
    [
        ("", "the file extension is empty; pass one, such as --ext sql"),
        (".", "the file extension is empty; pass one, such as --ext sql"),
        ("a/b", "extension 'a/b' contains /; pass one such as --ext sql"),
        ("a\\b", "extension 'a\\\\b' contains \\; pass one such as --ext sql"),
        (
            "sql\n",
            "extension 'sql\\n' contains the control character U+000A; pass one such as --ext sql",
        ),
        (
            "up.sql",
            f"golang-migrate would read '{STAMP}_x.up.up.sql' as version 20261124002425 up "
            f"named 'x.up', not as version 20261124002425 up named 'x'; choose another name "
            f"or extension",
        ),
    ],
)
def test_bad_extensions(folder: Path, ext: str, message: str) -> None:
    assert refused(folder, ext=ext) == message
    assert not folder.exists()


def test_name_that_golang_migrate_would_misread(folder: Path) -> None:
    assert refused(folder, "x", ext="down.sql") == (
        f"golang-migrate would read '{STAMP}_x.up.down.sql' as version 20261124002425 down "
        f"named 'x.up', not as version 20261124002425 up named 'x'; choose another name or extension"
    )


# -- writing the files -------------------------------------------------------


def pretend_folder_looks_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if another process wrote its file between the check and the write."""
    monkeypatch.setattr(create, "_listing", lambda directory: [])


def test_existing_up_file_is_never_overwritten(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(folder, f"{STAMP}_x.up.sql")
    pretend_folder_looks_empty(monkeypatch)
    assert refused(folder) == f"cannot create m/{STAMP}_x.up.sql: File exists"
    assert (folder / f"{STAMP}_x.up.sql").read_text() == "-- old\n"


def test_existing_down_file_takes_the_new_up_file_away(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    touch(folder, f"{STAMP}_x.down.sql")
    pretend_folder_looks_empty(monkeypatch)
    assert refused(folder) == f"cannot create m/{STAMP}_x.down.sql: File exists"
    assert listing(folder) == [f"{STAMP}_x.down.sql"]
    assert (folder / f"{STAMP}_x.down.sql").read_text() == "-- old\n"


def test_failed_down_file_leaves_no_up_file(folder: Path) -> None:
    # ".down." is two bytes longer than ".up.": the up name fits in 255 bytes, the down not.
    name = "n" * (255 - len(f"{STAMP}_.up.sql"))
    folder.mkdir()
    assert refused(folder, name) == f"cannot create m/{STAMP}_{name}.down.sql: File name too long"
    assert listing(folder) == []


def test_folder_that_is_a_file(folder: Path) -> None:
    folder.write_text("")
    assert refused(folder) == "cannot read folder m: Not a directory"


def test_created_migration_is_frozen(folder: Path) -> None:
    created = create_migration(folder, "x", now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        created.version = "1"  # type: ignore[misc]


# -- the command -------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("sqlmigrate_create", *args, stdout=out)
    return out.getvalue()


def test_command_prints_both_paths_up_first(folder: Path) -> None:
    touch(folder, *pair("0011", "seed_plans_table"))
    assert run("add_x", "--dir", "m") == "m/0012_add_x.up.sql\nm/0012_add_x.down.sql\n"


def test_command_options_reach_the_api(folder: Path) -> None:
    out = run("a b", "--seq", "--digits", "3", "--ext", ".txt", "--dir", str(folder))
    assert out == "m/001_a b.up.txt\nm/001_a b.down.txt\n"


def test_command_timestamp_uses_the_clock(folder: Path) -> None:
    touch(folder, *pair("0001", "seq"))
    before = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    out = run("x", "--timestamp", "--dir", "m", "--tz", "UTC")
    after = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    version = out.split("/")[1].split("_")[0]
    assert before <= version <= after
    assert out == f"m/{version}_x.up.sql\nm/{version}_x.down.sql\n"


def test_command_unix_format(folder: Path) -> None:
    before = int(datetime.now(UTC).timestamp())
    version = run("x", "--format", "unix", "--dir", "m").split("/")[1].split("_")[0]
    assert before <= int(version) <= before + 5


def test_command_dir_wins_over_path(folder: Path) -> None:
    assert run("x", "--seq", "--dir", "d", "--path", "p") == (
        "d/000001_x.up.sql\nd/000001_x.down.sql\n"
    )
    assert run("y", "--seq", "--path", "p") == "p/000001_y.up.sql\np/000001_y.down.sql\n"
    assert not Path("p/000001_x.up.sql").exists()


def test_command_defaults_to_the_setting(folder: Path, settings: object) -> None:
    settings.SQLMIGRATE_DIR = str(folder / "conf")  # type: ignore[attr-defined]
    assert run("x", "--seq") == "m/conf/000001_x.up.sql\nm/conf/000001_x.down.sql\n"


def test_command_error_is_a_command_error(folder: Path) -> None:
    with pytest.raises(CommandError, match=r"^migration name 'a/b' contains /; "):
        run("a/b", "--dir", "m")
    assert not folder.exists()


def test_command_seq_and_timestamp_exclude_each_other(folder: Path) -> None:
    with pytest.raises(CommandError) as raised:
        run("x", "--seq", "--timestamp", "--dir", "m")
    assert str(raised.value) == "Error: argument --timestamp: not allowed with argument --seq/-seq"


def test_every_option_has_help() -> None:
    from sqlmigrate.management.commands.sqlmigrate_create import Command

    parser = Command().create_parser("manage.py", "sqlmigrate_create")
    mine = {"name", "seq", "digits", "ext", "directory", "time_format", "tz", "path"}
    actions = {action.dest: action for action in parser._actions if action.dest in mine}
    assert set(actions) == mine
    assert [dest for dest, action in actions.items() if not action.help] == []


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "sqlmigrate_create", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_manage_py_success(tmp_path: Path) -> None:
    result = manage("add users", "--seq", "--digits", "4", "--dir", str(tmp_path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f"{tmp_path}/0001_add users.up.sql\n{tmp_path}/0001_add users.down.sql\n"
    )
    assert listing(tmp_path) == pair("0001", "add users")


def test_manage_py_error_exit_code_and_stderr(tmp_path: Path) -> None:
    touch(tmp_path, *pair("0001", "a"))
    result = manage("a/b", "--dir", str(tmp_path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: migration name 'a/b' contains /; {NAME_HINT}\n"
    result = manage("x", "--tz", "Bogus/Zone", "--dir", str(tmp_path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "error: unknown time zone Bogus/Zone (use an IANA name such as Europe/Paris, or UTC)\n"
    )
    assert listing(tmp_path) == pair("0001", "a")
