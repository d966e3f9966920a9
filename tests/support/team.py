"""Several users on one real HTTP server (`--auth tokens --tools all`, a token each), and what
they see: every operation that takes an id, the caller's view of its outcome, notifications
received, a listen stream's next event."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.subscriptions import Subscription
from mcp.shared.exceptions import MCPError
from mcp_types import ResourceListChangedNotification, ResourceUpdatedNotification

from support.http import HttpServer, make_token
from support.wait import wait_until

NOBODYS = 99
PENDING = "todo://tasks/pending"
QUIET = 0.8  # longer than the watcher's poll interval (0.2 s) plus delivery


def run(fn: Callable[[], Any]) -> Any:
    async def main() -> Any:
        with anyio.fail_after(60):
            return await fn()

    return anyio.run(main)


@contextmanager
def team_server(root: Path, users: tuple[str, ...] = ("alice", "bob", "carol")) -> Iterator[TeamServer]:
    """A real HTTP server (`--auth tokens --tools all`) over a new database, a token per user."""
    home = root / "home"
    home.mkdir()
    db = root / "todo.db"
    tokens = {user: make_token(db, home, user) for user in users}
    server = HttpServer(db, home, "--auth", "tokens", "--tools", "all")
    try:
        server.wait_ready()
        yield TeamServer(server, db, home, tokens)
    finally:
        server.stop()


@dataclass
class TeamServer:
    server: HttpServer
    db: Path
    home: Path
    tokens: dict[str, str]


def same_modulo_id(text: str, task_id: int) -> str:
    return re.sub(rf"\b{task_id}\b", "N", text)


# ---- every operation that takes an id -------------------------------------------------------------

ID_OPERATIONS: dict[str, Callable[[int], tuple[str, dict[str, Any]]]] = {
    "complete_item": lambda i: ("complete_item", {"id": i}),
    "complete_item ids": lambda i: ("complete_item", {"ids": [i]}),
    "update_item": lambda i: ("update_item", {"id": i, "title": "hijacked"}),
    "update_item status": lambda i: ("update_item", {"id": i, "status": "pending"}),
    "delete_item": lambda i: ("delete_item", {"id": i, "confirm": True}),
    "history": lambda i: ("history", {"id": i}),
    "new_item under it": lambda i: ("new_item", {"title": "child", "parent_id": i}),
    "new_item depending on it": lambda i: ("new_item", {"title": "after", "depends_on": [i]}),
    "list_items of its subtasks": lambda i: ("list_items", {"parent_id": i}),
}


async def outcome(client: Client, op: str, task_id: int) -> str:
    """What the caller sees: the error (or result) text, with the id replaced by N."""
    if op == "resource":
        try:
            contents = (await client.read_resource(f"todo://tasks/{task_id}")).contents
            return "read: " + same_modulo_id(getattr(contents[0], "text", ""), task_id)
        except MCPError as exc:
            return f"error {exc.error.code}: " + same_modulo_id(exc.error.message, task_id)
    name, arguments = ID_OPERATIONS[op](task_id)
    result = await client.call_tool(name, arguments)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    structured = result.structured_content or {}
    return f"{'error' if result.is_error else 'ok'}: {same_modulo_id(text, task_id)} {structured}"


class Inbox:
    """The resource URIs (and "list_changed") a handshake-era client was told about."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def __call__(self, message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.messages.append(message.params.uri)
        elif isinstance(message, ResourceListChangedNotification):
            self.messages.append("list_changed")

    async def wait_for(self, uri: str, timeout: float = 3.0) -> None:
        await wait_until(lambda: uri in self.messages, timeout, poll=0.02)


async def next_event(sub: Subscription, timeout: float) -> Any:
    """The next event of a 2026-07-28 listen stream (TimeoutError after `timeout`)."""
    with anyio.fail_after(timeout):
        async for event in sub:
            return event
    return None
