"""Progress (cli/progress.py and the service's `progress` callbacks): a bar on stderr only
when it is a terminal and not --quiet; the undo of a big import, an export, a backup and a
restore report how far they are, on a real SQLite file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mcp_server_todo.cli.progress import progress_bar, reading, shown
from mcp_server_todo.service import TodoService, Transfer, tasks, undo
from mcp_server_todo.store import backup
from mcp_server_todo.store.sqlite import SQLiteStore


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_no_bar_and_nothing_written_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    piped = io.StringIO()
    with progress_bar("Importing", stream=piped) as report:
        report(5, 10)
        report(10, 10)
    with progress_bar("Importing") as report:  # pytest's stderr: not a terminal
        report(1, 2)
    assert piped.getvalue() == "" and capsys.readouterr() == ("", "")
    assert shown(stream=piped) is False


def test_quiet_hides_the_bar_on_a_terminal() -> None:
    terminal = Terminal()
    with progress_bar("Exporting", quiet=True, stream=terminal) as report:
        report(3, 3)
    assert terminal.getvalue() == "" and shown(quiet=True, stream=terminal) is False


def test_on_a_terminal_the_bar_is_drawn_and_its_label_shown() -> None:
    terminal = Terminal()
    with progress_bar("Backing up", stream=terminal) as report:
        report(0, 0)  # total unknown yet
        report(512, 1024)
        report(1024, 1024)
    assert shown(stream=terminal) and "Backing up" in terminal.getvalue()
    assert "1024/1024" in terminal.getvalue()


def test_work_that_reports_nothing_draws_nothing_even_on_a_terminal() -> None:
    terminal = Terminal()
    with progress_bar("Undoing", stream=terminal):
        pass
    assert terminal.getvalue() == ""


def test_reading_passes_the_lines_through_and_reports_what_was_read() -> None:
    lines = [f"line {n}\n" for n in range(1200)]
    size = sum(len(line) for line in lines)
    heard: list[tuple[int, int]] = []
    assert list(reading(iter(lines), size, lambda done, total: heard.append((done, total)))) == lines
    assert heard[-1] == (size, size) and len(heard) == 3  # every 512 lines, then the end
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)


def todotxt(count: int) -> list[str]:
    return [f"(B) Imported task {n} +p{n % 5}\n" for n in range(count)]


def test_the_undo_of_a_big_import_reports_each_batch(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(undo, "BATCH_SECONDS", 0.0)  # a batch every 100 entries
    monkeypatch.setattr(undo, "BATCH_PAUSE", 0.0)
    monkeypatch.setattr(tasks, "UNDO_AT_ONCE", 200)  # a group bigger than this is an import's
    count = 250
    Transfer(store).import_lines(todotxt(count), "todotxt")
    heard: list[tuple[int, int]] = []
    undone = TodoService(store).undo(progress=lambda done, total: heard.append((done, total)))
    assert len(undone) == count
    assert heard == [(min(done, count), count) for done in range(100, count + 100, 100)]


def test_a_small_undo_reports_nothing(store: SQLiteStore) -> None:
    service = TodoService(store)
    service.add("one")
    heard: list[tuple[int, int]] = []
    service.undo(progress=lambda done, total: heard.append((done, total)))
    assert heard == []


def test_an_export_reports_each_page_read(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_server_todo.service import transfer

    monkeypatch.setattr(transfer, "EXPORT_PAGE", 10)
    Transfer(store).import_lines(todotxt(25), "todotxt")
    heard: list[tuple[int, int]] = []
    out = io.StringIO()
    assert Transfer(store).export("todotxt", out, progress=lambda d, t: heard.append((d, t))) == 25
    assert heard == [(10, 25), (20, 25), (25, 25)] and len(out.getvalue().splitlines()) == 25


def test_backup_and_restore_report_the_pages_copied(
    store: SQLiteStore, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup, "BACKUP_STEP_PAGES", 2)
    Transfer(store).import_lines(todotxt(300), "todotxt")
    heard: list[tuple[int, int]] = []
    copy = backup.manual(db_path, str(tmp_path / "copy.db"), progress=lambda d, t: heard.append((d, t)))
    total = heard[-1][1]
    assert len(heard) > 2 and heard[-1] == (total, total) and heard[0][0] < total
    assert backup.check_backup(copy)[1] == 300

    heard.clear()
    TodoService(store).add("after the backup")
    tasks, saved = backup.restore(db_path, copy, progress=lambda d, t: heard.append((d, t)))
    assert tasks == 300 and saved is not None
    assert len(heard) > 2 and heard[-1] == (total, total)
    assert TodoService(store).list_tasks(limit=1).total == 300
