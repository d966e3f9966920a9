"""Over stdio a write's fsync runs while its answer is built (server/durable_answers.py), and the
answer leaves only once the write is on disk. The real stdio transport in this process, on OS
pipes; a real SQLite file; the disk made slow by holding the real fsync until the test lets it
go, or made to fail once."""

from __future__ import annotations

import errno
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from support.pipes import StdioPipes

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import sqlite_sync as sync_module
from mcp_server_todo.store.sqlite import SQLiteStore
from mcp_server_todo.store.sqlite_sync import GroupSync
from mcp_server_todo.transports.stdio import serve_stdio

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

REAL_FSYNC = os.fsync
INIT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "test", "version": "0"},
}


class Disk:
    """GroupSync's fsync, held (once `holding`) until `released`, or failing once (`fail`)."""

    def __init__(self) -> None:
        self.holding = False
        self.fail = False
        self.entered = threading.Event()
        self.released = threading.Event()
        self.real = GroupSync._fsync

    def fsync(self, group: GroupSync) -> None:
        if self.holding:
            self.entered.set()
            assert self.released.wait(30), "never released"
        self.real(group)

    def os_fsync(self, fd: int) -> None:
        if self.fail:
            self.fail = False
            raise OSError(errno.EIO, "Input/output error")
        REAL_FSYNC(fd)


class Pipes(StdioPipes):
    """The client's ends of a server's stdin and stdout, reading whole messages."""

    def line(self, timeout: float) -> dict[str, Any] | None:
        """The next message the server wrote within `timeout` seconds (None: nothing came)."""
        raw = self.raw_line(timeout)
        if raw is None:
            return None
        reply: dict[str, Any] = json.loads(raw)
        return reply

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        request_id = self.send("tools/call", {"name": name, "arguments": arguments})
        return self.answer(request_id)

    def answer(self, request_id: int, timeout: float = 10) -> dict[str, Any]:
        while True:
            reply = self.line(timeout)
            assert reply is not None, f"no answer to {request_id}"
            if reply.get("id") == request_id:
                return reply


@contextmanager
def disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    fake = Disk()
    monkeypatch.setattr(GroupSync, "_fsync", lambda group: fake.fsync(group))
    monkeypatch.setattr(sync_module.os, "fsync", fake.os_fsync)
    try:
        yield fake
    finally:
        fake.released.set()


async def serving(db: Path, pipes: Pipes) -> None:
    server = build_server(Config.resolve(str(db), "UTC"), "core")
    await serve_stdio(server, stdin=pipes.server_in, stdout=pipes.server_out)


@contextmanager
def dialog(db: Path) -> Iterator[Pipes]:
    """A stdio server on `db` in a thread of its own, initialized; stopped by closing stdin."""
    pipes = Pipes()
    failed: list[BaseException] = []

    def run() -> None:
        try:
            anyio.run(serving, db, pipes)
        except BaseException as exc:  # shown by the test
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        pipes.answer(pipes.send("initialize", INIT))
        pipes.send("notifications/initialized", notify=True)
        yield pipes
    finally:
        pipes.close()
        thread.join(30)
        assert not failed, failed
        assert not thread.is_alive(), "the server did not stop at the end of stdin"


def titles(db: Path) -> list[str]:
    store = SQLiteStore(db)  # reopened from the file
    try:
        return sorted(t.title for t in TodoService(store).list_tasks(limit=10).items)
    finally:
        store.close()


@pytest.mark.parametrize("ahead", ["1", "0"])
def test_a_write_is_answered_only_once_its_fsync_has_ended(
    ahead: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODO_FSYNC_AHEAD", ahead)
    db = tmp_path / "todo.db"
    with disk(monkeypatch) as slow, dialog(db) as client:
        assert "result" in client.call("new_item", {"title": "first"})
        slow.holding = True
        request_id = client.send("tools/call", {"name": "new_item", "arguments": {"title": "second"}})
        assert slow.entered.wait(10), "the write never reached its fsync"
        assert client.line(0.3) is None, "answered before its data was on disk"
        slow.released.set()
        reply = client.answer(request_id)
        assert reply["result"]["structuredContent"]["items"][0]["title"] == "second"
    assert titles(db) == ["first", "second"]


def answers_with_a_failed_fsync(db: Path, monkeypatch: pytest.MonkeyPatch, ahead: str) -> list[dict[str, Any]]:
    monkeypatch.setenv("TODO_FSYNC_AHEAD", ahead)
    with disk(monkeypatch) as failing, dialog(db) as client:
        first = client.call("new_item", {"title": "first"})
        failing.fail = True
        second = client.call("new_item", {"title": "second"})
        third = client.call("list_items", {})
    return [first, second, third]


@pytest.mark.parametrize("ahead", ["1", "0"])
def test_a_failed_fsync_is_answered_as_a_tool_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ahead: str
) -> None:
    first, second, third = answers_with_a_failed_fsync(tmp_path / "todo.db", monkeypatch, ahead)
    assert not first["result"].get("isError")
    assert second["result"]["isError"] is True
    assert "the disk did not confirm the last write" in second["result"]["content"][0]["text"]
    assert "structuredContent" not in second["result"]
    assert not third["result"].get("isError")


def test_the_failed_fsync_answer_is_the_same_with_the_overlap_and_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlapped = answers_with_a_failed_fsync(tmp_path / "a.db", monkeypatch, "1")[1]
    inline = answers_with_a_failed_fsync(tmp_path / "b.db", monkeypatch, "0")[1]
    text = inline["result"]["content"][0]["text"]
    assert overlapped == json.loads(json.dumps(inline).replace(str(tmp_path / "b.db"), str(tmp_path / "a.db"))), text


STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?|[0-9a-f]{32}")
DIALOG: list[tuple[str, dict[str, Any]]] = [
    ("new_item", {"title": "buy milk", "priority": "high", "tags": ["home"]}),
    ("new_item", {"items": [{"title": "a"}, {"title": "b", "parent_id": -1}]}),
    ("list_items", {}),
    ("complete_item", {"id": 1}),
    ("complete_item", {"id": 2}),  # open subtask: refused
    ("complete_item", {"id": 99}),  # unknown
    ("new_item", {"title": 5}),  # invalid arguments
    ("update_item", {"id": 3, "title": "b2"}),
    ("list_items", {"status": "all"}),
]


def dialog_answers(db: Path, monkeypatch: pytest.MonkeyPatch, ahead: str) -> list[str]:
    monkeypatch.setenv("TODO_FSYNC_AHEAD", ahead)
    with dialog(db) as client:
        answers = [client.call(name, arguments) for name, arguments in DIALOG]
    return [STAMP.sub("<stamp>", json.dumps(answer, sort_keys=True)) for answer in answers]


def test_every_answer_is_the_same_with_the_overlap_and_without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overlapped = dialog_answers(tmp_path / "a.db", monkeypatch, "1")
    inline = dialog_answers(tmp_path / "b.db", monkeypatch, "0")
    assert overlapped == inline
    assert '"isError": true' in overlapped[4] and '"isError": true' not in overlapped[3]
