"""Fuzzing the MCP surface (issue 11, point 13): every tool of `--tools all`, called through the
SDK's in-memory client on a real SQLite file with arbitrary JSON arguments and with arguments
that are nearly valid for the tool's own input schema. After every call:

- the answer is a result or a JSON-RPC error with a valid code;
- nothing was logged at ERROR (bad input is the caller's mistake, not an incident);
- `PRAGMA integrity_check` is ok, and the per-status counts kept by triggers match the rows;
- tasks the call did not name are unchanged (for the tools that may touch any task, undo,
  empty_trash, import_items and the share tools, only the first three are checked).

The server runs on a background event loop (an anyio blocking portal), so one connection and
one store serve every example; the whole test stays well under a minute.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent, Tool

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
"""Calls per run: about 10-20 s here; the time guard below keeps a slow box under the bound.
FUZZ_EXAMPLES=5000 FUZZ_SECONDS=600 for a longer hunt."""
TIME_BOUND = float(os.environ.get("FUZZ_SECONDS", "40"))
"""Seconds after which the remaining examples are skipped (the issue asks for under 60 s)."""

JSONRPC_CODES = {-32700, -32600, -32601, -32602, -32603}
"""The codes the JSON-RPC spec defines; -32000 to -32099 are its server-error range."""

TOUCH_OTHERS = {"undo", "empty_trash", "import_items", "share_project", "unshare_project"}
"""Tools whose effect legitimately reaches tasks the arguments do not name."""


# ---- strategies ----------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.text(st.characters(codec=None, categories=None), max_size=10)  # control characters, surrogates
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
IDS = st.integers(min_value=1, max_value=30) | st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**30])
WEIRD_TEXT = st.text(max_size=40) | st.sampled_from(
    ["", " ", "a\nb", "x\x00y", "\ud800", "x" * 600, '["a", "b"]', "{}", "null", "1e999", "%%%"]
)
HINTS: dict[str, list[str]] = {
    "title": ["Buy milk", "Call Ana\nabout the flat", "Pack:\tpassport", "Plan #trip +work"],
    "notes": ["", "two\nlines", '["milk", "eggs"]'],
    "due": [
        "today",
        "tomorrow 9am",
        "next monday",
        "2026-12-24",
        "2026-12-24T17:00-08:00",
        "overdue",
        "this_week",
        "none",
        "2026-02-30",
        "9999-12-31",
        "0001-01-01",
        "in 3 days",
        "in 99999999 days",
    ],
    "recur": [
        "daily",
        "every weekday",
        "FREQ=WEEKLY;BYDAY=MO",
        "every 2 weeks",
        "daily until 2000-01-01",
        "FREQ=SECONDLY",
        "none",
        "",
    ],
    "project": ["inbox", "work", "home", "Work Stuff"],
    "tag": ["a", "errand"],
    "tags": ["a", "b", "errand"],
    "query": ["milk", "Ana OR flat", '"call', "a*", "NEAR(a b)", "-x", "title:milk"],
    "user": ["ana", "bob", "alice@example.org"],
    "cursor": ["", "bm90LWEtY3Vyc29y", "eyJvIjoxfQ"],
    "content": [
        "(A) Call Mom @phone due:2026-03-08\nx 2026-03-02 Review +Work\n",
        "- [ ] Paint the fence #weekend\n  - [x] Buy paint\n",
        '[{"description": "from taskwarrior", "status": "pending", "uuid": "5f0c5f0c-5f0c-4f0c-8f0c-5f0c5f0c5f0c"}]',
        "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nSUMMARY:From a phone\r\nUID:u1\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
        '{"format": "mcp-server-todo", "schema_version": 1, "tasks": [{"id": 1, "title": "Dumped"}]}',
        "garbage \x00",
        "a\ud800 b\n",
    ],
    "path": ["todo.txt", "../etc/passwd", ""],
}


def for_schema(schema: dict[str, Any], name: str = "", *, wild: bool = True) -> st.SearchStrategy[Any]:
    """Values for one property of an input schema: well-formed ones (so a call gets past
    validation into the service) and, when `wild`, sometimes malformed ones too."""
    if "enum" in schema:
        good: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
        return st.one_of(good, good, good, WEIRD_TEXT) if wild else good
    kind = schema.get("type")
    if kind == "integer":
        return IDS if wild else st.integers(min_value=1, max_value=15)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(for_schema(schema.get("items", {}), name, wild=wild), min_size=0 if wild else 1, max_size=3)
    if kind == "object":
        return object_for(schema, wild=wild)
    if kind == "string":
        hints = HINTS.get(name)
        if not hints:
            return WEIRD_TEXT
        good = st.sampled_from(hints)
        return st.one_of(good, good, good, WEIRD_TEXT) if wild else good
    return JSON


def object_for(schema: dict[str, Any], *, wild: bool) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    if not wild:
        properties = without(properties, "items")  # new_item takes title or items
    required = set(schema.get("required", []))
    if "title" in properties:
        required.add("title")  # new_item needs one (or items)
    if not wild and {"id", "ids"} <= set(properties):
        # exactly one of them, as the tools ask
        return st.one_of(
            object_for({**schema, "properties": without(properties, "ids"), "required": [*required, "id"]}, wild=wild),
            object_for({**schema, "properties": without(properties, "id"), "required": [*required, "ids"]}, wild=wild),
        )
    return st.fixed_dictionaries(
        {name: for_schema(spec, name, wild=wild) for name, spec in properties.items() if name in required},
        optional={name: for_schema(spec, name, wild=wild) for name, spec in properties.items() if name not in required},
    )


def without(properties: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if key != name}


def arguments_for(tool: Tool) -> st.SearchStrategy[dict[str, Any]]:
    """Valid or nearly valid for the tool's schema, and sometimes any JSON value for a
    property, or an unknown property. (The SDK's client sends only objects as arguments.)"""
    properties: dict[str, Any] = tool.input_schema.get("properties", {})
    valid = object_for(tool.input_schema, wild=False)
    nearly = object_for(tool.input_schema, wild=True)
    unknown = st.dictionaries(st.text(max_size=8), JSON, min_size=1, max_size=2)
    if not properties:
        return st.sampled_from([valid, valid, unknown]).flatmap(lambda kind: kind)
    wrong_types = st.dictionaries(st.sampled_from(sorted(properties)), JSON, min_size=1, max_size=3)
    kinds = {"valid": valid, "nearly": nearly, "wrong_types": wrong_types, "unknown": unknown}
    return st.sampled_from(["valid"] * 7 + ["nearly"] * 2 + ["wrong_types", "unknown"]).flatmap(kinds.__getitem__)


# ---- the server and what is checked after each call ------------------------------------


class ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Served:
    """The server with every tool, connected in memory, on a background event loop."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.server = build_server(Config.resolve(str(db), "UTC"), "all")
        self.tools: dict[str, Tool] = {}
        self.started = time.monotonic()

    def call(self, portal: anyio.from_thread.BlockingPortal, client: Client, name: str, args: Any) -> Any:
        try:
            return portal.call(lambda: client.call_tool(name, args, read_timeout_seconds=30))
        except MCPError as exc:
            return exc

    def rows(self) -> dict[int, tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            query = "SELECT * FROM tasks WHERE owner = 'local' ORDER BY id"
            return {row[1]: row for row in db.execute(query)}

    def check_store(self) -> None:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            counts = "SELECT owner, status, project, n FROM task_counts WHERE n != 0"
            rows = "SELECT owner, status, project, count(*) FROM tasks GROUP BY 1, 2, 3"
            counted = {tuple(row[:3]): row[3] for row in db.execute(counts)}
            actual = {tuple(row[:3]): row[3] for row in db.execute(rows)}
            assert counted == actual


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Served, anyio.from_thread.BlockingPortal, Client]]:
    served = Served(tmp_path_factory.mktemp("fuzz") / "todo.db")
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(served.server)) as client,
    ):
        served.tools = {tool.name: tool for tool in portal.call(client.list_tools).tools}
        seed = [
            {"title": "Parent", "project": "work", "tags": ["a"], "due": "tomorrow"},
            {"title": "Child", "parent_id": 1, "priority": "high"},
            {"title": "Repeats", "due": "today", "recur": "every day"},
            {"title": "Waits", "depends_on": [1]},
            {"title": "Plain"},
            {"title": "Trashed"},
        ]
        for args in seed:
            result = served.call(portal, client, "new_item", args)
            assert isinstance(result, CallToolResult) and not result.is_error, result
        served.call(portal, client, "delete_item", {"id": 6})
        served.started = time.monotonic()
        yield served, portal, client


@st.composite
def calls(draw: st.DrawFn, tools: list[Tool]) -> tuple[str, dict[str, Any]]:
    tool = draw(st.sampled_from(tools))
    args = draw(arguments_for(tool))
    return tool.name, args


def named_ids(value: Any) -> set[int]:
    """Every integer anywhere in the arguments (a task id the call may touch)."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {value}
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return {int(value)}
    if isinstance(value, str):
        # what int() itself takes: ASCII blanks around the digits (re's \s also matches
        # characters such as U+001F, which int() refuses)
        return {int(value)} if re.fullmatch(r"[ \t\n\r\f\v]*[0-9]{1,19}[ \t\n\r\f\v]*", value) else set()
    if isinstance(value, dict):
        return set().union(*(named_ids(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(named_ids(v) for v in value)) if value else set()
    return set()


def related(rows: dict[int, tuple[Any, ...]], ids: set[int]) -> set[int]:
    """The named tasks and their subtasks, at any depth (with_subtasks, deleting a parent)."""
    found = set(ids)
    grew = True
    while grew:
        children = {task_id for task_id, row in rows.items() if row[14] in found and task_id not in found}
        found |= children
        grew = bool(children)
    return found


def answer_text(answer: Any) -> str:
    if isinstance(answer, MCPError):
        return answer.message
    return " ".join(c.text for c in answer.content if isinstance(c, TextContent))


def test_every_tool_survives_arbitrary_arguments(
    served: tuple[Served, anyio.from_thread.BlockingPortal, Client],
) -> None:
    server, portal, client = served
    tools = sorted(server.tools.values(), key=lambda tool: tool.name)
    assert len(tools) >= 12, [tool.name for tool in tools]  # --tools all

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(calls(tools))
    @example(("new_item", {"title": "Call Ana\nabout the flat\tnow", "notes": '["a"]', "tags": '["a"]'}))
    @example(("update_item", {"id": 1, "due": "in 99999999 days"}))  # found by this fuzz: a date overflow
    @example(("import_items", {"content": "a\ud800 b\n", "dry_run": False}))  # found: a lone surrogate in an import
    def one_call(call: tuple[str, Any]) -> None:
        if time.monotonic() - server.started > TIME_BOUND:
            return
        name, args = call
        before = server.rows()
        errors = ErrorRecords()
        root = logging.getLogger()
        root.addHandler(errors)
        try:
            answer = server.call(portal, client, name, args)
        finally:
            root.removeHandler(errors)
        text = answer_text(answer)
        kind = "rpc" if isinstance(answer, MCPError) else "err" if answer.is_error else "ok"
        outcomes.setdefault(name, {}).setdefault(kind, 0)
        outcomes[name][kind] += 1
        logged = "\n".join(
            f"{r.name}: {r.getMessage()} {r.exc_info[1]!r}" if r.exc_info else f"{r.name}: {r.getMessage()}"
            for r in errors.records
        )
        if isinstance(answer, MCPError):
            code = answer.code
            assert code in JSONRPC_CODES or -32099 <= code <= -32000, (name, args, code, text)
        else:
            assert isinstance(answer, CallToolResult), (name, args, answer)
            assert "internal error" not in text and "Traceback" not in text, (name, args, text)
        assert not errors.records, (name, args, logged)
        server.check_store()
        if name in TOUCH_OTHERS:
            return
        after = server.rows()
        annotations = server.tools[name].annotations
        read_only = bool(annotations and annotations.read_only_hint)
        touched = set() if read_only else related(before, named_ids(args))
        for task_id, row in before.items():
            if task_id not in touched:
                assert after.get(task_id) == row, (name, args, task_id, row, after.get(task_id))

    outcomes: dict[str, dict[str, int]] = {}
    one_call()
    # the fuzz reached past validation into the service, for reads and writes alike
    ok = {name: counts.get("ok", 0) for name, counts in outcomes.items()}
    assert sum(ok.values()) >= 0.1 * sum(sum(counts.values()) for counts in outcomes.values()), outcomes
    assert ok.get("new_item") and ok.get("list_items") and ok.get("history"), outcomes
