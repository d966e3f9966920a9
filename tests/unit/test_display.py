"""How the human commands show tasks (cli/display.py, cli/task_cells.py): due dates in words,
the overdue marker with and without colour, NO_COLOR and --color, no ANSI code when piped,
subtasks under their parents, wide characters aligned, `show`'s every field, the pager, and
the keys of `--json`."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rich.cells import cell_len

from mcp_server_todo.cli import display, layout, task_cells
from mcp_server_todo.cli.display import JSON_KEYS, Look, look_for, print_json_lines, print_task, print_tasks
from mcp_server_todo.model import HIDDEN_FIELDS, Task

PLAIN = Look(color=False, tz="UTC")
COLOUR = Look(color=True, tz="UTC")
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Paris


def task(task_id: int, title: str, **fields: Any) -> Task:
    return Task(id=task_id, title=title, created_at="2026-12-01T08:00:00Z", updated_at="2026-12-02T09:00:00Z", **fields)


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


@pytest.mark.parametrize(
    ("due", "phrase"),
    [
        ("2026-12-07T15:00+01:00", "today 15:00"),
        ("2026-12-07T09:00+01:00", "overdue since 09:00"),
        ("2026-12-08", "tomorrow"),
        ("2026-12-08T09:30+01:00", "tomorrow 09:30"),
        ("2026-12-10", "in 3 days"),
        ("2026-12-24", "Thu 24 Dec"),
        ("2026-12-04", "3 days overdue"),
        ("2026-12-06", "1 day overdue"),
    ],
)
def test_due_dates_read_as_people_say_them(due: str, phrase: str) -> None:
    assert task_cells.due_phrase(task(1, "t", due=due), PARIS, NOW) == phrase


def test_the_service_phrase_is_used_and_a_done_task_shows_its_date() -> None:
    assert task_cells.due_phrase(task(1, "t", due="2026-12-08", due_human="due tomorrow")) == "tomorrow"
    done = task(1, "t", due="2026-12-04T15:00+01:00", status="done", due_human="3 days overdue")
    assert task_cells.due_phrase(done, PARIS, NOW) == "2026-12-04 15:00"
    assert task_cells.due_phrase(task(1, "no due")) == ""


def overdue_list() -> list[Task]:
    return [
        task(1, "Pay rent", priority="high", due=days_ago(3), tags=["home"]),
        task(2, "Call mum", due=(datetime.now(UTC) + timedelta(days=30)).date().isoformat()),
    ]


def test_without_colour_no_ansi_at_all_and_the_overdue_marker_still_shows(capsys: pytest.CaptureFixture[str]) -> None:
    print_tasks(overdue_list(), PLAIN, title="Pending", footer="2 tasks")
    out = capsys.readouterr().out
    assert "\x1b" not in out
    lines = out.splitlines()
    assert lines[0] == "Pending" and lines[-1] == "2 tasks"
    assert lines[1].split() == ["ID", "PRI", "DUE", "PROJECT", "TITLE"]
    rent, mum = lines[2], lines[3]
    assert "! 3 days overdue" in rent and "#home" in rent
    assert "!" not in mum
    assert all(line == line.rstrip() for line in lines)


def test_with_colour_overdue_is_red_and_priorities_have_colours(capsys: pytest.CaptureFixture[str]) -> None:
    print_tasks(overdue_list(), COLOUR)
    rent = capsys.readouterr().out.splitlines()[1]
    assert "\x1b[31m3 days overdue" in rent
    assert "\x1b[1;31m!" in rent  # the marker, bold red
    assert "\x1b[1;31mhigh" in rent


def test_the_look_follows_the_terminal_no_color_and_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert look_for("auto").color is False  # pytest's stdout is not a terminal: piped
    assert look_for("always").color is True
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert look_for("auto") == Look(color=True, tz=None, pager=True)
    assert look_for("never", tz="Europe/Paris") == Look(color=False, tz="Europe/Paris", pager=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert look_for("auto").color is False
    assert look_for("always").color is True  # the flag wins over the environment
    monkeypatch.setenv("NO_COLOR", "")  # empty: not set (no-color.org)
    assert look_for("auto").color is True
    monkeypatch.setenv("TERM", "dumb")
    assert look_for("auto").color is False


def test_subtasks_are_indented_under_their_parents(capsys: pytest.CaptureFixture[str]) -> None:
    tasks = [
        task(1, "Trip"),
        task(2, "Other"),
        task(3, "Book flights", parent_id=1),
        task(4, "Pick seats", parent_id=3),
        task(5, "Orphan", parent_id=99),  # its parent is not listed: top level
    ]
    print_tasks(tasks, PLAIN)
    rows = capsys.readouterr().out.splitlines()[1:]
    titles = [row[row.index("inbox") + len("inbox") :].strip(" ") for row in rows]
    assert [row.split()[0] for row in rows] == ["1", "3", "4", "2", "5"]
    column = rows[0].index("Trip")
    assert rows[1].index("└ Book flights") == column + 2
    assert rows[2].index("└ Pick seats") == column + 4
    assert titles[3:] == ["Other", "Orphan"]


def test_wide_characters_keep_the_columns_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    tasks = [
        task(1, "写周报 📝", project="工作"),
        task(2, "Plain title", project="home"),
        task(3, "絵文字 🎉🎉", project="😀"),
    ]
    print_tasks(tasks, PLAIN)
    header, *rows = capsys.readouterr().out.splitlines()
    start = cell_len(header[: header.index("TITLE")])
    for row, title in zip(rows, ("写周报 📝", "Plain title", "絵文字 🎉🎉"), strict=True):
        assert cell_len(row[: row.index(title)]) == start, row


def test_the_coloured_table_is_the_plain_one_with_colour_codes(capsys: pytest.CaptureFixture[str]) -> None:
    tasks = [
        *overdue_list(),
        task(3, "Sub 写", parent_id=1, status="done", tags=["x"]),
        task(4, "Daily", recur="FREQ=DAILY"),
    ]
    print_tasks(tasks, PLAIN, title="All", footer="4 tasks")
    plain = capsys.readouterr().out
    print_tasks(tasks, COLOUR, title="All", footer="4 tasks")
    coloured = capsys.readouterr().out
    assert coloured != plain and re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_on_a_narrow_terminal_long_titles_fold_under_their_column() -> None:
    cells = [[("12", "dim")], [("high", "bold red")], [("写报告写报告写报告 a long title that goes on", "")]]
    lines = layout.table(["ID", "PRI", "TITLE"], [(cells, "")], color=False, width=32)
    start = len("ID  high  ")
    assert lines[0] == "ID  PRI   TITLE"
    assert all(cell_len(line) <= 32 for line in lines) and len(lines) > 2
    assert all(line.startswith(" " * start) and line[start] != " " for line in lines[2:])
    assert "".join(line[start:] for line in lines[1:]) == "写报告写报告写报告 a long title that goes on"
    coloured = layout.table(["ID", "PRI", "TITLE"], [(cells, "dim")], color=True, width=None)
    assert (
        coloured[1]
        == "\x1b[2m12\x1b[0m  \x1b[2;1;31mhigh\x1b[0m  \x1b[2m写报告写报告写报告 a long title that goes on\x1b[0m"
    )


def test_titles_are_shown_as_typed_never_as_markup(capsys: pytest.CaptureFixture[str]) -> None:
    print_tasks([task(1, "[bold]not markup[/bold] :smile:")], COLOUR)
    assert "[bold]not markup[/bold] :smile:" in capsys.readouterr().out


def test_no_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    print_tasks([], PLAIN)
    assert capsys.readouterr().out == "No tasks.\n"


def test_show_has_every_field_the_notes_and_the_subtasks(capsys: pytest.CaptureFixture[str]) -> None:
    full = task(
        7,
        "Plan the trip",
        notes="Passports first.\nThen the hotel.",
        priority="medium",
        due=days_ago(2),
        recur="FREQ=WEEKLY;BYDAY=MO",
        project="travel",
        tags=["family", "summer"],
        parent_id=2,
        depends_on=[3, 4],
        reminders=["-PT30M"],
        subtasks=1,
        blocked=True,
        urgency=7.5,
        uid="abc-123",
    )
    print_task(full, PLAIN, subtasks=[task(8, "Book flights", parent_id=7)])
    out = capsys.readouterr().out
    fields = dict(line.split(None, 1) for line in out.splitlines()[1:12])
    assert out.splitlines()[0] == "#7 Plan the trip"
    assert fields["Status"] == "pending" and fields["Priority"] == "medium"
    assert fields["Due"].startswith("! 2 days overdue")
    assert fields["Repeats"] == "every Monday (FREQ=WEEKLY;BYDAY=MO)" and fields["Reminders"] == "30m before"
    assert fields["Project"] == "travel" and fields["Tags"] == "#family #summer"
    assert fields["Parent"] == "#2" and fields["Subtasks"] == "1"
    for line in ("Depends on  #3 #4", "Urgency     7.5", "Created     2026-12-01T08:00:00Z", "UID         abc-123"):
        assert line in out
    assert "Notes:\nPassports first.\nThen the hotel.\n" in out
    assert out.endswith("Subtasks:\n  #8 Book flights\n")


def test_json_lines_have_the_documented_keys_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    print_json_lines([task(1, "Café ☕", due="2026-12-08", tags=["a"]), task(2, "second", ical="BEGIN:VCALENDAR")])
    lines = capsys.readouterr().out.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert list(first) == list(JSON_KEYS) == list(second)
    assert first["title"] == "Café ☕" and "Café ☕" in lines[0]  # UTF-8, not \\u escapes
    assert first["due"] == "2026-12-08" and first["tags"] == ["a"] and first["status"] == "pending"
    # every Task field but the internal ones: a new field fails here until it is documented
    assert set(JSON_KEYS) == set(Task.model_fields) - set(HIDDEN_FIELDS)
    documented = (Path(__file__).parents[2] / "docs" / "cli-json.md").read_text(encoding="utf-8")
    assert all(f"`{key}`" in documented for key in JSON_KEYS)


def test_long_output_on_a_terminal_goes_through_the_pager(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paged = tmp_path / "paged.txt"
    script = f"import os, sys; open({str(paged)!r}, 'w').write(os.environ['LESS'] + '\\n' + sys.stdin.read())"
    monkeypatch.setenv("PAGER", f"{sys.executable} -c {json.dumps(script)}")
    monkeypatch.delenv("LESS", raising=False)
    monkeypatch.setattr(display, "_is_tty", lambda stream: True)
    monkeypatch.setattr(display, "_screen_rows", lambda: 5)
    many = [task(n, f"task {n}") for n in range(1, 8)]
    print_tasks(many, Look(color=False, pager=True))
    assert capsys.readouterr().out == ""
    less, header, *rows = paged.read_text().splitlines()
    assert less == "FRX" and header.startswith("ID") and len(rows) == 7
    print_tasks(many[:3], Look(color=False, pager=True))  # fits on the screen: no pager
    assert len(capsys.readouterr().out.splitlines()) == 4
    monkeypatch.setenv("PAGER", "/nonexistent/pager")  # cannot run: printed all the same
    print_tasks(many, Look(color=False, pager=True))
    assert len(capsys.readouterr().out.splitlines()) == 8
