"""`mcp-server-todo export` and `import` on real files: formats guessed from the file,
dry runs, --strict, errors as one line and an exit code, the progress line, and no MCP SDK
loaded by either command."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from support.env import TESTS
from support.lazy import top_level_modules_after

from mcp_server_todo.cli.main import main
from mcp_server_todo.cli.transfer import progress_lines

DATA = TESTS / "data"


def cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def titles(capsys: pytest.CaptureFixture[str], db: Path) -> list[str]:
    code, out, _ = cli(capsys, db, "export", "--format", "json")
    assert code == 0
    return [task["title"] for task in (json.loads(line.lstrip(",")) for line in out.splitlines()[1:-1])]


def test_import_guesses_the_format_and_never_duplicates(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    source = tmp_path / "list.md"
    source.write_text((DATA / "checklist.md").read_text(), encoding="utf-8")
    code, out, _ = cli(capsys, db_path, "import", str(source))
    assert code == 0 and out.splitlines()[0] == "Imported (markdown): 6 added, 0 updated, 0 skipped"
    code, out, _ = cli(capsys, db_path, "import", str(source))
    assert code == 0 and out.splitlines()[0] == "Imported (markdown): 0 added, 0 updated, 6 skipped"
    assert titles(capsys, db_path) == ["foo", "bar", "foo", "bar", "baz", "bim"]


def test_dry_run_changes_nothing(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = cli(capsys, db_path, "import", str(DATA / "todo.txt"), "--dry-run")
    assert code == 0
    assert (
        out.splitlines()[0] == "Would import (todotxt): 20 added, 0 updated, 0 skipped (dry run: nothing was changed)"
    )
    assert titles(capsys, db_path) == []


def test_problems_are_listed_with_line_numbers(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    source = tmp_path / "todo.txt"
    source.write_text("Fine\n2026-02-30 Not a date\n+only\nAlso fine\n", encoding="utf-8")
    code, out, _ = cli(capsys, db_path, "import", str(source))
    assert code == 0
    summary, *details = out.splitlines()
    assert summary == "Imported (todotxt): 2 added, 0 updated, 0 skipped, 2 problems"
    assert details[0].startswith("line 2: problem: not a real date")
    assert details[1].startswith("line 3: problem: the line has no task text")


def test_strict_refuses_the_whole_file(capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "todo.txt"
    source.write_text("Fine\n2026-02-30 Not a date\n", encoding="utf-8")
    code, out, err = cli(capsys, db_path, "import", str(source), "--strict")
    assert code == 2 and out == ""
    assert err.strip() == (
        "mcp-server-todo: line 2: not a real date (day is out of range for month); use YYYY-MM-DD; "
        "nothing was imported (--strict)"
    )
    assert titles(capsys, db_path) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["import", "missing.txt"], "cannot read missing.txt: No such file or directory"),
        (["import", "FILE", "--format", "xls"], "unknown format 'xls'"),
        (["export", "--format", "todoist"], "Todoist CSV template is an import-only format"),
        (["export", "--format", "yaml"], "unknown format 'yaml'"),
        (["import", "BROKEN"], "the file ends before the closing ']'; is it cut short?; nothing was imported"),
        (["import", "LATIN1"], "not UTF-8 text"),
    ],
)
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path, argv: list[str], message: str
) -> None:
    (tmp_path / "FILE").write_text("x\n")
    (tmp_path / "BROKEN").write_text('[\n{"description":"a","uuid":"b"},\n')
    (tmp_path / "LATIN1").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    argv = [str(tmp_path / a) if a in ("FILE", "BROKEN", "LATIN1") else a for a in argv]
    code, out, err = cli(capsys, db_path, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_export_to_a_file_and_back(capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path) -> None:
    assert cli(capsys, db_path, "import", str(DATA / "mcp-server-todo.json"))[0] == 0
    target = tmp_path / "out" / "tasks.json"
    target.parent.mkdir()
    code, out, err = cli(capsys, db_path, "export", "--format", "json", "-o", str(target))
    assert code == 0 and out == "" and err.strip() == f"Exported 5 tasks to {target} (json)"
    assert [p.name for p in target.parent.iterdir()] == ["tasks.json"], "no partial file left behind"
    other = tmp_path / "other.db"
    assert cli(capsys, other, "import", str(target))[0] == 0
    original = json.loads(target.read_text())["tasks"]
    code, again, _ = cli(capsys, other, "export", "--format", "json")
    assert json.loads(again)["tasks"] == original, "ids, statuses, links and timestamps survive"
    code, out, _ = cli(capsys, other, "export", "--format", "todotxt", "--project", "Travel")
    assert code == 0 and len(out.splitlines()) == 3 and all("+Travel" in line for line in out.splitlines())


def test_import_from_standard_input(
    capsys: pytest.CaptureFixture[str], db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO((DATA / "rfc5545-3.6.2-vtodo.ics").read_text()))
    code, out, _ = cli(capsys, db_path, "import", "-")
    assert code == 0 and out.startswith("Imported (ical): 2 added")


def test_todoist_project_comes_from_the_file_name(
    capsys: pytest.CaptureFixture[str], db_path: Path, tmp_path: Path
) -> None:
    source = tmp_path / "Trip [2203306141].csv"
    source.write_bytes((DATA / "todoist-template.csv").read_bytes())
    assert cli(capsys, db_path, "import", str(source))[0] == 0
    code, out, _ = cli(capsys, db_path, "list", "--project", "Trip")
    assert code == 0 and "Plan the trip" in out


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_line_on_a_terminal() -> None:
    lines = [f"task {n}\n" for n in range(1000)]
    stream = _Stream(tty=True)
    assert list(progress_lines(lines, sum(map(len, lines)), stream, every=0)) == lines
    shown = stream.getvalue()
    assert shown.startswith("\rimporting: 0% (1 lines)") and shown.endswith("\rimporting: 100% (1,000 lines)\n")


def test_progress_only_for_large_files_when_not_a_terminal() -> None:
    small = _Stream(tty=False)
    list(progress_lines(["a\n"] * 10, 20, small))
    assert small.getvalue() == ""
    large = _Stream(tty=False)
    lines = ["x" * 99 + "\n"] * 200_000
    list(progress_lines(lines, 20_000_000, large))
    shown = large.getvalue().splitlines()
    assert shown[0] == "importing: 10% (20,000 lines)" and shown[-1] == "importing: 100% (200,000 lines)"
    assert len(shown) == 10


def test_help_for_export_and_import(capsys: pytest.CaptureFixture[str]) -> None:
    for command, words in (("export", "--format FORMAT"), ("import", "FILE")):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"Usage: mcp-server-todo {command} ") and words in out and "--db" in out


@pytest.mark.slow
def test_export_and_import_never_load_the_mcp_sdk(isolated_env: Path, db_path: Path) -> None:
    db = ["--db", str(db_path)]
    loaded = top_level_modules_after(
        isolated_env, [*db, "import", str(DATA / "todo.txt")], [*db, "export", "--format", "ical"]
    )
    assert "icalendar" in loaded  # the export ran
    assert "mcp" not in loaded


def test_progress_of_a_pipe_counts_lines() -> None:
    stream = _Stream(tty=True)
    list(progress_lines(["a\n"] * 3, 0, stream, every=0))
    assert stream.getvalue().endswith("\rimporting: 3 lines\n") and "%" not in stream.getvalue()
