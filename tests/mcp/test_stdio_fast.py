"""Over stdio a `tools/call` of a tool that needs no back channel is answered by the server's
kernel directly (transports/stdio_fast.py). The real stdio transport in this process, on OS
pipes, a real SQLite file: the same dialog with the short path on and off (TODO_STDIO_FAST=0)
gets the same bytes, line for line."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
import pytest
from mcp.server.mcpserver.resolve import ElicitationResult, Resolve
from support.pipes import StdioPipes

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server
from mcp_server_todo.server.context import Ctx
from mcp_server_todo.server.tools.registry import tools
from mcp_server_todo.server.tools.trash import Confirm
from mcp_server_todo.server.toolset import DESTRUCTIVE, ToolSet
from mcp_server_todo.transports import stdio_fast
from mcp_server_todo.transports.stdio import serve_stdio

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

HANDSHAKE = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}
ELICITING = HANDSHAKE | {"capabilities": {"elicitation": {}}}
STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?|[0-9a-f]{32}")


class Client(StdioPipes):
    """The client's ends of a server's stdin and stdout; answers kept as the raw lines written."""

    def line(self, timeout: float = 10) -> bytes:
        line = self.raw_line(timeout)
        assert line is not None, "no answer"
        return line

    def answer(self, request_id: int) -> bytes:
        while True:
            line = self.line()
            if json.loads(line).get("id") == request_id:
                return line

    def call(self, name: str, arguments: Any, **extra: Any) -> bytes:
        return self.answer(self.send("tools/call", {"name": name, "arguments": arguments, **extra}))


@contextmanager
def dialog(db: Path, monkeypatch: pytest.MonkeyPatch, on: bool, init: dict[str, Any]) -> Iterator[Client]:
    """A stdio server on `db` in a thread, initialized with `init`; stopped by closing stdin."""
    monkeypatch.setenv("TODO_STDIO_FAST", "1" if on else "0")
    client = Client()
    failed: list[BaseException] = []

    async def serving() -> None:
        server = build_server(Config.resolve(str(db), "UTC"), "all")
        await serve_stdio(server, stdin=client.server_in, stdout=client.server_out)

    def run() -> None:
        try:
            anyio.run(serving)
        except BaseException as exc:  # shown by the test
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        client.answer(client.send("initialize", init))
        client.send("notifications/initialized", notify=True)
        yield client
    finally:
        os.close(client.to_server)
        thread.join(30)
        assert not failed, failed
        assert not thread.is_alive(), "the server did not stop at the end of stdin"


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[stdio_fast.StdioFastPath]:
    """The short paths made (each counts the calls it answered)."""
    made: list[stdio_fast.StdioFastPath] = []
    real = stdio_fast.StdioFastPath.__init__

    def init(self: stdio_fast.StdioFastPath, *args: Any) -> None:
        real(self, *args)
        made.append(self)

    monkeypatch.setattr(stdio_fast.StdioFastPath, "__init__", init)
    return made


DIALOG: list[tuple[str, Any]] = [
    ("new_item", {"title": "buy milk", "priority": "high", "tags": ["home"]}),
    ("new_item", {"items": [{"title": "a"}, {"title": "b", "parent_id": -1}]}),
    ("list_items", {}),
    ("complete_item", {"id": 1}),
    ("complete_item", {"id": 2}),  # open subtask: refused
    ("complete_item", {"id": 99}),  # unknown id: a tool error
    ("new_item", {"title": 5}),  # invalid arguments
    ("new_item", {"title": "x", "colour": "red"}),  # an unknown argument
    ("new_item", "not an object"),  # bad params: the SDK's validation error
    ("no_such_tool", {}),  # an unknown tool
    ("update_item", {"id": 3, "title": "b2"}),
    ("delete_item", {"ids": [1, 3], "confirm": True}),
    ("undo", {}),
    ("history", {}),
    ("list_shares", {}),
    ("show_tasks", {"status": "all"}),
    ("list_items", {"status": "all"}),
]


def dialog_lines(db: Path, monkeypatch: pytest.MonkeyPatch, on: bool, version: str) -> list[bytes]:
    with dialog(db, monkeypatch, on, HANDSHAKE | {"protocolVersion": version}) as client:
        lines = [client.call(name, arguments) for name, arguments in DIALOG]
        progress = {"_meta": {"progressToken": "p1"}}
        lines.append(client.call("list_items", {}, **progress))  # a progress token: the SDK's
        lines.append(client.answer(client.send("tools/list")))
        client.send("tools/call", {"arguments": {}})  # no name
        lines.append(client.line())
    return [STAMP.sub(b"<stamp>", line) for line in lines]


@pytest.mark.parametrize("version", ["2025-11-25", "2025-06-18"])
def test_a_dialog_answers_byte_for_byte_the_same_on_the_short_path_and_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answered: list[stdio_fast.StdioFastPath], version: str
) -> None:
    short = dialog_lines(tmp_path / "a.db", monkeypatch, True, version)
    sdk = dialog_lines(tmp_path / "b.db", monkeypatch, False, version)
    assert short == sdk
    assert len(answered) == 1, "TODO_STDIO_FAST=0 made no short path"
    # every call of the dialog but delete_item (it may ask the user) and the unknown tool
    assert answered[0].answered == len(DIALOG) - 2
    errors = [json.loads(line) for line in short]
    assert errors[5]["result"]["isError"] is True and "error" in errors[8] and errors[9]["result"]["isError"]


def test_only_tools_declared_without_a_back_channel_take_it() -> None:
    quiet = tools.without_back_channel()
    assert {"new_item", "complete_item", "list_items", "update_item", "undo"} <= quiet
    assert not {"delete_item", "empty_trash", "import_items"} & quiet  # they elicit, or read the roots
    for tool in tools.select("all"):
        if tool.name in quiet:
            assert not tool.resolved_params, tool.name


def test_while_a_request_runs_in_the_sdk_calls_go_to_the_sdk_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answered: list[stdio_fast.StdioFastPath]
) -> None:
    with dialog(tmp_path / "todo.db", monkeypatch, True, ELICITING) as client:
        client.call("new_item", {"items": [{"title": "a"}, {"title": "b"}]})
        deleting = client.send("tools/call", {"name": "delete_item", "arguments": {"ids": [1, 2]}})
        ask = json.loads(client.line())
        assert ask["method"] == "elicitation/create"
        listing = client.send("tools/call", {"name": "list_items", "arguments": {}})
        # given to the SDK too (which runs it beside the waiting delete), so it can overtake
        # nothing the SDK would not let it overtake
        listed = json.loads(client.answer(listing))
        assert len(listed["result"]["structuredContent"]["items"]) == 2
        client.write({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"confirm": True}}})
        assert "Deleted" in json.loads(client.answer(deleting))["result"]["content"][0]["text"]
        assert answered[0].answered == 1  # the first add only
        client.call("list_items", {})
        assert answered[0].answered == 2  # the SDK has nothing running: short again


def test_a_2026_connection_goes_to_the_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answered: Any) -> None:
    monkeypatch.setenv("TODO_STDIO_FAST", "1")
    client = Client()
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }

    async def serving() -> None:
        server = build_server(Config.resolve(str(tmp_path / "todo.db"), "UTC"), "core")
        await serve_stdio(server, stdin=client.server_in, stdout=client.server_out)

    thread = threading.Thread(target=anyio.run, args=(serving,), daemon=True)
    thread.start()
    try:
        reply = json.loads(client.call("new_item", {"title": "a"}, _meta=meta))
        assert reply["result"]["structuredContent"]["items"][0]["title"] == "a"
    finally:
        os.close(client.to_server)
        thread.join(30)
    assert answered[0].answered == 0


def cancelled_dialog(db: Path, monkeypatch: pytest.MonkeyPatch, on: bool) -> list[Any]:
    """A write that waits for another process's lock, cancelled by the client while it waits."""
    with dialog(db, monkeypatch, on, HANDSHAKE) as client:
        client.call("new_item", {"title": "first"})
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the write lock, as another process would hold it
        waiting = client.send("tools/call", {"name": "new_item", "arguments": {"title": "second"}})
        time.sleep(0.3)  # it reached the lock (a worker thread waits on it)
        client.send("notifications/cancelled", {"requestId": waiting, "reason": "the user gave up"}, notify=True)
        time.sleep(0.1)
        other.execute("ROLLBACK")
        other.close()
        listing = client.send("tools/call", {"name": "list_items", "arguments": {"status": "all"}})
        seen: list[Any] = []
        while not seen or seen[-1] != listing:
            message = json.loads(client.line())
            if "id" in message:  # not a resource notification
                seen.append(message["id"])
    return seen


def test_a_cancelled_call_is_not_answered_on_the_short_path_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answered: list[stdio_fast.StdioFastPath]
) -> None:
    short = cancelled_dialog(tmp_path / "a.db", monkeypatch, on=True)
    assert answered[0].answered >= 2
    assert short == cancelled_dialog(tmp_path / "b.db", monkeypatch, on=False)
    assert short == [4]  # the cancelled call (3) is never answered


async def ask(ctx: Ctx) -> Confirm:
    return Confirm()


async def asks(ctx: Ctx, decision: Annotated[ElicitationResult[Confirm], Resolve(ask)]) -> str:
    """Asks the user."""
    return "asked"


def test_a_tool_that_resolves_arguments_through_the_client_cannot_declare_no_back_channel() -> None:
    toolset = ToolSet()
    toolset.tool(DESTRUCTIVE, back_channel=False)(asks)
    with pytest.raises(TypeError, match="uses its back channel"):
        toolset.group("core")
