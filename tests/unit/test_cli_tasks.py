"""The task commands of the CLI (add, show, edit, done, reopen, delete, restore, trash, undo)
on a real SQLite file, in-process: what they print, their --json, and their exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import on

from mcp_server_todo.config import Config
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import open_store


def tasks_of(db: Path, *argv: str) -> list[dict[str, object]]:
    ran = on(db, "list", "--json", *argv)
    assert ran.code == 0, ran.err
    return ran.json_lines()


def test_add_takes_every_field_and_prints_the_task(db_path: Path) -> None:
    assert on(db_path, "add", "Pay rent").code == 0
    ran = on(
        db_path,
        "add", "Water", "plants", "--due", "2099-12-01T08:00", "-p", "high", "-P", "home",
        "-t", "green", "-t", "weekly",
        "-n", "the ficus too", "--recur", "every 3 days", "--remind", "at due", "--depends-on", "1", "--json",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    (task,) = ran.json_lines()
    assert task["title"] == "Water plants" and task["priority"] == "high" and task["project"] == "home"
    assert task["tags"] == ["green", "weekly"] and task["notes"] == "the ficus too"
    assert task["recur"] == "FREQ=DAILY;INTERVAL=3" and task["reminders"] == ["PT0S"] and task["depends_on"] == [1]
    child = on(db_path, "add", "Ficus", "--parent", str(task["id"]), "--json").json_lines()[0]
    assert child["parent_id"] == task["id"]
    ran = on(db_path, "add", "Buy milk", "-P", "home")
    assert ran.code == 0 and ran.out.startswith("Added #4 Buy milk"), ran.out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["add", "x", "--due", "someday maybe"], "due"),
        (["add", " "], "title"),
        (["add", "x", "--remind", "1 hour before"], "set due too"),
        (["add", "x", "-d", "abc"], "abc"),
    ],
    ids=["bad-due", "blank-title", "reminder-without-due", "bad-depends"],
)
def test_bad_input_exits_2_with_one_line(db_path: Path, argv: list[str], words: str) -> None:
    ran = on(db_path, *argv)
    assert ran.code == 2 and ran.out == ""
    assert ran.err.startswith("mcp-server-todo: ") and words in ran.err and len(ran.err.splitlines()) == 1
    assert tasks_of(db_path, "--all") == []


def test_done_is_all_or_nothing_and_names_the_missing_id(db_path: Path) -> None:
    for title in ("a", "b", "c"):
        on(db_path, "add", title)
    ran = on(db_path, "done", "3", "99")
    assert ran.code == 1 and ran.out == "" and "99" in ran.err and len(ran.err.splitlines()) == 1
    assert [t["status"] for t in tasks_of(db_path, "--all")] == ["pending"] * 3
    ran = on(db_path, "done", "1", "3")
    assert ran.code == 0 and ran.out.splitlines()[0] == "Completed 2 tasks", ran.out
    assert [t["id"] for t in tasks_of(db_path)] == [2]
    assert on(db_path, "done", "1").out.startswith("Already done: #1 a")


def test_done_on_a_parent_advises_the_cli_flag(db_path: Path) -> None:
    on(db_path, "add", "trip")
    on(db_path, "add", "pack", "--parent", "1")
    ran = on(db_path, "done", "1")
    assert ran.code == 3 and "--with-subtasks" in ran.err and "complete_item" not in ran.err, ran.err
    ran = on(db_path, "done", "1", "--with-subtasks", "--json")
    assert ran.code == 0 and {t["id"] for t in ran.json_lines()} == {1, 2}


def test_a_big_bulk_change_prints_a_summary_and_a_few_tasks(db_path: Path) -> None:
    for n in range(12):
        on(db_path, "add", f"task {n}")
    ran = on(db_path, "done", *[str(n) for n in range(1, 13)])
    lines = ran.out.splitlines()
    assert lines[0] == "Completed 12 tasks" and lines[-1] == "  and 7 more" and len(lines) == 7, ran.out


def test_recurring_done_shows_the_next_occurrence(db_path: Path) -> None:
    on(db_path, "add", "standup", "--due", "2099-01-05", "--recur", "daily")
    ran = on(db_path, "done", "1")
    assert ran.out.startswith("Completed #1 standup") and "Next: #2 standup" in ran.out, ran.out


def test_show_prints_notes_and_subtasks_and_json(db_path: Path) -> None:
    on(db_path, "add", "trip", "-n", "passport!")
    on(db_path, "add", "pack", "--parent", "1")
    ran = on(db_path, "show", "1")
    assert ran.code == 0 and "trip" in ran.out and "passport!" in ran.out and "pack" in ran.out
    (task,) = on(db_path, "show", "1", "--json").json_lines()
    assert task["notes"] == "passport!" and task["subtasks"] == 1
    ran = on(db_path, "info", "7")
    assert ran.code == 1 and "7" in ran.err


def test_edit_with_flags_changes_every_task_or_none(db_path: Path) -> None:
    on(db_path, "add", "a", "-t", "x", "--due", "2099-01-01", "--remind", "at due")
    on(db_path, "add", "b")
    ran = on(db_path, "edit", "1", "2", "-P", "work", "-p", "low", "--json")
    assert ran.code == 0 and [(t["project"], t["priority"]) for t in ran.json_lines()] == [("work", "low")] * 2
    ran = on(db_path, "edit", "1", "--title", "A", "--no-tags", "--no-remind", "--due", "", "-n", "note", "--json")
    (task,) = ran.json_lines()
    assert (task["title"], task["tags"], task["reminders"], task["due"], task["notes"]) == ("A", [], [], None, "note")
    assert on(db_path, "edit", "2", "--parent", "1", "--json").json_lines()[0]["parent_id"] == 1
    assert on(db_path, "modify", "2", "--parent", "0", "--json").json_lines()[0]["parent_id"] is None
    assert on(db_path, "edit", "2", "-d", "1", "--json").json_lines()[0]["depends_on"] == [1]
    assert on(db_path, "edit", "2", "-d", "0", "--json").json_lines()[0]["depends_on"] == []
    ran = on(db_path, "edit", "1", "99", "-P", "home")
    assert ran.code == 1 and [t["project"] for t in tasks_of(db_path)] == ["work", "work"]


def test_edit_without_flags_opens_the_editor(db_path: Path, tmp_path: Path) -> None:
    on(db_path, "add", "draft", "-t", "x")
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1]); text = p.read_text()\n"
        "text = text.replace('title: draft', 'title: final').replace('tags: x', 'tags: x, y')\n"
        "text = text.replace('priority: none', 'priority: high').replace('due: ', 'due: 2099-03-04')\n"
        "p.write_text(text + 'two lines\\nof notes\\n')\n"
    )
    import sys

    ran = on(db_path, "edit", "1", "--json", env={"EDITOR": f"{sys.executable} {editor}", "VISUAL": None})
    assert ran.code == 0, ran.err
    (task,) = ran.json_lines()
    assert (task["title"], task["tags"], task["priority"], task["due"]) == ("final", ["x", "y"], "high", "2099-03-04")
    assert task["notes"] == "two lines\nof notes"


def test_delete_trash_restore_and_empty(db_path: Path) -> None:
    on(db_path, "add", "old")
    on(db_path, "add", "older", "--parent", "1")
    ran = on(db_path, "rm", "1")
    assert ran.code == 0 and ran.out.startswith("Moved to the trash: 2 tasks"), ran.out
    assert [t["id"] for t in on(db_path, "trash", "--json").json_lines()] == [1, 2]
    assert on(db_path, "restore", "1").out.startswith("Restored #1 old")
    ran = on(db_path, "restore", "1")
    assert ran.code == 1 and "not in the trash" in ran.err
    on(db_path, "delete", "1")
    ran = on(db_path, "reopen", "1")
    assert ran.code == 3 and "restore 1" in ran.err
    assert on(db_path, "trash", "empty").code == 2  # not a terminal: --yes is required
    ran = on(db_path, "trash", "empty", "--yes")
    assert ran.code == 0 and ran.out.strip() == "Emptied the trash: 2 tasks removed"
    assert on(db_path, "trash").out.strip() == "The trash is empty."
    assert on(db_path, "undo").code == 0 and len(on(db_path, "trash", "list", "--json").json_lines()) == 2


def test_reopen_and_undo(db_path: Path) -> None:
    on(db_path, "add", "Buy milk")
    on(db_path, "done", "1")
    assert on(db_path, "reopen", "1", "--json").json_lines()[0]["status"] == "pending"
    assert on(db_path, "reopen", "1").out.startswith("Already pending: #1 Buy milk")
    ran = on(db_path, "undo")
    assert ran.code == 0 and ran.out.strip() == "Undid update of #1 Buy milk"
    ran = on(db_path, "undo", "2", "--json")
    assert [(u["op"], u["id"]) for u in ran.json_lines()] == [("complete", 1), ("add", 1)]
    ran = on(db_path, "undo")
    assert ran.code == 3 and "nothing to undo" in ran.err
    assert on(db_path, "undo", "0").code == 2


def test_undo_of_an_import_is_one_line(db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "todo.txt"
    source.write_text("".join(f"task {n}\n" for n in range(1, 1501)))
    ran = on(db_path, "import", str(source))
    assert ran.code == 0 and ran.out.splitlines() == ["Imported (todotxt): 1500 added, 0 updated, 0 skipped"], ran.out
    ran = on(db_path, "undo")
    assert ran.code == 0 and ran.out.splitlines() == ["Undid the import of 1,500 tasks"]
    assert tasks_of(db_path, "--all") == []


def test_user_acts_for_that_user(db_path: Path) -> None:
    store = open_store(Config.resolve(str(db_path)).store_url)
    try:
        TodoService(store, owner="alice").add("alice's task")
    finally:
        store.close()
    ran = on(db_path, "--user", "bob", "add", "bob's task")
    assert ran.code == 0
    assert [t["title"] for t in tasks_of(db_path, "--user", "alice")] == ["alice's task"]
    assert [t["title"] for t in tasks_of(db_path, "--user", "bob")] == ["bob's task"]
    assert tasks_of(db_path) == []
    assert on(db_path, "--user", "bob", "done", "1").code == 0
    assert [t["status"] for t in tasks_of(db_path, "--user", "alice")] == ["pending"]
    assert on(db_path, "--user", "bad name", "list").code == 2
    source = db_path.parent / "hers.txt"
    source.write_text("imported for alice\n")
    assert on(db_path, "import", str(source), "--user", "alice").code == 0
    assert [t["title"] for t in tasks_of(db_path, "--user", "alice")] == ["alice's task", "imported for alice"]
    assert "imported for alice" in on(db_path, "--user", "alice", "export", "-f", "todotxt").out
    assert on(db_path, "export", "-f", "todotxt").out == ""  # the local user has none


def test_share_a_project_between_two_users(db_path: Path) -> None:
    on(db_path, "--user", "alice", "add", "Dig", "-P", "garden")
    ran = on(db_path, "--user", "alice", "share", "garden", "bob")
    assert ran.code == 0 and ran.out.strip() == "Shared garden (1 task) with bob, who sees it as alice/garden."
    (seen,) = tasks_of(db_path, "--user", "bob")
    assert (seen["title"], seen["project"]) == ("Dig", "alice/garden")
    shares = on(db_path, "--user", "bob", "shares", "--json").json_lines()
    assert [(s["owner"], s["member"], s["seen_as"]) for s in shares] == [("alice", "bob", "alice/garden")]
    assert on(db_path, "--user", "bob", "done", str(seen["id"])).code == 0
    assert [t["status"] for t in tasks_of(db_path, "--user", "alice", "--all")] == ["done"]
    assert on(db_path, "--user", "alice", "unshare", "garden", "bob").code == 0
    assert tasks_of(db_path, "--user", "bob", "--all") == []
    assert on(db_path, "--user", "alice", "unshare", "garden", "bob").code == 1


def test_quiet_prints_no_messages_but_json_still_prints_data(db_path: Path) -> None:
    ran = on(db_path, "--quiet", "add", "hush")
    assert ran.code == 0 and ran.out == ""
    assert on(db_path, "-q", "done", "1").out == ""
    assert [t["id"] for t in on(db_path, "-q", "--json", "reopen", "1").json_lines()] == [1]


def test_errors_give_the_cli_advice_not_the_mcp_tools(db_path: Path) -> None:
    on(db_path, "add", "gone")
    on(db_path, "rm", "1")
    for argv in (["done", "1"], ["edit", "1", "-p", "high"]):
        ran = on(db_path, *argv)
        assert ran.code in (1, 3) and "mcp-server-todo restore 1" in ran.err, ran.err
        assert "update_item" not in ran.err and "status=" not in ran.err
    ran = on(db_path, "done", "7")
    assert "mcp-server-todo list --all" in ran.err and "list_items" not in ran.err
    ran = on(db_path, "done", *[str(n) for n in range(1, 102)])
    assert ran.code == 2 and "one command handles at most 100" in ran.err


def test_a_bad_edit_form_changes_nothing(db_path: Path, tmp_path: Path) -> None:
    import sys

    on(db_path, "add", "keep", "-p", "low")
    for text, code in (("title: keep\\nwhen: never\\n", 2), ("title: \\n", 2), ("priority: \\nproject: \\n", 0)):
        editor = tmp_path / "editor.py"
        editor.write_text(f"import sys, pathlib\npathlib.Path(sys.argv[1]).write_text('{text}')\n")
        ran = on(db_path, "edit", "1", env={"EDITOR": f"{sys.executable} {editor}", "VISUAL": None})
        assert ran.code == code, (text, ran.err)
    (task,) = tasks_of(db_path)
    assert (task["title"], task["priority"], task["project"]) == ("keep", "none", "inbox")
    assert on(db_path, "edit", "1", "2").code == 2  # the editor edits one task


def test_done_reopen_done_leaves_one_next_occurrence(db_path: Path) -> None:
    on(db_path, "add", "standup", "--due", "2099-01-05", "--recur", "daily")
    for argv in (["done", "1"], ["reopen", "1"], ["done", "1"]):
        assert on(db_path, *argv).code == 0
    open_ones = [(t["id"], t["due"]) for t in tasks_of(db_path) if t["title"] == "standup"]
    assert open_ones == [(3, "2099-01-06")], open_ones
