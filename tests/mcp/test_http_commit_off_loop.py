"""Over HTTP, on a slow disk, a write's fsync is awaited off the event loop (server/offload.py,
group commit in store/sqlite_sync.py): while one write waits for the disk, another request's read is
answered, and the write's answer goes out only once its fsync has ended. The server in
this process (`serve --http --stateless --json-response`), a real SQLite file; the disk is made
slow by holding the real fsync until the test lets it go."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from mcp_server_todo.config import Config
from mcp_server_todo.service import TodoService
from mcp_server_todo.store.sqlite import SQLiteStore
from mcp_server_todo.store.sqlite_sync import GroupSync
from mcp_server_todo.transports.http import HttpOptions, build_app

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


def call(request_id: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


async def post(http: httpx2.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    reply = await http.post("/mcp", json=body, headers=HEADERS)
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()["result"]
    assert not result.get("isError"), result
    return result


class SlowDisk:
    """GroupSync's fsync on a slow disk (20 ms more), and held (once `holding`) until
    `released`; the real fsync then runs."""

    def __init__(self) -> None:
        self.holding = False
        self.entered = threading.Event()
        self.released = threading.Event()
        self.real = GroupSync._fsync

    def fsync(self, group: GroupSync) -> None:
        time.sleep(0.02)
        if self.holding:
            self.entered.set()
            assert self.released.wait(30), "never released"
        self.real(group)


async def test_a_read_is_answered_while_a_write_waits_for_its_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "todo.db"
    disk = SlowDisk()
    monkeypatch.setattr(GroupSync, "_fsync", lambda group: disk.fsync(group))
    app = build_app(Config.resolve(str(db), "UTC"), "core", HttpOptions(stateless=True, json_response=True))
    async with app.server.session_manager.run():
        transport = httpx2.ASGITransport(app=app.asgi)
        async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            await post(http, call(1, "new_item", {"title": "first"}))  # the store is open; its fsyncs are slow
            disk.holding = True
            written: dict[str, Any] = {}

            async def write() -> None:
                written.update(await post(http, call(2, "new_item", {"title": "second"})))

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(write)
                assert await anyio.to_thread.run_sync(disk.entered.wait, 10), "the write never reached its fsync"
                with anyio.fail_after(5):  # the loop is free: a read answers meanwhile
                    listed = await post(http, call(3, "list_items", {}))
                assert "first" in [t["title"] for t in listed["structuredContent"]["items"]]
                assert not written, "answered before its data was on disk"
                disk.released.set()
            assert written["structuredContent"]["items"][0]["title"] == "second"
    store = SQLiteStore(db)  # reopened from the file: both writes are there
    try:
        titles = [t.title for t in TodoService(store).list_tasks(limit=10).items]
    finally:
        store.close()
    assert sorted(titles) == ["first", "second"]
