"""The stdio start-up snapshot through the real subprocess: the first start lets the SDK answer
and writes the snapshot, the second answers from it with the very same bytes, in both protocol
generations; what the snapshot cannot answer waits for the SDK, in order; a changed
configuration, a corrupt file or another version is never served."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from support.env import server_command, subprocess_env
from support.rawclient import RawServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "snapshot-test", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
HELLO = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"roots": {"listChanged": True}},
    "clientInfo": {"name": "snapshot-test", "version": "1"},
}
LISTS = ("tools/list", "resources/templates/list", "prompts/list")
USED = "the start-up snapshot answered"


def opening(generation: str) -> list[dict[str, Any]]:
    """The requests a client opens with, whose answers the snapshot holds."""
    if generation == "legacy":
        return [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": HELLO},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            *({"jsonrpc": "2.0", "id": f"r{i}", "method": method} for i, method in enumerate(LISTS)),
        ]
    return [
        {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": MODERN_META}},
        *(
            {"jsonrpc": "2.0", "id": 10 + i, "method": method, "params": {"_meta": MODERN_META}}
            for i, method in enumerate(LISTS)
        ),
    ]


def new_item(request_id: int, title: str) -> dict[str, Any]:
    params = {"name": "new_item", "arguments": {"title": title}}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


class Start:
    """One run of the server: everything sent at once, then stdin closed; its stdout lines and stderr."""

    def __init__(self, tmp_path: Path, messages: list[dict[str, Any] | bytes], *extra: str, **env: str) -> None:
        environment = {**subprocess_env(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache"), **env}
        data = b"".join(m if isinstance(m, bytes) else json.dumps(m).encode() + b"\n" for m in messages)
        done = subprocess.run(
            [*server_command(tmp_path / "todo.db", "--log-level", "INFO", *extra)],
            input=data,
            capture_output=True,
            env=environment,
            timeout=90,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        self.lines = done.stdout.splitlines()
        self.stderr = done.stderr.decode()
        self.used = USED in self.stderr

    def by_id(self) -> dict[Any, bytes]:
        return {json.loads(line)["id"]: line for line in self.lines}


def snapshot_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "mcp-server-todo").glob("snapshot-*.json"))


@pytest.mark.parametrize("generation", ["legacy", "2026-07-28"])
def test_second_start_answers_with_the_sdks_own_bytes(generation: str, tmp_path: Path) -> None:
    first = Start(tmp_path, [*opening(generation)])
    assert not first.used and len(snapshot_files(tmp_path)) == 1
    second = Start(tmp_path, [*opening(generation)])
    assert second.used, second.stderr
    assert f"{USED} {len(first.lines)} requests" in second.stderr
    assert second.lines == first.lines  # byte for byte, in the same order
    assert len(first.lines) == 4


def test_requests_the_snapshot_cannot_answer_wait_for_the_sdk(tmp_path: Path) -> None:
    Start(tmp_path, [*opening("legacy"), new_item(5, "s")])
    call = new_item(7, "a")
    later = [
        {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "list_items", "arguments": {}}},
        b"{not json\n",
        {"jsonrpc": "2.0", "id": 9, "method": "logging/setLevel", "params": {"level": "info"}},
        {"jsonrpc": "2.0", "id": 10, "method": "resources/subscribe", "params": {"uri": "todo://tasks/1"}},
        {"jsonrpc": "2.0", "id": 11, "method": "resources/list"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 99}},
        {"jsonrpc": "2.0", "id": 12, "method": "ping"},
    ]
    start = Start(tmp_path, [*opening("legacy")[:2], call, *opening("legacy")[2:], *later])
    assert start.used
    ids = [json.loads(line)["id"] for line in start.lines]
    assert ids[:4] == [1, "r0", "r1", "r2"]  # from the snapshot, before the SDK is even loaded
    assert sorted(ids[4:], key=str) == sorted([7, 8, None, 9, 10, 11, 12], key=str), ids  # then the SDK's
    answers = start.by_id()
    assert "Added #2 a" in json.loads(answers[7])["result"]["content"][0]["text"]
    assert "#1 s" in json.loads(answers[8])["result"]["content"][0]["text"]
    assert json.loads(answers[None])["error"]["code"] == -32700
    for request_id in (9, 10, 12):
        assert "result" in json.loads(answers[request_id]), answers[request_id]
    assert "todo://tasks/1" in answers[11].decode()  # resources/list lists the store, never the snapshot


def test_a_changed_configuration_is_never_served_from_an_old_snapshot(tmp_path: Path) -> None:
    core = Start(tmp_path, opening("legacy"))
    everything = Start(tmp_path, opening("legacy"), "--tools", "all")
    assert not everything.used and len(snapshot_files(tmp_path)) == 2
    assert everything.by_id()["r0"] != core.by_id()["r0"]  # more tools
    again = Start(tmp_path, opening("legacy"), "--tools", "all")
    assert again.used and again.lines == everything.lines


def test_a_corrupt_or_foreign_snapshot_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    first = Start(tmp_path, opening("legacy"))
    (path,) = snapshot_files(tmp_path)
    path.write_text('{"key": {"package": "0.0.1"}, "answers": {"x": "y"}}')
    foreign = Start(tmp_path, opening("legacy"))
    assert not foreign.used and foreign.lines == first.lines
    assert json.loads(path.read_text())["key"]["package"] != "0.0.1"  # rewritten by the SDK's answers
    path.write_bytes(b"\x00{garbage")
    corrupt = Start(tmp_path, opening("legacy"))
    assert not corrupt.used and corrupt.lines == first.lines
    assert Start(tmp_path, opening("legacy")).used


def test_todo_snapshot_0_turns_it_off(tmp_path: Path) -> None:
    Start(tmp_path, opening("legacy"), TODO_SNAPSHOT="0")
    assert snapshot_files(tmp_path) == []


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_the_sdk_client_works_the_same_through_the_front_end(mode: str, tmp_path: Path) -> None:
    """The SDK's own stdio client, stdin left open: the second start's handshake comes from the
    snapshot, and everything after it (calls, lists, the session) is the SDK's as before."""
    log = tmp_path / "stderr.log"
    command = server_command(tmp_path / "todo.db", "--log-level", "INFO")
    params = StdioServerParameters(
        command="/bin/sh",
        args=["-c", f'exec "$0" "$@" 2>>{log}', *command],
        env={**subprocess_env(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )

    async def dialog(title: str) -> tuple[list[str], list[str]]:
        with anyio.fail_after(60):
            async with Client(params, mode=mode, read_timeout_seconds=30) as client:
                tools = [tool.name for tool in (await client.list_tools()).tools]
                added = await client.call_tool("new_item", {"title": title})
                assert not added.is_error, added
                listed = await client.call_tool("list_items", {})
                return tools, [task["title"] for task in listed.structured_content["items"]]

    first = anyio.run(dialog, "one")
    assert USED not in log.read_text()
    second = anyio.run(dialog, "two")
    assert USED in log.read_text() and f"{USED} 0 " not in log.read_text()
    assert second == (first[0], ["one", "two"])


def test_a_subscription_made_through_the_front_end_gets_its_updates(tmp_path: Path) -> None:
    """The handshake the front end answered is the SDK session's: a resource subscription made
    right after it is served, and a change made through the same session is notified."""
    home, db = tmp_path / "home", tmp_path / "todo.db"
    with RawServer(db, home) as first:
        first.initialize()
        first.request("tools/list")
    log = tmp_path / "second.stderr"
    with RawServer(db, home, "--log-level", "INFO", stderr_path=log) as second:
        second.initialize()
        assert "result" in second.request("tools/list")
        assert "result" in second.request("resources/subscribe", {"uri": "todo://tasks/pending"})
        second.ok("new_item", {"title": "watched"})
        deadline = time.monotonic() + 10
        while True:
            message = second.next_message(max(deadline - time.monotonic(), 0.001))
            if message.get("method") == "notifications/resources/updated":
                assert message["params"]["uri"] == "todo://tasks/pending"
                break
    assert USED in log.read_text() and f"{USED} 0 " not in log.read_text()  # at least the initialize
