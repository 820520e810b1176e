"""Finding and reading migration files, by golang-migrate's rules (spec §1). No database."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sqlmigrate.exceptions import DuplicateMigrationError, FileReadError, SourceError
from sqlmigrate.source import (
    MAX_VERSION,
    MigrationFile,
    MigrationSource,
    file_size,
    line_col,
    load_source,
    parse_name,
    read_bytes,
    read_migration,
    read_sql,
)

from .conftest import deny_reading, io_error_reading

HINT = "(set SQLMIGRATE_DIR or pass --path)"


def write(folder: Path, *names: str, text: str = "SELECT 1;\n") -> None:
    for name in names:
        (folder / name).write_text(text, encoding="utf-8")


def versions(source: MigrationSource) -> list[int]:
    return [migration.version for migration in source]


# Spec §1.1: what golang-migrate's own parser gives for each name, verified against Go.
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("1_a.up.b.down.sql", (1, "a.up.b", "down")),
        ("1_x.up.up.sql", (1, "x.up", "up")),
        ("1_x.up.sql.down", (1, "x", "up")),
        ("1_x.down.up", (1, "x", "down")),
        ("1_.up.sql", (1, "", "up")),
        ("1_x.up.", (1, "x", "up")),
        ("1__x.up.sql", (1, "_x", "up")),
        ("01_x.down.sql.gz", (1, "x", "down")),
        ("001_create_users.up.sql", (1, "create_users", "up")),
        ("20240101120000_ts name.down.sql", (20240101120000, "ts name", "down")),
        ("1_x.Up.sql", None),
        ("1_x.up", None),
        ("1.up.sql", None),
        ("1_foobar.sql", None),
        ("-1_foobar.up.sql", None),
        ("foobar.up.sql", None),
        ("\uff11_x.up.sql", None),  # full-width digit one
        ("\u0663_x.up.sql", None),  # Arabic-Indic digit three: \d would take it
        ("1_x.up.sql\n", None),  # Python's $ would match before the newline
        (".1_x.up.sql", None),
        ("README.md", None),
    ],
)
def test_parse_name(name: str, expected: tuple[int, str, str] | None) -> None:
    assert parse_name(name) == expected


def test_parse_name_keeps_versions_too_large_for_the_table() -> None:
    # The name matches; load_source is the one that refuses it, naming the file.
    assert parse_name("18446744073709551616_x.up.sql") == (2**64, "x", "up")


class TestLoadSource:
    def test_versions_sort_numerically_with_gaps(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            "20240101120000_ts.up.sql",
            "5_five.up.sql",
            "5_five.down.sql",
            "1_one.up.sql",
            "20_twenty.down.sql",
        )
        source = load_source(tmp_path)
        assert versions(source) == [1, 5, 20, 20240101120000]
        assert len(source) == 4
        assert source.directory == tmp_path

    def test_leading_zeros_are_the_same_version(self, tmp_path: Path) -> None:
        write(tmp_path, "0001_create_users.up.sql", "0001_create_users.down.sql")
        source = load_source(tmp_path)
        migration = source.get(1)
        assert migration is not None
        assert migration.up is not None
        assert migration.down is not None
        assert (migration.up.version, migration.up.identifier) == (1, "create_users")
        assert migration.up.path == tmp_path / "0001_create_users.up.sql"
        assert migration.up.name == "0001_create_users.up.sql"
        assert migration.down.direction == "down"

    def test_files_with_one_direction(self, tmp_path: Path) -> None:
        write(tmp_path, "3_only_up.up.sql", "5_only_down.down.sql")
        source = load_source(tmp_path)
        three, five = source.get(3), source.get(5)
        assert three is not None
        assert five is not None
        assert (three.up is not None, three.down) == (True, None)
        assert (five.up, five.down is not None) == (None, True)
        assert three.file("down") is None
        assert five.file("down") is five.down
        assert (three.identifier, five.identifier) == ("only_up", "only_down")

    def test_up_and_down_with_different_identifiers_are_not_duplicates(
        self, tmp_path: Path
    ) -> None:
        write(tmp_path, "1_create_users.up.sql", "01_drop users.down.sql")
        migration = load_source(tmp_path).get(1)
        assert migration is not None
        assert migration.up is not None
        assert migration.down is not None
        assert migration.up.identifier == "create_users"
        assert migration.down.identifier == "drop users"

    @pytest.mark.parametrize(
        ("names", "first", "second"),
        [
            (["1_foo.up.sql", "001_bar.up.sql"], "001_bar.up.sql", "1_foo.up.sql"),
            (["1_x.down.sql", "01_x.down.sql"], "01_x.down.sql", "1_x.down.sql"),
            # byte order: "B" (0x42) sorts before "a" (0x61)
            (["7_a.up.sql", "7_B.up.sql"], "7_B.up.sql", "7_a.up.sql"),
        ],
    )
    def test_duplicates_name_the_later_file_in_byte_order(
        self, tmp_path: Path, names: list[str], first: str, second: str
    ) -> None:
        write(tmp_path, *names)
        with pytest.raises(DuplicateMigrationError) as caught:
            load_source(tmp_path)
        assert str(caught.value) == (
            f"duplicate migration file: {second} (same version and direction as {first}, "
            f"in {tmp_path}); rename one of them to a new version"
        )
        assert (caught.value.first, caught.value.second) == (tmp_path / first, tmp_path / second)
        assert isinstance(caught.value, SourceError)

    def test_largest_bigint_version_is_accepted(self, tmp_path: Path) -> None:
        write(tmp_path, f"{2**63 - 1}_max.up.sql")
        assert MAX_VERSION == 2**63 - 1
        assert versions(load_source(tmp_path)) == [MAX_VERSION]

    @pytest.mark.parametrize("version", [2**63, 2**64 - 1, 2**64, 10**30])
    def test_version_too_large_names_the_file(self, tmp_path: Path, version: int) -> None:
        write(tmp_path, "1_ok.up.sql", f"{version}_huge.up.sql")
        path = tmp_path / f"{version}_huge.up.sql"
        with pytest.raises(SourceError) as caught:
            load_source(tmp_path)
        assert str(caught.value) == (
            f"{path}: version {version} is larger than 9223372036854775807, the largest the "
            f"bigint version column holds; renumber the file"
        )

    def test_non_matching_files_and_folders_are_ignored(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            "1_one.up.sql",
            "README.md",
            "1_x.Up.sql",
            "2_no_direction.sql",
            ".3_hidden.up.sql",
            "notes.up.sql",
        )
        (tmp_path / "archive").mkdir()
        write(tmp_path / "archive", "9_old.up.sql")  # not recursive, as Go's ReadDir
        assert versions(load_source(tmp_path)) == [1]

    def test_symlink_to_a_file_is_read(self, tmp_path: Path) -> None:
        write(tmp_path, "real.sql")
        (tmp_path / "1_linked.up.sql").symlink_to(tmp_path / "real.sql")
        assert versions(load_source(tmp_path)) == [1]

    def test_folder_named_like_a_migration(self, tmp_path: Path) -> None:
        (tmp_path / "2_dir.up.sql").mkdir()
        with pytest.raises(SourceError) as caught:
            load_source(tmp_path)
        assert str(caught.value) == (
            f"{tmp_path / '2_dir.up.sql'}: named like a migration but a folder; rename or remove it"
        )

    def test_symlink_loop_named_like_a_migration(self, tmp_path: Path) -> None:
        (tmp_path / "3_loop.up.sql").symlink_to(tmp_path / "3_loop.up.sql")
        with pytest.raises(SourceError) as caught:
            load_source(tmp_path)
        assert str(caught.value) == (
            f"{tmp_path / '3_loop.up.sql'}: cannot read: Too many levels of symbolic links"
        )

    def test_broken_symlink_named_like_a_migration(self, tmp_path: Path) -> None:
        (tmp_path / "4_gone.down.sql").symlink_to(tmp_path / "nowhere.sql")
        with pytest.raises(SourceError) as caught:
            load_source(tmp_path)
        assert str(caught.value) == (
            f"{tmp_path / '4_gone.down.sql'}: named like a migration but not a readable file "
            f"(a broken or looping link?); rename or remove it"
        )

    def test_empty_folder(self, tmp_path: Path) -> None:
        source = load_source(tmp_path)
        assert (len(source), source.first(), source.last()) == (0, None, None)


class TestFolderErrors:
    def test_missing(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope"
        with pytest.raises(SourceError) as caught:
            load_source(missing)
        assert str(caught.value) == f"migrations folder {missing} does not exist {HINT}"

    def test_a_file_instead_of_a_folder(self, tmp_path: Path) -> None:
        write(tmp_path, "migrations")
        path = tmp_path / "migrations"
        with pytest.raises(SourceError) as caught:
            load_source(path)
        assert str(caught.value) == f"migrations folder {path} is a file, not a folder {HINT}"

    @pytest.fixture(params=["chmod 000", "symlink loop"])
    def unreadable(
        self, request: pytest.FixtureRequest, tmp_path: Path
    ) -> Iterator[tuple[Path, str]]:
        folder = tmp_path / "migrations"
        if request.param == "symlink loop":
            folder.symlink_to(folder)
            yield folder, "Too many levels of symbolic links"
            return
        if os.geteuid() == 0:
            pytest.skip("root reads a chmod 000 folder anyway")
        folder.mkdir()
        folder.chmod(0)
        yield folder, "Permission denied"
        folder.chmod(0o755)  # so that tmp_path can be cleaned up

    def test_unreadable(self, unreadable: tuple[Path, str]) -> None:
        folder, reason = unreadable
        with pytest.raises(SourceError) as caught:
            load_source(folder)
        assert str(caught.value).startswith(f"cannot read migrations folder {folder}: {reason}")

    def test_unreadable_gives_the_hint(self, unreadable: tuple[Path, str]) -> None:
        folder, _ = unreadable
        with pytest.raises(SourceError) as caught:
            load_source(folder)
        assert HINT in str(caught.value)


class TestNavigation:
    @pytest.fixture
    def source(self, tmp_path: Path) -> MigrationSource:
        write(tmp_path, "1_a.up.sql", "3_b.up.sql", "4_c.down.sql", "10_d.up.sql")
        return load_source(tmp_path)

    def number(self, migration: object) -> int | None:
        return getattr(migration, "version", None)

    def test_first_and_last(self, source: MigrationSource) -> None:
        assert (self.number(source.first()), self.number(source.last())) == (1, 10)

    @pytest.mark.parametrize(
        ("version", "after", "before"),
        [
            (1, 3, None),
            (3, 4, 1),
            (4, 10, 3),
            (10, None, 4),
            # not a known version: golang-migrate's Next/Prev fail there too
            (2, None, None),
            (0, None, None),
            (11, None, None),
        ],
    )
    def test_next_and_prev(
        self, source: MigrationSource, version: int, after: int | None, before: int | None
    ) -> None:
        assert self.number(source.next(version)) == after
        assert self.number(source.prev(version)) == before

    def test_membership(self, source: MigrationSource) -> None:
        assert [v for v in range(12) if v in source] == [1, 3, 4, 10]
        assert source.get(2) is None
        assert "1" not in source


class TestReadSql:
    @pytest.fixture
    def folder(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.chdir(tmp_path)  # errors show paths relative to the working directory
        folder = tmp_path / "migrations"
        folder.mkdir()
        return folder

    def read(self, folder: Path, data: bytes) -> str:
        (folder / "1_x.up.sql").write_bytes(data)
        migration = load_source(folder).get(1)
        assert migration is not None
        assert migration.up is not None
        return read_sql(migration.up)

    @pytest.mark.parametrize(
        ("data", "text"),
        [
            (b"", ""),
            (b"\xef\xbb\xbf", ""),
            (b"\xef\xbb\xbfCREATE TABLE a (id int);\n", "CREATE TABLE a (id int);\n"),
            (b"SELECT 1;\r\nSELECT 2;\r\n", "SELECT 1;\r\nSELECT 2;\r\n"),
            (b"SELECT 1;\rSELECT 2;", "SELECT 1;\rSELECT 2;"),
            ("SELECT 'é日😀';\n".encode(), "SELECT 'é日😀';\n"),
            (b"SELECT '\xef\xbb\xbf';", "SELECT '\ufeff';"),  # only a leading BOM goes
        ],
    )
    def test_text(self, folder: Path, data: bytes, text: str) -> None:
        assert self.read(folder, data) == text

    @pytest.mark.parametrize(
        ("data", "where", "byte"),
        [
            (b"\xff\xfeS\x00", "1:1", "0xff"),  # UTF-16
            (b"SELECT 1;\nSELECT '\xe9';\n", "2:9", "0xe9"),  # Latin-1
            ("SELECT 1;\nSELECT 'é".encode() + b"\xff';\n", "2:10", "0xff"),
            (b"SELECT 1;\r\n\r\nSELECT '\xc3(';\r\n", "3:9", "0xc3"),
            ("-- 日本\n-- 😀😀 ".encode() + b"\x80", "2:7", "0x80"),
            (b"SELECT '\xc3", "1:9", "0xc3"),  # truncated at the end of the file
        ],
    )
    def test_not_utf8(self, folder: Path, data: bytes, where: str, byte: str) -> None:
        with pytest.raises(FileReadError) as caught:
            self.read(folder, data)
        assert str(caught.value) == (
            f"migrations/1_x.up.sql:{where}: not valid UTF-8 (byte {byte}); save the file as UTF-8"
        )

    def test_file_gone_after_listing(self, folder: Path) -> None:
        write(folder, "1_x.up.sql")
        migration = load_source(folder).get(1)
        assert migration is not None
        assert migration.up is not None
        (folder / "1_x.up.sql").unlink()
        with pytest.raises(FileReadError) as caught:
            read_sql(migration.up)
        assert str(caught.value) == "migrations/1_x.up.sql: cannot read: No such file or directory"

    def test_path_outside_the_working_directory_is_absolute(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        elsewhere = tmp_path / "cwd"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        (tmp_path / "1_x.up.sql").write_bytes(b"\xff")
        migration = load_source(tmp_path).get(1)
        assert migration is not None
        assert migration.up is not None
        with pytest.raises(FileReadError) as caught:
            read_sql(migration.up)
        assert str(caught.value).startswith(f"{tmp_path / '1_x.up.sql'}:1:1: ")


def _folder_instead(path: Path) -> str:
    path.mkdir()
    return "cannot read: Is a directory"


def _dangling_link(path: Path) -> str:
    path.symlink_to(path.with_name("gone.sql"))
    return "cannot read: No such file or directory"


def _link_loop(path: Path) -> str:
    path.symlink_to(path)
    return "cannot read: Too many levels of symbolic links"


def _denied(path: Path) -> str:
    path.write_text("SELECT 1;")
    return deny_reading(path)


def _io_error(path: Path) -> str:
    path.write_text("SELECT 1;")
    return io_error_reading(path)


@pytest.mark.parametrize("spoil", [_folder_instead, _dangling_link, _link_loop, _denied, _io_error])
@pytest.mark.parametrize(
    "read", [read_bytes, read_migration, read_sql, lambda file: read_bytes(file, 10)]
)
def test_every_read_turns_os_errors_into_file_read_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spoil: Any, read: Any
) -> None:
    """Whatever is in the file's place by the time it is read (the listing saw a file)."""
    monkeypatch.chdir(tmp_path)
    reason = spoil(tmp_path / "1_x.up.sql")
    with pytest.raises(FileReadError) as caught:
        read(MigrationFile(1, "x", "up", str(tmp_path / "1_x.up.sql")))
    assert (str(caught.value), caught.value.path, caught.value.reason) == (
        f"1_x.up.sql: {reason}",
        "1_x.up.sql",
        reason,
    )
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_file_size_of_a_file_gone(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match=r"1_x\.up\.sql: cannot read: No such file"):
        file_size(MigrationFile(1, "x", "up", tmp_path / "1_x.up.sql"))


def test_explained_adds_advice_and_keeps_the_data() -> None:
    error = FileReadError("a.sql", "not valid UTF-8", location="a.sql:1:2").explained("Do X.")
    assert (str(error), error.path, error.location, error.advice) == (
        "a.sql:1:2: not valid UTF-8\nDo X.",
        "a.sql",
        "a.sql:1:2",
        "Do X.",
    )


@pytest.mark.parametrize(
    ("text", "offset", "expected"),
    [
        ("SELECT 1", 0, (1, 1)),
        ("SELECT 1", 7, (1, 8)),
        ("SELECT *\nFROM foo", 9, (2, 1)),
        ("SELECT *\n\nFROM foo", 15, (3, 6)),
        ("SELECT *\r\nFROM foo", 10, (2, 1)),  # the \r belongs to line 1
        ("SELECT 'é日😀'\nFRÖM", 16, (2, 4)),  # characters, not bytes
    ],
)
def test_line_col(text: str, offset: int, expected: tuple[int, int]) -> None:
    assert line_col(text, offset) == expected
