"""The short path for stateless JSON-response HTTP (transports/http/fast.py) answers exactly as the SDK's
stateless transport does: two apps in this process, one with the short path and one without
(TODO_HTTP_FAST=0), each on its own database, get the same requests in lockstep, and every
answer (status, content type, body bytes, timestamps and uids aside) must be the same; the
requests the short path must leave to the SDK must reach the SDK. With tokens, each request's
owner still comes from its verified token."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp_types import CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY

from mcp_server_todo.config import Config
from mcp_server_todo.store import open_store
from mcp_server_todo.transports.http import HttpApp, HttpOptions, build_app
from mcp_server_todo.transports.http.auth import create_token

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

BASE = "http://127.0.0.1:8000"
JSON = "application/json"
HANDSHAKE = ["2025-11-25", "2025-06-18", "2025-03-26", None]  # None: no MCP-Protocol-Version header
MODERN = "2026-07-28"


@dataclass
class Side:
    app: HttpApp
    http: httpx2.AsyncClient
    tokens: dict[str, str]


@asynccontextmanager
async def side(
    db: Path, *, fast: bool, auth: str, monkeypatch: pytest.MonkeyPatch, users: tuple[str, ...] = ()
) -> AsyncIterator[Side]:
    """One app (`serve --http --stateless --json-response`), its lifespan running, and a client."""
    tokens: dict[str, str] = {}
    if users:
        store = open_store("sqlite:///" + db.as_posix().lstrip("/"))
        try:
            tokens = {user: create_token(store, user)[1] for user in users}
        finally:
            store.close()
    with monkeypatch.context() as env:
        env.setenv("TODO_HTTP_FAST", "1" if fast else "0")
        app = build_app(
            Config.resolve(str(db), "UTC"), "core", HttpOptions(stateless=True, json_response=True, auth=auth)
        )
    assert (app.fast is not None) == fast
    try:
        async with app.server.session_manager.run():
            transport = httpx2.ASGITransport(app=app.asgi)
            async with httpx2.AsyncClient(transport=transport, base_url=BASE) as http:
                yield Side(app, http, tokens)
    finally:
        if app.verifier is not None:
            app.verifier.close()


@asynccontextmanager
async def both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth: str = "none", users: tuple[str, ...] = ()
) -> AsyncIterator[tuple[Side, Side]]:
    async with AsyncExitStack() as stack:
        fast = await stack.enter_async_context(
            side(tmp_path / "fast.db", fast=True, auth=auth, monkeypatch=monkeypatch, users=users)
        )
        sdk = await stack.enter_async_context(
            side(tmp_path / "sdk.db", fast=False, auth=auth, monkeypatch=monkeypatch, users=users)
        )
        yield fast, sdk


_VOLATILE = [
    (re.compile(rb'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"'), b'"<time>"'),
    (re.compile(rb'"uid":"[0-9a-f]{32}"'), b'"uid":"<uid>"'),
    (re.compile(rb"\(log id [0-9a-f]{8}\)"), b"(log id <id>)"),
]


def normalized(body: bytes) -> bytes:
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    return body


@dataclass(frozen=True)
class Case:
    name: str
    body: Any  # JSON, or bytes as sent
    fast: bool  # whether the short path answers it (else the SDK does, on both sides)
    headers: tuple[tuple[str, str], ...] = ()


def call(request_id: Any, name: str, arguments: Any = None, **params: Any) -> dict[str, Any]:
    if arguments is not None:
        params["arguments"] = arguments
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name, **params}}


def rpc(request_id: Any, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


HANDSHAKE_CASES = [
    Case("tools/list", rpc(1, "tools/list"), True),
    Case("tools/list with empty params", rpc(2, "tools/list", {}), True),
    Case("ping", rpc(3, "ping"), True),
    Case("new_item", call(4, "new_item", {"title": "Buy groceries"}), True),
    Case("new_item, string id", call("four-b", "new_item", {"title": "Call the dentist", "priority": "high"}), True),
    Case("list_items", call(5, "list_items", {}), True),
    Case("list_items, no arguments", call(6, "list_items"), True),
    Case("complete_item", call(7, "complete_item", {"id": 1}), True),
    Case("complete_item, no such task", call(8, "complete_item", {"id": 999}), True),
    Case("complete_item, id as string", call(9, "complete_item", {"id": "2"}), True),
    Case("new_item, unknown argument", call(10, "new_item", {"title": "x", "colour": "red"}), True),
    Case("new_item, missing title", call(11, "new_item", {}), True),
    Case("new_item, wrong type", call(12, "new_item", {"title": 5}), True),
    Case("unknown tool", call(13, "no_such_tool", {}), True),
    Case("tools/call without a name", rpc(14, "tools/call", {"arguments": {}}), True),
    Case("tools/call without params", rpc(15, "tools/call"), True),
    Case("arguments not an object", call(16, "list_items", "all"), True),
    Case("progress token", call(17, "list_items", {}, _meta={"progressToken": "p1"}), True),
    Case("request id 0", call(0, "list_items", {}), True),
    Case("lone surrogate", call(18, "new_item", {"title": "x \ud800"}), False),  # not JSON to the SDK either
    # left to the SDK
    Case(
        "initialize",
        rpc(
            20,
            "initialize",
            {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
        ),
        False,
    ),
    Case("notification", {"jsonrpc": "2.0", "method": "notifications/initialized"}, False),
    Case("resources/list", rpc(21, "resources/list"), False),
    Case("unknown method", rpc(22, "no/such/method"), False),
    Case("not JSON", b'{"jsonrpc": "2.0", "id": 23, "method": "ping"', False),
    Case("batch", [rpc(24, "ping"), rpc(25, "ping")], False),
    Case("wrong jsonrpc version", {"jsonrpc": "1.0", "id": 26, "method": "ping"}, False),
    Case("null id", {"jsonrpc": "2.0", "id": None, "method": "ping"}, False),
    Case("a response", {"jsonrpc": "2.0", "id": 27, "result": {}}, False),
    Case("params not an object", {"jsonrpc": "2.0", "id": 28, "method": "tools/list", "params": [1]}, False),
    Case("wrong content type", rpc(29, "ping"), False, (("content-type", "text/plain"),)),
    Case(
        "content type with a parameter", rpc(30, "ping"), True, (("content-type", "application/json; charset=utf-8"),)
    ),
    Case("no JSON in Accept", rpc(31, "ping"), False, (("accept", "text/event-stream"),)),
    Case("Accept */*", rpc(32, "ping"), True, (("accept", "*/*"),)),
    Case("foreign Origin", rpc(33, "ping"), False, (("origin", "http://evil.example"),)),
    # our Host check ignores case, the SDK's does not: the SDK's 421, written by the SDK's check
    Case("Host in capitals", rpc(34, "ping"), False, (("host", "LOCALHOST:8000"),)),
]


def envelope(params: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = {
        PROTOCOL_VERSION_META_KEY: MODERN,
        CLIENT_INFO_META_KEY: {"name": "t", "version": "0"},
        CLIENT_CAPABILITIES_META_KEY: {},
    }
    return {**(params or {}), "_meta": meta}


MODERN_CASES = [
    Case("tools/list", rpc(1, "tools/list", envelope()), False),
    Case("new_item", rpc(2, "tools/call", envelope({"name": "new_item", "arguments": {"title": "Buy milk"}})), False),
    Case("list_items", rpc(3, "tools/call", envelope({"name": "list_items", "arguments": {}})), False),
    Case("no such task", rpc(4, "tools/call", envelope({"name": "complete_item", "arguments": {"id": 99}})), False),
    Case("unknown tool", rpc(5, "tools/call", envelope({"name": "nope", "arguments": {}})), False),
    Case("no envelope", rpc(6, "tools/list"), False),
]


async def post(side: Side, case: Case, version: str | None, user: str | None = None) -> httpx2.Response:
    headers = {"accept": "application/json, text/event-stream", "content-type": JSON}
    if version is not None:
        headers["mcp-protocol-version"] = version
    if user is not None:
        headers["authorization"] = f"Bearer {side.tokens[user]}"
    headers.update(dict(case.headers))
    content = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    return await side.http.post("/mcp", content=content, headers=headers)


async def compare(fast: Side, sdk: Side, cases: list[Case], version: str | None, user: str | None = None) -> None:
    assert fast.app.fast is not None
    for case in cases:
        before = fast.app.fast.answered
        got = await post(fast, case, version, user)
        want = await post(sdk, case, version, user)
        label = f"{case.name} at {version}"
        assert got.status_code == want.status_code, (label, got.text, want.text)
        assert got.headers.get("content-type") == want.headers.get("content-type"), label
        assert normalized(got.content) == normalized(want.content), (label, got.text, want.text)
        assert fast.app.fast.answered - before == int(case.fast), f"{label}: short path {'not ' * case.fast}taken"
        assert sdk.app.fast is None


@pytest.mark.parametrize("version", HANDSHAKE, ids=lambda v: v or "no-header")
async def test_handshake_answers_are_the_sdks(
    version: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with both(tmp_path, monkeypatch) as (fast, sdk):
        await compare(fast, sdk, HANDSHAKE_CASES, version)
        # and the results are what a client expects, not just equal
        listed = (await post(fast, Case("", call(99, "list_items", {}), True), version)).json()
        assert [t["title"] for t in listed["result"]["structuredContent"]["items"]] == ["Call the dentist"]
        error = (await post(fast, Case("", call(98, "complete_item", {"id": 999}), True), version)).json()
        assert error["result"]["isError"] is True
        capitals = await post(fast, Case("", call(97, "list_items", {}), False, (("host", "LOCALHOST:8000"),)), version)
        assert capitals.status_code == 421 and capitals.text == "Invalid Host header"


async def test_modern_requests_go_to_the_sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with both(tmp_path, monkeypatch) as (fast, sdk):
        await compare(fast, sdk, MODERN_CASES, MODERN)
        await compare(fast, sdk, [Case("unknown version", rpc(1, "ping"), False)], "1999-01-01")


async def test_with_tokens_the_owner_comes_from_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = ("alice", "bob")
    async with both(tmp_path, monkeypatch, auth="tokens", users=users) as (fast, sdk):
        for user in users:
            await compare(fast, sdk, HANDSHAKE_CASES[:8], "2025-11-25", user)
        # alice's tasks are hers: bob's list holds his own only, through the short path too
        assert fast.app.fast is not None
        answered = fast.app.fast.answered
        for user, mine in (("alice", ["Call the dentist"]), ("bob", ["Call the dentist"])):
            reply = (await post(fast, Case("", call(50, "list_items", {}), True), "2025-11-25", user)).json()
            assert [t["title"] for t in reply["result"]["structuredContent"]["items"]] == mine
        added = await post(fast, Case("", call(51, "new_item", {"title": "alice only"}), True), "2025-11-25", "alice")
        assert added.json()["result"]["structuredContent"]["items"][0]["id"] == 3
        bobs = (await post(fast, Case("", call(52, "list_items", {}), True), "2025-11-25", "bob")).json()
        assert "alice only" not in json.dumps(bobs)
        assert fast.app.fast.answered == answered + 4
        # no token, a bad token: 401 before anything is parsed, on both sides alike
        for headers in ({}, {"authorization": "Bearer todo_nope"}):
            got = await fast.http.post("/mcp", json=rpc(1, "tools/list"), headers={"accept": JSON, **headers})
            want = await sdk.http.post("/mcp", json=rpc(1, "tools/list"), headers={"accept": JSON, **headers})
            assert got.status_code == want.status_code == 401
            assert got.headers.get("www-authenticate") == want.headers.get("www-authenticate")
        assert fast.app.fast.answered == answered + 4


async def test_only_stateless_json_servers_get_the_short_path(tmp_path: Path) -> None:
    for stateless, json_response in ((True, False), (False, True), (False, False)):
        options = HttpOptions(stateless=stateless, json_response=json_response)
        assert build_app(Config.resolve(str(tmp_path / "x.db"), "UTC"), "core", options).fast is None


def test_an_sdk_that_moved_its_parts_fails_loudly(tmp_path: Path) -> None:
    from mcp_server_todo.transports.http import fast as http_fast

    app = build_app(Config.resolve(str(tmp_path / "x.db"), "UTC"), "core", HttpOptions(stateless=True))
    manager = app.server.session_manager
    manager.asgi_app = manager.asgi_app.app  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="mcp SDK changed"):
        http_fast.install(manager)


async def test_a_bug_in_a_tool_is_answered_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from mcp_server_todo.service import TodoService

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom: internal detail")

    async with both(tmp_path, monkeypatch) as (fast, sdk):
        monkeypatch.setattr(TodoService, "list_tasks", broken)
        cases = [Case("bug", call(1, "list_items", {}), True), Case("bug, tools/list fine", rpc(2, "tools/list"), True)]
        await compare(fast, sdk, cases, "2025-11-25")
        reply = (await post(fast, cases[0], "2025-11-25")).json()
    assert "internal detail" not in json.dumps(reply)  # logged, never shown
    assert "internal detail" in caplog.text
    log_id = re.fullmatch(r"internal error \(log id ([0-9a-f]{8})\)", reply["result"]["content"][0]["text"])
    assert log_id and f"(log id {log_id.group(1)})" in caplog.text


async def test_a_result_that_cannot_be_written_is_the_sdks_500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    tools = importlib.import_module("mcp_server_todo.server.tools.tasks")  # the module list_items reads page_text from
    async with both(tmp_path, monkeypatch) as (fast, sdk):
        monkeypatch.setattr(tools, "page_text", lambda *args, **kwargs: "a lone surrogate \ud800")  # not UTF-8
        await compare(fast, sdk, [Case("unwritable", call(1, "list_items", {}), True)], "2025-11-25")
        reply = await post(fast, Case("", call(2, "list_items", {}), True), "2025-11-25")
    assert reply.status_code == 500 and reply.json()["error"]["message"] == "Error handling POST request"
