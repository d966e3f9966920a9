"""The real server over stdio, as a subprocess: the SDK client's dialog, restarts, a battery
of bad input over raw pipes, Unicode round trips and stdout hygiene. No mocks."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from support.env import server_command, subprocess_env
from support.rawclient import RawServer, is_jsonrpc_message

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


# ---- helpers -----------------------------------------------------------------------------


def db_snapshot(db: Path) -> dict[str, Any]:
    """Every row of every table, read straight from the file (read-only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        assert {"tasks", "changes"} <= set(tables), tables
        return {table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr) for table in tables}
    finally:
        conn.close()


def stored_titles(db: Path) -> dict[int, tuple[str, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {row[0]: (row[1], row[2]) for row in conn.execute("SELECT id, title, status FROM tasks")}
    finally:
        conn.close()


def text_of(result: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


# ---- 1. the tutorial's dialog through the SDK's stdio client -----------------------------


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_tutorial_dialog_through_sdk_stdio_client(mode: str, db_path: Path, isolated_env: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=server_command(db_path)[1:],
        env=subprocess_env(isolated_env),
    )

    async def dialog() -> None:
        with anyio.fail_after(60):
            async with Client(params, mode=mode, read_timeout_seconds=30) as client:
                expected_version = "2025-11-25" if mode == "legacy" else "2026-07-28"
                assert client.protocol_version == expected_version

                seeded = await client.call_tool("new_item", {"title": "Buy groceries"})
                assert not seeded.is_error, seeded
                groceries_id = seeded.structured_content["items"][0]["id"]

                listed = await client.call_tool("list_items", {})
                assert not listed.is_error
                assert [t["title"] for t in listed.structured_content["items"]] == ["Buy groceries"]
                assert f"#{groceries_id} Buy groceries" in listed.content[0].text

                added = await client.call_tool("new_item", {"title": "Book a dentist appointment"})
                assert not added.is_error
                dentist_id = added.structured_content["items"][0]["id"]
                assert dentist_id != groceries_id
                assert added.content[0].text == f"Added #{dentist_id} Book a dentist appointment"

                done = await client.call_tool("complete_item", {"id": groceries_id})
                assert not done.is_error
                assert done.structured_content["items"][0]["status"] == "done"
                assert done.content[0].text.startswith(f"Completed #{groceries_id} Buy groceries")

                listed = await client.call_tool("list_items", {})
                items = listed.structured_content["items"]
                assert [(t["id"], t["title"]) for t in items] == [(dentist_id, "Book a dentist appointment")]
                assert "Buy groceries" not in listed.content[0].text
                assert listed.content[0].text.startswith(f"#{dentist_id} Book a dentist appointment")

    anyio.run(dialog)
    assert stored_titles(db_path) == {
        1: ("Buy groceries", "done"),
        2: ("Book a dentist appointment", "pending"),
    }


# ---- 2. persistence across restarts ------------------------------------------------------


def test_tasks_survive_restart_and_ids_are_never_reused(db_path: Path, isolated_env: Path) -> None:
    with RawServer(db_path, isolated_env) as first:
        first.initialize()
        ids = [first.task("new_item", {"title": f"task {n}", "tags": ["keep"]})["id"] for n in range(1, 4)]
        assert ids == [1, 2, 3]
        first.ok("complete_item", {"id": 2})
        undone = first.ok("undo")
        assert undone["undone"][0]["op"] == "complete"
        first.ok("complete_item", {"id": 1})
        assert first.close() == 0

    with RawServer(db_path, isolated_env) as second:
        second.initialize()
        items = second.ok("list_items", {"status": "all"})["items"]
        assert [(t["id"], t["title"], t["status"], t["tags"]) for t in items] == [
            (1, "task 1", "done", ["keep"]),
            (2, "task 2", "pending", ["keep"]),
            (3, "task 3", "pending", ["keep"]),
        ]
        # undo an add: the task goes, its id stays spent
        assert second.task("new_item", {"title": "task 4"})["id"] == 4
        undone = second.ok("undo")["undone"]
        assert [(u["op"], u["id"], u.get("status")) for u in undone] == [("add", 4, None)]
        assert second.close() == 0

    with RawServer(db_path, isolated_env) as third:
        third.initialize()
        assert [t["id"] for t in third.ok("list_items", {"status": "all"})["items"]] == [1, 2, 3]
        assert third.task("new_item", {"title": "task 5"})["id"] == 5
        assert third.close() == 0

    assert sorted(stored_titles(db_path)) == [1, 2, 3, 5]


# ---- 3. a battery of bad input over raw stdio --------------------------------------------


@dataclass(frozen=True)
class Bad:
    name: str
    line: bytes
    code: int | None = None
    """The JSON-RPC error code expected; None means a tool result with isError true."""
    words: tuple[str, ...] = ()
    """Words the error message (or the tool error text) must contain, case-insensitively."""
    reply_id: Any = None
    """The id the answer must carry (None: JSON null, the request's id could not be read)."""
    marks: tuple[Any, ...] = field(default=())


def rpc(request_id: Any, method: Any, params: Any = None, **extra: Any) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    message.update(extra)
    return json.dumps(message).encode("utf-8")


def tool_call(request_id: Any, tool: str, arguments: Any) -> bytes:
    return rpc(request_id, "tools/call", {"name": tool, "arguments": arguments})


def bad_tool(name: str, tool: str, arguments: Any, *words: str, marks: tuple[Any, ...] = ()) -> Bad:
    return Bad(name, tool_call(name, tool, arguments), None, words, name, marks)


PARSE, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
HUGE_INT_ID = 10**40
HUGE_STR_ID = "x" * 100_000
TAGS_21 = [f"t{n}" for n in range(21)]
TOO_BIG_FOR_SQLITE = 2**63

BATTERY: list[Bad] = [
    # not JSON at all
    Bad("malformed-json", b'{"jsonrpc": "2.0", "id": 1, "method": ping}', PARSE, ("parse error",)),
    Bad("truncated-json", b'{"jsonrpc":"2.0","id":2,"method":"tools/list"', PARSE, ("parse error",)),
    Bad("invalid-utf8", b'{"jsonrpc":"2.0","id":3,"method":"p\xff\xfeing"}', PARSE, ("utf-8",)),
    Bad("latin1-bytes", b'{"jsonrpc":"2.0","id":4,"method":"tools/list","x":"caf\xe9"}', PARSE, ("utf-8",)),
    Bad("garbage", b"\x00\x01\x02 hello", PARSE, ("parse error",)),
    # JSON, but not a JSON-RPC message
    Bad("json-string", b'"tools/list"', INVALID_REQUEST, ("json object",)),
    Bad("json-number", b"42", INVALID_REQUEST, ("json object",)),
    Bad("json-null", b"null", INVALID_REQUEST, ("json object",)),
    Bad("json-true", b"true", INVALID_REQUEST, ("json object",)),
    Bad("empty-object", b"{}", INVALID_REQUEST, ("jsonrpc",)),
    Bad("empty-batch", b"[]", INVALID_REQUEST, ("batch",)),
    Bad("batch", b"[" + rpc("b1", "ping") + b"," + rpc("b2", "tools/list") + b"]", INVALID_REQUEST, ("batch",)),
    Bad("jsonrpc-1.0", rpc("v1", "ping", jsonrpc="1.0"), INVALID_REQUEST, ("jsonrpc", "2.0"), "v1"),
    Bad("jsonrpc-number", rpc("v2", "ping", jsonrpc=2), INVALID_REQUEST, ("jsonrpc",), "v2"),
    Bad("jsonrpc-missing", b'{"id":"v3","method":"ping"}', INVALID_REQUEST, ("jsonrpc",), "v3"),
    Bad("id-true", rpc(True, "ping"), INVALID_REQUEST, ("id",)),
    Bad("id-null", rpc(None, "ping"), INVALID_REQUEST, ("id",)),
    Bad("id-object", rpc({"a": 1}, "ping"), INVALID_REQUEST, ("id",)),
    Bad("id-array", rpc([1], "ping"), INVALID_REQUEST, ("id",)),
    Bad("id-float", rpc(1.5, "ping"), INVALID_REQUEST, ("id",)),
    Bad("method-number", rpc("m1", 123), INVALID_REQUEST, ("method",), "m1"),
    Bad("method-null", rpc("m2", None), INVALID_REQUEST, ("method",), "m2"),
    Bad("params-string", rpc("p1", "tools/list", "all"), INVALID_REQUEST, ("params",), "p1"),
    Bad("params-array", rpc("p2", "tools/call", ["list_items"]), INVALID_REQUEST, ("params",), "p2"),
    Bad(
        "notification-params-string",
        b'{"jsonrpc":"2.0","method":"notifications/initialized","params":"x"}',
        INVALID_REQUEST,
        ("params",),
    ),
    # valid messages the server cannot serve
    Bad("unknown-method", rpc("u1", "tasks/explode"), METHOD_NOT_FOUND, ("method not found",), "u1"),
    Bad("call-without-name", rpc("u2", "tools/call", {"arguments": {}}), INVALID_PARAMS, ("invalid",), "u2"),
    Bad("arguments-array", tool_call("u3", "list_items", ["pending"]), INVALID_PARAMS, ("invalid",), "u3"),
    bad_tool("unknown-tool", "drop_database", {}, "unknown tool", "drop_database"),
    # wrong argument types (ids are strict integers: `true` and "3" are not ids)
    bad_tool("id-true-arg", "complete_item", {"id": True}, "id", "valid integer"),
    bad_tool("id-string-arg", "complete_item", {"id": "3"}, "id", "valid integer"),
    bad_tool("id-float-arg", "delete_item", {"id": 1.5}, "id", "valid integer"),
    bad_tool("id-whole-float-arg", "complete_item", {"id": 2.0}, "id", "valid integer"),
    bad_tool("id-negative", "complete_item", {"id": -1}, "positive task id", "-1"),
    bad_tool("id-zero", "delete_item", {"id": 0}, "positive task id"),
    bad_tool("id-missing", "complete_item", {}, "give id"),
    bad_tool("id-unknown", "complete_item", {"id": 999}, "no pending task 999", "list_items"),
    bad_tool("delete-unknown", "delete_item", {"id": 998}, "998", "does not exist"),
    bad_tool("update-nothing", "update_item", {"id": 1}, "nothing to update"),
    bad_tool("update-id-true", "update_item", {"id": True, "title": "hijack"}, "id", "valid integer"),
    bad_tool("parent-true", "new_item", {"title": "child", "parent_id": True}, "parent_id", "valid integer"),
    bad_tool("parent-unknown", "new_item", {"title": "orphan", "parent_id": 777}, "no parent task 777"),
    bad_tool("title-number", "new_item", {"title": 123}, "title", "valid string"),
    bad_tool("title-null", "new_item", {"title": None}, "title is required"),
    bad_tool("title-missing", "new_item", {"notes": "no title"}, "title", "required"),
    bad_tool("tags-not-list", "new_item", {"title": "tagged", "tags": "x"}, "tags", "valid list"),
    bad_tool("tags-21", "new_item", {"title": "tagged", "tags": TAGS_21}, "21 tags", "at most 20"),
    bad_tool("tag-51-chars", "new_item", {"title": "tagged", "tags": ["t" * 51]}, "51 characters", "50"),
    bad_tool("tag-with-space", "new_item", {"title": "tagged", "tags": ["two words"]}, "space"),
    bad_tool("priority-unknown", "new_item", {"title": "urgent", "priority": "urgent"}, "priority"),
    bad_tool("status-unknown", "list_items", {"status": "archived"}, "status"),
    bad_tool("limit-0", "list_items", {"limit": 0}, "between 1 and 500", "0"),
    bad_tool("limit-501", "list_items", {"limit": 501}, "between 1 and 500", "501"),
    bad_tool("limit-string", "list_items", {"limit": "10"}, "limit", "valid integer"),
    bad_tool("limit-huge", "list_items", {"limit": 10**30}, "between 1 and 500"),
    # field rules
    bad_tool("title-empty", "new_item", {"title": ""}, "title is empty"),
    bad_tool("title-whitespace", "new_item", {"title": " \t  "}, "title is empty"),
    bad_tool("title-501", "new_item", {"title": "a" * 501}, "501 characters", "limit is 500"),
    bad_tool("title-1mb", "new_item", {"title": "b" * 1_000_000}, "1000000 characters", "limit is 500"),
    bad_tool("title-nul", "new_item", {"title": "nul\x00byte"}, "nul character"),
    bad_tool("title-vertical-tab", "new_item", {"title": "two\x0blines"}, "control character", "U+000B"),
    bad_tool("title-escape-char", "new_item", {"title": "bell\x07"}, "control character", "U+0007"),
    bad_tool("title-lone-surrogate", "new_item", {"title": "half \ud800 a pair"}, "surrogate"),
    bad_tool("update-title-empty", "update_item", {"id": 1, "title": "  "}, "title is empty"),
    bad_tool("notes-10001", "new_item", {"title": "noted", "notes": "n" * 10_001}, "10001", "10000"),
    bad_tool("notes-surrogate", "new_item", {"title": "noted", "notes": "\udfff"}, "surrogate"),
    bad_tool("due-impossible", "new_item", {"title": "someday", "due": "2026-13-45"}, "not a real date"),
    bad_tool("due-nonsense", "new_item", {"title": "someday", "due": "next blue moon"}, "not understood"),
    bad_tool("due-bound-bad", "list_items", {"due": "2026-02-30"}, "not a real date"),
    bad_tool("unknown-argument", "list_items", {"due_before": "2026-02-28"}, "unknown argument", "due_before"),
    bad_tool("cursor-unknown", "list_items", {"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
    bad_tool("cursor-garbage", "list_items", {"cursor": "%%%"}, "cursor"),
    bad_tool("project-empty", "new_item", {"title": "p", "project": "  "}, "project is empty"),
    # values that would reach SQLite unchecked without the id and query rules
    bad_tool(
        "id-beyond-int64",
        "complete_item",
        {"id": TOO_BIG_FOR_SQLITE},
        str(TOO_BIG_FOR_SQLITE),
    ),
    bad_tool(
        "parent-beyond-int64",
        "new_item",
        {"title": "child", "parent_id": TOO_BIG_FOR_SQLITE},
        str(TOO_BIG_FOR_SQLITE),
    ),
    bad_tool(
        "query-lone-surrogate",
        "list_items",
        {"query": "\ud800"},
        "surrogate",
    ),
]

# a huge id is a valid id: it comes back unchanged
HUGE_IDS = [HUGE_INT_ID, -HUGE_INT_ID, HUGE_STR_ID]


@pytest.fixture(scope="module")
def battery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RawServer, dict[str, Any]]]:
    """One server for the whole battery, seeded with three tasks, and the db as seeded."""
    root = tmp_path_factory.mktemp("battery")
    home = root / "home"
    home.mkdir()
    db = root / "todo.db"
    with RawServer(db, home) as server:
        server.initialize()
        for title in ("first", "second", "third"):
            server.ok("new_item", {"title": title, "tags": ["seed"]})
        server.ok("complete_item", {"id": 3})
        yield server, db_snapshot(db)


def _check_answer(answer: dict[str, Any], case: Bad) -> None:
    assert is_jsonrpc_message(answer), answer
    if case.code is not None:
        assert "error" in answer, f"{case.name}: expected a JSON-RPC error, got {answer}"
        error = answer["error"]
        assert error["code"] == case.code, answer
        said = error["message"] + " " + json.dumps(error.get("data"))
    else:
        assert "result" in answer, f"{case.name}: expected a tool result, got {answer}"
        result = answer["result"]
        assert result.get("isError") is True, f"{case.name}: expected isError, got {result}"
        said = text_of(result)
        assert "structuredContent" not in result or not result["structuredContent"], result
    for word in case.words:
        assert word.lower() in said.lower(), f"{case.name}: {word!r} not in {said!r}"


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name, marks=case.marks) for case in BATTERY])
def test_bad_input_is_answered_and_changes_nothing(battery: tuple[RawServer, dict[str, Any]], case: Bad) -> None:
    server, _ = battery
    before = db_snapshot(server.db)
    server.send_bytes(case.line)
    answer = server.wait_for(case.reply_id)
    server.assert_alive()
    assert db_snapshot(server.db) == before, f"{case.name} changed the database"
    _check_answer(answer, case)


@pytest.mark.parametrize("request_id", HUGE_IDS, ids=["huge-int", "huge-negative-int", "100k-char-string"])
def test_huge_request_ids_come_back_unchanged(battery: tuple[RawServer, dict[str, Any]], request_id: int | str) -> None:
    server, _ = battery
    server.send_bytes(rpc(request_id, "ping"))
    assert server.wait_for(request_id) == {"jsonrpc": "2.0", "id": request_id, "result": {}}
    server.send_bytes(tool_call(request_id, "list_items", {"status": "all"}))
    answer = server.wait_for(request_id)
    assert [t["title"] for t in answer["result"]["structuredContent"]["items"]] == ["first", "second", "third"]
    server.assert_alive()


def test_after_the_battery_only_the_valid_calls_are_stored(battery: tuple[RawServer, dict[str, Any]]) -> None:
    server, seeded = battery
    server.assert_alive()
    assert db_snapshot(server.db) == seeded
    items = server.ok("list_items", {"status": "all"})["items"]
    assert [(t["id"], t["title"], t["status"], t["tags"]) for t in items] == [
        (1, "first", "pending", ["seed"]),
        (2, "second", "pending", ["seed"]),
        (3, "third", "done", ["seed"]),
    ]
    # the next id is still 4: no bad call consumed an id
    assert server.task("new_item", {"title": "fourth"})["id"] == 4
    assert server.ok("undo")["undone"][0]["id"] == 4


# Lone surrogates that the server echoes back (a method or tool name, a string id, a
# mistyped argument quoted in the error text) end up in a reply that cannot be encoded as
# UTF-8: the writer task dies, the server stops answering (no reply, ever) and exits with
# code 1 at the next line it reads.
SURROGATE_ECHOES = [
    pytest.param(rpc("s1", "tools/\ud800"), "s1", id="method-name"),
    pytest.param(tool_call("s2", "list\ud800items", {}), "s2", id="tool-name"),
    pytest.param(rpc("\ud800", "ping"), "\ud800", id="request-id"),
    pytest.param(tool_call("s3", "new_item", {"title": "ok", "priority": "\ud800"}), "s3", id="priority-arg"),
    pytest.param(tool_call("s4", "complete_item", {"id": "\ud800"}), "s4", id="id-arg"),
]


@pytest.mark.parametrize(("line", "reply_id"), SURROGATE_ECHOES)
def test_lone_surrogate_echoed_in_a_reply_does_not_kill_the_server(
    line: bytes, reply_id: str, db_path: Path, isolated_env: Path
) -> None:
    with RawServer(db_path, isolated_env) as server:
        server.initialize()
        server.send_bytes(line)
        answer = server.wait_for(reply_id, timeout=2)  # a live server answers in milliseconds
        assert is_jsonrpc_message(answer), answer
        assert "error" in answer or "result" in answer, answer
        server.assert_alive()


def test_requests_before_initialize_are_answered(db_path: Path, isolated_env: Path) -> None:
    with RawServer(db_path, isolated_env) as server:
        server.send_bytes(rpc("early-list", "tools/list"))
        early_list = server.wait_for("early-list")
        server.send_bytes(tool_call("early-add", "new_item", {"title": "too early"}))
        early_add = server.wait_for("early-add")
        server.send_bytes(rpc("early-ping", "ping"))
        early_ping = server.wait_for("early-ping")

        # tools need the handshake first: an error, not silence (the SDK 2.3 answers -32602
        # "Invalid request parameters"), and nothing is written
        for early in (early_list, early_add):
            assert is_jsonrpc_message(early) and "error" in early, early
            assert isinstance(early["error"]["code"], int) and early["error"]["code"] < 0, early
        assert early_ping == {"jsonrpc": "2.0", "id": "early-ping", "result": {}}

        server.initialize()
        server.assert_alive()
        assert server.ok("list_items", {"status": "all"})["items"] == []
        assert server.task("new_item", {"title": "on time"})["id"] == 1
    assert stored_titles(db_path) == {1: ("on time", "pending")}


# ---- Unicode is stored and returned exactly ----------------------------------------------

UNICODE_TITLES = [
    "🧪 Test the 🚀 launch 🎉",
    "買い物リスト：牛乳と卵 / 买菜 / 장보기",
    "שלום עולם — مرحبا بالعالم",
    "Cafe\u0301 n\u0303 A\u030a (decomposed, not NFC)",
    "Café ñ Å (precomposed)",
    "👩‍👩‍👧‍👦 family, 👨🏽‍💻 coder, 🏳️‍🌈 flag",
    "Z̴̡̛a̷l̸g̶o̵ text",
    "\u200fRTL mark and zero\u200bwidth\u200dspace",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 outside the BMP 𐍈",
]


def test_unicode_titles_round_trip_exactly(db_path: Path, isolated_env: Path) -> None:
    notes = "line 1: ünïcödé\nline 2: 日本語\ttab 🎌"
    with RawServer(db_path, isolated_env) as server:
        server.initialize()
        for title in UNICODE_TITLES:
            result = server.call("new_item", {"title": title, "notes": notes, "tags": ["日本", "café"]})
            assert not result.get("isError"), result
            task = result["structuredContent"]["items"][0]
            assert task["title"] == title
            assert text_of(result) == f"Added #{task['id']} {title} | #日本 #café"
        listed = server.call("list_items", {})
        items = listed["structuredContent"]["items"]
        assert [t["title"] for t in items] == UNICODE_TITLES
        assert all(t["notes"] == notes and t["tags"] == ["日本", "café"] for t in items)
        lines = text_of(listed).splitlines()
        for n, title in enumerate(UNICODE_TITLES, start=1):
            assert lines[n - 1] == f"#{n} {title} | #日本 #café"
        found = server.ok("list_items", {"query": "日本語"})
        assert found["total"] == len(UNICODE_TITLES)
        by_tag = server.ok("list_items", {"tag": "CAFÉ"})
        assert by_tag["total"] == len(UNICODE_TITLES)
        assert server.close() == 0

    assert {n: title for n, (title, _) in stored_titles(db_path).items()} == dict(enumerate(UNICODE_TITLES, start=1))
    with RawServer(db_path, isolated_env) as again:
        again.initialize()
        items = again.ok("list_items", {})["items"]
        assert [t["title"] for t in items] == UNICODE_TITLES
        assert [t["title"].encode("utf-8") for t in items] == [t.encode("utf-8") for t in UNICODE_TITLES]


# ---- 4. stdout carries JSON-RPC only; logs go to stderr ----------------------------------


def test_stdout_is_only_jsonrpc_and_logs_go_to_stderr(db_path: Path, isolated_env: Path) -> None:
    with RawServer(db_path, isolated_env, "--log-level", "DEBUG") as server:
        server.initialize()
        server.ok("new_item", {"title": "hygiene", "notes": "x" * 2000})
        server.call("new_item", {"title": ""})
        server.call("complete_item", {"id": 12345})
        server.ok("list_items", {"status": "all"})
        for case in BATTERY[:12]:
            server.send_bytes(case.line)
            server.wait_for(case.reply_id)
        server.send_bytes(b"")
        server.send_bytes(b"   ")
        server.assert_alive()
        assert server.close() == 0
        stderr = server.stderr()

    assert server.lines, "nothing on stdout"
    for raw in server.lines:
        assert raw.endswith(b"\n"), raw
        message = json.loads(raw.decode("utf-8"))
        assert is_jsonrpc_message(message), raw
    # every request got exactly one answer; anything else is a notification
    messages = [json.loads(raw) for raw in server.lines]
    answered = [m for m in messages if "id" in m]
    assert all("result" in m or "error" in m for m in answered)
    assert all(m["method"].startswith("notifications/") for m in messages if "id" not in m)
    assert len(answered) == 1 + 4 + 12 + 2
    assert "DEBUG" in stderr
    assert "answered a malformed message" in stderr


def test_requests_sent_just_before_stdin_closes_are_still_answered(db_path: Path, isolated_env: Path) -> None:
    """`printf ... | mcp-server-todo`: the client writes its requests and closes stdin at once."""
    import subprocess

    lines = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "pipe", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "new_item", "arguments": {"title": "a"}},
        },
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_items", "arguments": {}}},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines).encode()
    done = subprocess.run(
        server_command(db_path), input=stdin, capture_output=True, env=subprocess_env(isolated_env), timeout=60
    )
    assert done.returncode == 0, done.stderr
    answers = {m["id"]: m for m in map(json.loads, done.stdout.splitlines()) if "id" in m}
    assert sorted(answers) == [1, 2, 3]
    assert answers[3]["result"]["content"][0]["text"] == "#1 a"
