"""The CLI's reads (list, today, overdue, week, upcoming, search, projects, tags, history) and
the transfers' new refusals (export over a file, an unknown project), in-process on a real
SQLite file; --json parsed and checked."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from support.cli import on

from mcp_server_todo.config import Config
from mcp_server_todo.store import open_token_store
from mcp_server_todo.transports.http.auth import TOKEN_PREFIX, create_token

JSON_KEYS = {
    "id", "title", "notes", "status", "priority", "due", "due_tz", "due_human", "recur", "project", "tags",
    "parent_id", "depends_on", "subtasks", "blocked", "urgency", "created_at", "updated_at", "completed_at",
    "uid", "reminders",
}  # fmt: skip


def ids(db: Path, *argv: str) -> list[int]:
    ran = on(db, *argv, "--json")
    assert ran.code == 0, ran.err
    return [int(row["id"]) for row in ran.json_lines()]


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def test_list_json_has_the_documented_keys_and_filters_combine(db_path: Path) -> None:
    on(db_path, "add", "a", "-P", "work", "-t", "x", "-p", "low")
    on(db_path, "add", "b", "-P", "work", "-p", "high", "-n", "find me")
    on(db_path, "add", "c", "-P", "home", "-t", "x")
    on(db_path, "done", "3")
    rows = on(db_path, "list", "--json").json_lines()
    assert [set(row) for row in rows] == [JSON_KEYS, JSON_KEYS]
    assert ids(db_path, "ls", "-P", "work", "-t", "x") == [1]
    assert ids(db_path, "list", "-a", "-t", "x") == [1, 3]
    assert ids(db_path, "list", "-s", "done") == [3]
    assert ids(db_path, "list", "--sort", "priority") == [2, 1]
    assert ids(db_path, "list", "--query", "find") == [2]
    assert ids(db_path, "list", "-n", "1") == [1]
    assert on(db_path, "--json", "list").json_lines() == rows  # --json before the command too


def test_list_reads_past_500(db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "many.txt"
    source.write_text("".join(f"task {n}\n" for n in range(1, 1203)))
    assert on(db_path, "import", str(source)).code == 0
    assert len(ids(db_path, "list")) == 1202
    ran = on(db_path, "list", "-n", "600")
    assert ran.out.rstrip().endswith("(600 of 1,202 shown; raise --limit or filter)"), ran.out[-200:]


def test_views_by_due_date(db_path: Path) -> None:
    on(db_path, "add", "late", "--due", day(-3))
    on(db_path, "add", "now", "--due", day(0))
    on(db_path, "add", "soon", "--due", day(5))
    on(db_path, "add", "later", "--due", day(40))
    on(db_path, "add", "whenever")
    assert ids(db_path, "today") == [1, 2]
    assert ids(db_path, "overdue") == [1]
    assert ids(db_path, "upcoming") == [2, 3]
    assert ids(db_path, "upcoming", "--days", "60") == [2, 3, 4]
    assert set(ids(db_path, "week")) <= {1, 2, 3} and 2 in ids(db_path, "week")
    assert ids(db_path, "list", "--due", "overdue") == [1]
    assert ids(db_path, "list", "--due", day(1)) == [1, 2]
    on(db_path, "done", "1", "2")
    assert on(db_path, "today").out.strip() == "Nothing due today."
    assert on(db_path, "overdue").out.strip() == "Nothing overdue."


def test_search_projects_tags_history(db_path: Path) -> None:
    on(db_path, "add", "Call the dentist", "-P", "health", "-t", "phone")
    on(db_path, "add", "Buy stamps", "-t", "errand", "-t", "phone")
    on(db_path, "done", "1")
    assert ids(db_path, "search", "dentist") == [1]  # every status by default
    assert ids(db_path, "find", "dentist", "-s", "pending") == []
    assert on(db_path, "search", "zebra").out.strip() == "No task matches."
    assert on(db_path, "projects", "--json").json_lines() == [
        {"project": "health", "pending": 0, "done": 1},
        {"project": "inbox", "pending": 1, "done": 0},
    ]
    assert on(db_path, "projects").out.splitlines()[0].split() == ["PROJECT", "PENDING", "DONE"]
    assert on(db_path, "tags", "--json").json_lines() == [
        {"tag": "errand", "pending": 1},
        {"tag": "phone", "pending": 1},
    ]
    history = on(db_path, "history", "--json").json_lines()
    assert [(h["op"], h["id"]) for h in history] == [("complete", 1), ("add", 2), ("add", 1)]
    assert set(history[0]) == {"change", "at", "op", "id", "title", "by", "via"}
    assert [h["op"] for h in on(db_path, "log", "1", "--json").json_lines()] == ["complete", "add"]
    assert "add #2 Buy stamps" in on(db_path, "history", "2").out
    assert on(db_path, "history", "9").code == 1


def test_an_empty_list_names_the_stores_users(db_path: Path) -> None:
    assert on(db_path, "list").out.strip() == "No tasks."
    tokens = open_token_store(Config.resolve(str(db_path)).store_url)
    try:
        for user in ("bob", "alice"):
            create_token(tokens, user, "", TOKEN_PREFIX)
    finally:
        tokens.close()
    on(db_path, "--user", "alice", "add", "hers")
    ran = on(db_path, "list")
    assert ran.code == 0 and "alice, bob" in ran.out and "--user alice" in ran.out and "No tasks." not in ran.out
    assert on(db_path, "--user", "bob", "list").out.strip() == "No tasks."
    tokens_listed = on(db_path, "token", "list", "--json").json_lines()
    assert [(t["id"], t["user"], t["status"]) for t in tokens_listed] == [(1, "bob", "active"), (2, "alice", "active")]
    assert ids(db_path, "list", "--user", "alice") == [1]


def test_export_refuses_an_existing_file_and_an_unknown_project(db_path: Path, tmp_path: Path) -> None:
    on(db_path, "add", "a", "-P", "work")
    target = tmp_path / "out.txt"
    target.write_text("keep me")
    ran = on(db_path, "export", "-f", "todotxt", "-o", str(target))
    assert ran.code == 3 and "--force" in ran.err and target.read_text() == "keep me"
    assert on(db_path, "export", "-f", "todotxt", "-o", str(target), "--force").code == 0
    assert "a +work" in target.read_text()
    ran = on(db_path, "export", "-f", "todotxt", "-P", "nosuch")
    assert ran.code == 1 and ran.out == "" and "nosuch" in ran.err
    assert "a +work" in on(db_path, "export", "-f", "todotxt", "-P", "work").out
