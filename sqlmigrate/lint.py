"""Lint of migration files with squawk, the PostgreSQL migration linter.

squawk (``pip install 'django-sqlmigrate[lint]'``, the ``squawk-cli``
wheel) does the linting; this module only finds its binary, runs it once
over all the files asked for, and reads its ``--reporter json`` output.

squawk reports nearly every rule at its "warning" level and exits 1 on any
finding; sqlmigrate does the same: every finding counts. A finding is
silenced per statement with squawk's own ``-- squawk-ignore RULE`` comment,
per file with ``-- squawk-ignore-file RULE``, or everywhere with
SQLMIGRATE_LINT_EXCLUDE. squawk's ``.squawk.toml`` (found from the current
directory) is read as usual.

Without the binary, lint is skipped and says so (``LintReport.skipped``);
when squawk runs but fails (a rule name it does not know, a file it cannot
read), the report carries its error (``LintReport.error``). Neither raises.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .source import display_path

#: every wait has a deadline: squawk lints thousands of files in well under this
SQUAWK_TIMEOUT = 60.0
#: bytes of file names per squawk process, far below the kernel's argument limit (2 MB
#: on Linux, 256 KB on macOS): a folder of a few thousand files is one process
ARGUMENT_BYTES = 100_000
NOT_INSTALLED = "squawk is not installed: pip install 'django-sqlmigrate[lint]'; lint skipped"
RULES_URL = "https://squawkhq.com/docs/"


@dataclass(frozen=True, slots=True)
class Finding:
    path: Path
    #: 1-based, as editors count (squawk's JSON counts from 0)
    line: int
    column: int
    rule: str
    message: str
    help: str | None
    #: squawk's level: "warning" or "error" (syntax errors)
    level: str

    @property
    def where(self) -> str:
        return f"{display_path(self.path)}:{self.line}:{self.column}"

    def describe(self) -> str:
        """``FILE:LINE:COL: rule-name: message``, one line."""
        return f"{self.where}: {self.rule}: {self.message}"

    @property
    def hint(self) -> str:
        """squawk's help text, then where the rule is explained."""
        link = f"see {RULES_URL}{self.rule}"
        return f"{self.help} ({link})" if self.help else link


@dataclass
class LintReport:
    files: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: why lint did not run (squawk not installed), or None
    skipped: str | None = None
    #: why squawk ran but failed, or None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """No finding and no failure (a skipped lint is ok: it was said)."""
        return not self.findings and self.error is None

    def by_file(self) -> dict[Path, list[Finding]]:
        grouped: dict[Path, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.path, []).append(finding)
        return grouped

    def lines(self) -> list[str]:
        """The findings as printed: grouped per file, squawk's help under each."""
        out: list[str] = []
        for path, findings in self.by_file().items():
            out.append(f"{display_path(path)}: {len(findings)} finding(s)")
            for finding in findings:
                out.append(f"  {finding.describe()}")
                out.append(f"    help: {finding.hint}")
        noun = "finding(s)" if self.findings else "findings"
        out.append(f"lint: {len(self.findings) or 'no'} {noun} in {self.files} file(s)")
        return out


def lint_configured(paths: Sequence[Path]) -> LintReport:
    """``lint_files`` with SQLMIGRATE_LINT_EXCLUDE and SQLMIGRATE_SQUAWK."""
    from .conf import settings  # Django settings only here: lint_files needs none

    return lint_files(paths, exclude=settings.lint_exclude, squawk=settings.squawk)


def find_squawk(configured: str | None = None) -> str | None:
    """The squawk executable: ``configured`` (SQLMIGRATE_SQUAWK) if given, else the one
    installed next to this Python (a venv's bin, not always on PATH), else PATH's."""
    if configured:
        return shutil.which(configured)
    beside = Path(sysconfig.get_path("scripts")) / ("squawk.exe" if os.name == "nt" else "squawk")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("squawk")


def lint_files(
    paths: Sequence[Path],
    *,
    exclude: Iterable[str] = (),
    squawk: str | None = None,
) -> LintReport:
    """Lint ``paths`` with one squawk process (per ARGUMENT_BYTES of names);
    ``exclude`` turns rules off."""
    report = LintReport(files=len(paths))
    binary = find_squawk(squawk) if paths else None
    if paths and binary is None:
        report.skipped = NOT_INSTALLED
    elif binary is not None:
        command = [binary, "--reporter", "json", *_exclude_args(exclude)]
        for batch in _batches(paths):
            _run(command, batch, report)
            if report.skipped or report.error:
                break
        report.findings = _in_characters(report.findings)
        # squawk lints files in parallel; report them in the order asked (version order)
        order = {path: index for index, path in enumerate(paths)}
        report.findings.sort(key=lambda f: (order.get(f.path, len(order)), f.line, f.column))
    return report


def _in_characters(findings: list[Finding]) -> list[Finding]:
    """Columns in characters, as sqlmigrate's other errors and editors count them: squawk
    counts UTF-8 bytes (and a leading BOM, which sqlmigrate drops before sending)."""
    lines: dict[Path, list[bytes]] = {}
    converted = []
    for finding in findings:
        if finding.path not in lines:
            try:
                lines[finding.path] = finding.path.read_bytes().split(b"\n")
            except OSError:
                lines[finding.path] = []
        text = lines[finding.path]
        line = text[finding.line - 1] if finding.line <= len(text) else b""
        before = line[: finding.column - 1]
        if not before.isascii():
            prefix = before.decode("utf-8", errors="replace")
            column = len(prefix.removeprefix("\ufeff") if finding.line == 1 else prefix) + 1
            finding = replace(finding, column=column)
        converted.append(finding)
    return converted


def _batches(paths: Sequence[Path]) -> Iterator[Sequence[Path]]:
    start, size = 0, 0
    for index, path in enumerate(paths):
        size += len(str(path)) + 1
        if size > ARGUMENT_BYTES and index > start:
            yield paths[start:index]
            start, size = index, len(str(path)) + 1
    yield paths[start:]


def _run(command: list[str], paths: Sequence[Path], report: LintReport) -> None:
    try:
        done = subprocess.run(
            [*command, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=SQUAWK_TIMEOUT,
            check=False,
        )
    except OSError as error:
        report.skipped = f"{NOT_INSTALLED} ({command[0]}: {error.strerror})"
        return
    except subprocess.TimeoutExpired:
        report.error = f"squawk did not finish in {SQUAWK_TIMEOUT:.0f} s"
        return
    _read_output(done, {str(path): path for path in paths}, report)


def _exclude_args(exclude: Iterable[str]) -> list[str]:
    rules = [rule for rule in exclude if rule]
    return [f"--exclude={','.join(rules)}"] if rules else []


def _read_output(
    done: subprocess.CompletedProcess[str], paths: dict[str, Path], report: LintReport
) -> None:
    # squawk exits 0 (clean) or 1 (findings) with JSON on stdout; anything else
    # is a failure explained on stderr (a bad rule name, an unreadable file).
    try:
        rows = json.loads(done.stdout) if done.returncode in (0, 1) else None
    except json.JSONDecodeError:
        rows = None
    if not isinstance(rows, list):
        report.error = f"squawk failed (exit status {done.returncode}): {_first_line(done)}"
        return
    try:
        report.findings.extend([_finding(row, paths) for row in rows])
    except (KeyError, TypeError, ValueError):
        report.error = f"squawk's JSON report is not in the form sqlmigrate reads: {rows[:1]}"


def _finding(row: dict[str, Any], paths: dict[str, Path]) -> Finding:
    file = str(row["file"])
    return Finding(
        path=paths.get(file, Path(file)),
        line=int(row["line"]) + 1,
        column=int(row["column"]) + 1,
        rule=str(row["rule_name"]),
        message=str(row["message"]),
        help=str(row["help"]) if row.get("help") else None,
        level=str(row["level"]).lower(),
    )


def _first_line(done: subprocess.CompletedProcess[str]) -> str:
    for line in (done.stderr or done.stdout).splitlines():
        if line.strip():
            return line.strip().removeprefix("error: ").removeprefix("Error: ")
    return "no output"
