"""Bad values get an error naming the field, never a traceback (issue 11, points 10 and 12):
forged cursors, dates at the edge of the calendar, `daily until 0001-01-01`, a NUL in an
import path, JSON nested 50,000 levels deep, and unknown time zones from any source."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path

import pytest
from mcp import Client
from mcp_types import ListRootsResult, Root
from support.env import MODES, subprocess_env
from support.mcp import text as text_of

from mcp_server_todo.config import Config
from mcp_server_todo.dates import zone
from mcp_server_todo.dates.recurrence import parse_recur
from mcp_server_todo.errors import InvalidInput
from mcp_server_todo.server import build_server
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import Store

EXTREME = ["9999-12-31T23:59-14:00", "0001-01-01T00:00+14:00", "in 10000 years", "in 3650000 days"]
DEEP = "[" * 50_000 + "]" * 50_000


def forged(cursor: str, *, after: list[object] | None = None, now: str | None = None) -> str:
    version, real_after, real_now, fingerprint = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw = [version, real_after if after is None else after, real_now if now is None else now, fingerprint]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


# -- dates at the edge of the calendar -------------------------------------------------------


@pytest.mark.parametrize("value", EXTREME)
def test_an_extreme_due_is_refused_naming_the_field(backend: Store, value: str) -> None:
    service = TodoService(backend, tz=UTC)
    task = service.add("fine")
    for call, field in (
        (lambda: service.add("x", due=value), "due"),
        (lambda: service.update(task.id, due=value), "due"),
        (lambda: service.list_tasks(due_before=value), "due_before"),
    ):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert str(caught.value).startswith(f"{field} {value!r} is out of range"), caught.value
    assert [t.title for t in service.list_tasks().items] == ["fine"]


def test_the_first_and_last_days_still_work_as_dates(backend: Store) -> None:
    service = TodoService(backend, tz=UTC)
    service.add("first", due="0001-01-01")
    service.add("last", due="9999-12-31")
    service.add("last instant", due="9999-12-30T23:59Z")
    for sort in ("created", "due", "urgency"):
        assert len(service.list_tasks(sort=sort).items) == 3
    assert [t.title for t in service.list_tasks(due="overdue").items] == ["first"]


# -- forged cursors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"now": "0001-01-01T00:00:00+14:00"},
        {"now": "9999-12-31T23:59:59-14:00"},
        {"now": "9999-12-30T12:00:00+00:00"},  # in range, but this week's window would end past 9999
        {"now": "2026-11-25T12:00:00"},  # no offset
        {"after": [10**30]},
        {"after": [1.5]},
        {"after": [float("nan")]},
        {"after": [True]},
    ],
)
def test_a_forged_cursor_is_refused_as_a_cursor(backend: Store, change: dict[str, object]) -> None:
    service = TodoService(backend, tz=UTC)
    for title in "abc":
        service.add(title)
    cursor = service.list_tasks(limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput, match=r"^cursor is not one this server returned"):
        service.list_tasks(limit=1, cursor=forged(cursor, **change))  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_the_tools_name_the_field(client: Client) -> None:
    for value in EXTREME:
        result = await client.call_tool("new_item", {"title": "x", "due": value})
        assert result.is_error and f"due {value!r} is out of range" in text_of(result)
        result = await client.call_tool("list_items", {"due": value})
        assert result.is_error and f"due_before {value!r} is out of range" in text_of(result)
    for title in "abc":
        await client.call_tool("new_item", {"title": title})
    page = await client.call_tool("list_items", {"limit": 1})
    assert page.structured_content is not None
    cursor = page.structured_content["next_cursor"]
    for change in ({"after": [10**30]}, {"now": "0001-01-01T00:00:00+14:00"}):
        result = await client.call_tool("list_items", {"limit": 1, "cursor": forged(cursor, **change)})  # type: ignore[arg-type]
        assert result.is_error and text_of(result).startswith("cursor is not one this server returned")


# -- daily until 0001-01-01 -------------------------------------------------------------------


def test_an_until_in_the_year_1_is_written_with_four_digits() -> None:
    assert parse_recur("daily until 0001-01-01") == "FREQ=DAILY;UNTIL=00010101"
    assert parse_recur("FREQ=DAILY;UNTIL=0005-01-01T10:00Z") == "FREQ=DAILY;UNTIL=00050101T100000Z"


def test_an_until_before_the_due_is_refused(backend: Store) -> None:
    service = TodoService(backend, tz=UTC)
    with pytest.raises(InvalidInput) as caught:
        service.add("x", due="2026-01-01", recur="daily until 0001-01-01")
    assert "UNTIL 0001-01-01 is before the due date 2026-01-01" in str(caught.value)
    with pytest.raises(InvalidInput, match="its UNTIL has passed"):
        service.add("x", recur="daily until 0001-01-01")  # no due: the first occurrence is from today
    assert service.add("x", due="2026-01-01", recur="daily until 2026-01-01").recur == "FREQ=DAILY;UNTIL=20260101"


# -- imports: extreme dates, deep JSON, a NUL in the path ---------------------------------------


@pytest.fixture
def roots_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    return folder


@pytest.fixture(params=MODES)
async def import_client(request: pytest.FixtureRequest, db_path: Path, roots_dir: Path) -> AsyncIterator[Client]:
    server = build_server(Config.resolve(str(db_path), "UTC"), "import")

    async def roots(_: object) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=roots_dir.as_uri(), name="shared")])

    async with Client(server, mode=request.param, list_roots_callback=roots) as connected:
        yield connected


TODOTXT = "".join(f"task {n} due:{value}\n" for n, value in enumerate(EXTREME[:2])) + "fine\n"
MARKDOWN = "- [x] done @done(0001-01-01T00:00+14:00)\n- [ ] late @due(9999-12-31T23:59-14:00)\n- [ ] fine\n"
DUMP = json.dumps(
    {
        "format": "mcp-server-todo",
        "schema_version": 1,
        "tasks": [
            {"id": 10**30, "title": "huge", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
            {"id": 7, "title": "fine", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"},
        ],
    }
)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "fmt", "problems"),
    [
        (TODOTXT, "todotxt", ["line 1: due '9999-12-31T23:59-14:00' is out of range", "line 2: due '0001-01-01"]),
        (MARKDOWN, "markdown", ["line 1: completion date", "line 2: due '9999-12-31T23:59-14:00' is out of range"]),
        (DUMP, "json", [f"id: {10**30} is not a task id"]),
    ],
)
async def test_an_import_reports_bad_values_by_line(
    import_client: Client, roots_dir: Path, content: str, fmt: str, problems: list[str]
) -> None:
    # by path: the SDK decodes a `content` string that is itself JSON before the tool sees it
    (roots_dir / "file").write_text(content, encoding="utf-8")
    result = await import_client.call_tool("import_items", {"path": "file", "format": fmt, "dry_run": False})
    report = text_of(result)
    assert not result.is_error, report
    for problem in problems:
        assert problem in report.replace("problem: ", ""), report
    assert "1 added" in report


@pytest.mark.anyio
async def test_deep_json_and_a_nul_path_are_one_clear_error(import_client: Client, roots_dir: Path) -> None:
    (roots_dir / "deep.json").write_text(DEEP, encoding="utf-8")
    (roots_dir / "deep-dump.json").write_text('{"tasks": [{"notes": ' + DEEP + "}]}", encoding="utf-8")
    for path, fmt in (("deep.json", "taskwarrior"), ("deep-dump.json", "json")):
        result = await import_client.call_tool("import_items", {"path": path, "format": fmt})
        assert result.is_error and "line 1: JSON nested deeper than 64 levels" in text_of(result), text_of(result)
    (roots_dir / "todo.txt").write_text("a\n", encoding="utf-8")
    result = await import_client.call_tool("import_items", {"path": "todo.txt\x00.json"})
    assert result.is_error and text_of(result).startswith("path contains a NUL character"), text_of(result)


def run(home: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", *argv],
        capture_output=True,
        text=True,
        env={**subprocess_env(home), **env},
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


@pytest.mark.slow
def test_the_cli_reads_deep_json_as_one_line(isolated_env: Path, tmp_path: Path) -> None:
    for name, text in (("deep.json", DEEP), ("deep-dump.json", '{"tasks": [{"notes": ' + DEEP + "}]}")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        done = run(isolated_env, "--db", str(tmp_path / "t.db"), "import", str(tmp_path / name))
        assert done.returncode == 2, done.stderr
        assert done.stderr == "mcp-server-todo: line 1: JSON nested deeper than 64 levels; nothing was imported\n"


# -- time zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "shown"), [("TODO_TZ", " (from TODO_TZ)"), ("TZ", " (from TZ)")])
def test_an_unknown_zone_in_the_environment_is_an_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, shown: str
) -> None:
    monkeypatch.delenv("TODO_TZ")
    monkeypatch.setenv(variable, "Nowhere")
    with pytest.raises(InvalidInput) as caught:
        zone()
    assert str(caught.value) == f"unknown time zone 'Nowhere'{shown}; use an IANA name like Europe/Paris"
    with pytest.raises(InvalidInput, match=r"^unknown time zone 'Nowhere'; use an IANA name"):
        zone("Nowhere")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("UTC0", "UTC"),
        ("GMT0", "GMT0"),  # a tzdata name too
        (":Europe/Paris", "Europe/Paris"),
        ("EST5EDT", "EST5EDT"),
        (":/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo"),
    ],
)
def test_a_posix_tz_keeps_working(monkeypatch: pytest.MonkeyPatch, value: str, expected: str) -> None:
    monkeypatch.delenv("TODO_TZ")
    monkeypatch.setenv("TZ", value)
    if value.startswith(":/") and not Path(value[1:]).exists():
        pytest.skip("no system zoneinfo")
    assert str(zone()) == expected


def test_a_posix_rule_leaves_the_system_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TODO_TZ")
    monkeypatch.delenv("TZ", raising=False)
    system = zone()
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    assert zone() == system


@pytest.mark.slow
def test_every_entry_point_says_the_same_line(isolated_env: Path, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    line = "mcp-server-todo: unknown time zone 'Nowhere' (from TODO_TZ); use an IANA name like Europe/Paris\n"
    for argv in (["list"], ["serve"], ["serve", "--http", "--port", "0"]):
        done = run(isolated_env, "--db", str(db), *argv, TODO_TZ="Nowhere")
        assert (done.returncode, done.stderr) == (2, line), argv
    done = run(isolated_env, "--db", str(db), "install", "claude-code", "--print", TODO_TZ="Nowhere")
    assert (done.returncode, done.stderr) == (2, line)
    done = run(isolated_env, "--tz", "Nowhere", "--db", str(db), "list")
    assert (done.returncode, done.stderr) == (
        2,
        "mcp-server-todo: unknown time zone 'Nowhere'; use an IANA name like Europe/Paris\n",
    )
