"""Live resources: subscribers learn of every change within a second, whoever made it (this
client, the CLI in another process, another stdio server on the same file), on both protocol
generations: resources/subscribe on the 2025-11-25 handshake, subscriptions/listen on
2026-07-28. Also logging/setLevel, and the SDK seam behind handshake subscriptions."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.subscriptions import ResourcesListChanged, ResourceUpdated, Subscription
from mcp.shared.exceptions import MCPError
from mcp_types import ResourceListChangedNotification, ResourceUpdatedNotification
from support.env import server_command, subprocess_env
from support.mcp import legacy_api
from support.rawclient import RawServer

from mcp_server_todo.config import Config
from mcp_server_todo.model import Change, Status, Task
from mcp_server_todo.server import build_server
from mcp_server_todo.server.live import Live, affected, live_of
from mcp_server_todo.service import TodoService
from mcp_server_todo.store.sqlite import SQLiteStore

pytestmark = pytest.mark.anyio

PENDING = "todo://tasks/pending"
TODAY = "todo://today"
PROJECTS = "todo://projects"
WITHIN = 1.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Inbox:
    """Collects resource notifications a handshake-era client receives."""

    def __init__(self) -> None:
        self.updated: list[str] = []
        self.list_changed = 0
        self._arrived = anyio.Event()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.updated.append(message.params.uri)
        elif isinstance(message, ResourceListChangedNotification):
            self.list_changed += 1
        else:
            return
        self._arrived.set()
        self._arrived = anyio.Event()

    async def wait(self, done: Callable[[], bool], timeout: float = WITHIN) -> float:
        """Seconds until `done()` holds; fails after `timeout`."""
        start = time.monotonic()
        with anyio.fail_after(timeout):
            while not done():
                await self._arrived.wait()
        return time.monotonic() - start


async def next_events(sub: Subscription, wanted: set[Any], timeout: float = WITHIN) -> set[Any]:
    """Read listen events until every one of `wanted` arrived; returns all seen."""
    seen: set[Any] = set()
    with anyio.fail_after(timeout):
        async for event in sub:
            seen.add(event)
            if wanted <= seen:
                break
    return seen


def cli_add(db: Path, home: Path, title: str) -> None:
    """Another process changes the same file: the CLI adds a task."""
    subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "add", "--db", str(db), title],
        check=True,
        env=subprocess_env(home),
        capture_output=True,
        timeout=60,
    )


@asynccontextmanager
async def legacy_client(db: Path, inbox: Inbox) -> AsyncIterator[Client]:
    server = build_server(Config.resolve(str(db), "UTC"))
    async with Client(server, mode="legacy", message_handler=inbox) as client:
        yield client


# -- what a change publishes -------------------------------------------------------------


def task(**fields: Any) -> Task:
    return Task(**{"id": 7, "title": "t", "created_at": "x", "updated_at": "x", **fields})


def test_affected_uris_and_list_changes() -> None:
    today = "2026-11-25"
    added = Change(op="add", task_id=7, before=None, after=task(due="2026-11-25"))
    assert affected(added, today) == ({"todo://tasks/7", PENDING, TODAY, PROJECTS}, True)

    later = Change(op="add", task_id=7, before=None, after=task(due="2026-12-25", parent_id=3))
    assert affected(later, today) == ({"todo://tasks/7", "todo://tasks/3", PENDING, PROJECTS}, True)

    renamed = Change(op="update", task_id=7, before=task(), after=task(title="u"))
    assert affected(renamed, today) == ({"todo://tasks/7", PENDING}, True)

    noted = Change(op="update", task_id=7, before=task(), after=task(notes="n"))
    assert affected(noted, today) == ({"todo://tasks/7", PENDING}, False)

    done = Change(op="complete", task_id=7, before=task(due="2026-11-01"), after=task(status=Status.done))
    assert affected(done, today) == ({"todo://tasks/7", PENDING, TODAY, PROJECTS}, True)

    trashed = Change(op="delete", task_id=7, before=task(), after=task(status=Status.deleted))
    assert affected(trashed, today) == ({"todo://tasks/7", PENDING, PROJECTS}, True)

    moved = Change(op="update", task_id=7, before=task(status=Status.done), after=task(status=Status.done, project="p"))
    assert affected(moved, today) == ({"todo://tasks/7", PROJECTS}, False)

    purged = Change(op="purge", task_id=7, before=task(status=Status.deleted), after=None)
    assert affected(purged, today) == ({"todo://tasks/7"}, False)


async def test_the_watcher_polls_the_store_and_notices_midnight(store: SQLiteStore) -> None:
    clock = [datetime(2026, 3, 1, 23, 59, 59, 500000, tzinfo=UTC)]
    service = TodoService(store, tz=UTC, now=lambda: clock[0])
    live = Live()
    events: list[Any] = []
    live.bus.subscribe(events.append)

    async def until(count: int) -> None:
        with anyio.fail_after(WITHIN):
            while len(events) < count:
                await anyio.sleep(0.02)

    async with live.running(service):
        await anyio.sleep(0.3)
        assert events == []
        clock[0] += timedelta(seconds=1)  # a new day: relative due dates shift
        await until(2)
        assert set(events) == {ResourceUpdated(TODAY), ResourceUpdated(PENDING)}
        events.clear()
        service.add("written without any tool call")  # found by polling alone
        await until(4)
        assert set(events) == {
            ResourceUpdated("todo://tasks/1"),
            ResourceUpdated(PENDING),
            ResourceUpdated(PROJECTS),
            ResourcesListChanged(),
        }


# -- capabilities and logging --------------------------------------------------------------


async def test_handshake_capabilities_advertise_subscribe_list_changed_and_logging(db_path: Path) -> None:
    async with legacy_client(db_path, Inbox()) as client:
        caps = client.server_capabilities
        assert caps.resources is not None
        assert caps.resources.subscribe is True and caps.resources.list_changed is True
        assert caps.logging is not None and caps.completions is not None


async def test_discover_capabilities_on_2026(db_path: Path) -> None:
    server = build_server(Config.resolve(str(db_path), "UTC"))
    async with Client(server) as client:  # auto: probes server/discover
        assert client.protocol_version == "2026-07-28"
        caps = client.server_capabilities
        assert caps.resources is not None
        assert caps.resources.subscribe is True and caps.resources.list_changed is True


async def test_set_logging_level_is_accepted_on_the_handshake(db_path: Path) -> None:
    async with legacy_client(db_path, Inbox()) as client:
        with legacy_api():
            for level in ("debug", "warning", "error"):
                await client.set_logging_level(level)
        assert not (await client.call_tool("new_item", {"title": "still fine"})).is_error


async def test_logging_on_2026_is_a_per_request_opt_in(db_path: Path) -> None:
    # 2026-07-28 has no logging/setLevel (the SDK's surface gate answers -32601 for it); a client
    # opts in per request through _meta, which the server accepts on every call.
    server = build_server(Config.resolve(str(db_path), "UTC"))
    async with Client(server, mode="2026-07-28", log_level="debug") as client:
        assert not (await client.call_tool("new_item", {"title": "logged"})).is_error
        assert (await client.read_resource(PENDING)).contents
        with legacy_api(), pytest.raises(MCPError, match="Method not found"):
            await client.set_logging_level("debug")  # removed from the protocol in 2026-07-28


# -- handshake subscriptions (2025-11-25) --------------------------------------------------


async def test_handshake_subscriber_gets_updates_for_changes_through_the_same_client(db_path: Path) -> None:
    inbox = Inbox()
    async with legacy_client(db_path, inbox) as client:
        with legacy_api():
            await client.subscribe_resource(PENDING)
            await client.subscribe_resource("todo://tasks/1")
        added = await client.call_tool("new_item", {"title": "watch me"})
        assert not added.is_error
        await inbox.wait(lambda: PENDING in inbox.updated and inbox.list_changed >= 1)
        assert "todo://tasks/1" in inbox.updated  # the task was created under its subscribed uri
        assert TODAY not in inbox.updated  # not subscribed

        inbox.updated.clear()
        await client.call_tool("update_item", {"id": 1, "notes": "more"})
        await inbox.wait(lambda: "todo://tasks/1" in inbox.updated)
        await anyio.sleep(0.5)
        assert inbox.updated.count("todo://tasks/1") == 1, inbox.updated  # once, not per poll

        with legacy_api():
            await client.unsubscribe_resource("todo://tasks/1")
        inbox.updated.clear()
        await client.call_tool("complete_item", {"id": 1})
        await inbox.wait(lambda: PENDING in inbox.updated)
        assert "todo://tasks/1" not in inbox.updated


async def test_handshake_subscriber_hears_another_process(db_path: Path, isolated_env: Path) -> None:
    inbox = Inbox()
    async with legacy_client(db_path, inbox) as client:
        with legacy_api():
            await client.subscribe_resource(PENDING)
        await anyio.to_thread.run_sync(cli_add, db_path, isolated_env, "from the shell")
        elapsed = await inbox.wait(lambda: PENDING in inbox.updated)
        assert elapsed < WITHIN
        text = (await client.read_resource(PENDING)).contents[0]
        assert "from the shell" in getattr(text, "text", "")


async def test_subscribing_to_an_unknown_resource_is_an_error(db_path: Path) -> None:
    async with legacy_client(db_path, Inbox()) as client:
        with legacy_api(), pytest.raises(MCPError, match="todo://tasks/pending"):
            await client.subscribe_resource("todo://nope")


async def test_closed_handshake_connections_are_dropped(db_path: Path) -> None:
    server = build_server(Config.resolve(str(db_path), "UTC"))
    live = live_of(server)
    async with Client(server, mode="legacy") as client:
        with legacy_api():
            await client.subscribe_resource(PENDING)
        assert live.handshake_connections == 1
    assert live.handshake_connections == 0
    # a later client on the same server still gets its updates
    inbox = Inbox()
    async with Client(server, mode="legacy", message_handler=inbox) as client:
        with legacy_api():
            await client.subscribe_resource(PENDING)
        await client.call_tool("new_item", {"title": "again"})
        await inbox.wait(lambda: PENDING in inbox.updated)


async def test_two_clients_of_one_server_each_get_each_update_once(db_path: Path) -> None:
    server = build_server(Config.resolve(str(db_path), "UTC"))
    first, second = Inbox(), Inbox()
    async with (
        Client(server, mode="legacy", message_handler=first) as a,
        Client(server, mode="legacy", message_handler=second) as b,
    ):
        with legacy_api():
            await a.subscribe_resource(PENDING)
            await b.subscribe_resource(PENDING)
        await a.call_tool("new_item", {"title": "shared"})
        await first.wait(lambda: PENDING in first.updated)
        await second.wait(lambda: PENDING in second.updated)
        await anyio.sleep(0.5)
        assert first.updated.count(PENDING) == 1 and second.updated.count(PENDING) == 1


# -- subscriptions/listen (2026-07-28) -----------------------------------------------------


async def test_listen_gets_updates_for_changes_through_the_same_client(db_path: Path) -> None:
    server = build_server(Config.resolve(str(db_path), "UTC"))
    async with (
        Client(server, mode="2026-07-28") as client,
        client.listen(resource_subscriptions=[PENDING, PROJECTS], resources_list_changed=True) as sub,
    ):
        await client.call_tool("new_item", {"title": "listen", "project": "home"})
        await next_events(sub, {ResourceUpdated(PENDING), ResourceUpdated(PROJECTS), ResourcesListChanged()})


async def test_listen_hears_another_process(db_path: Path, isolated_env: Path) -> None:
    server = build_server(Config.resolve(str(db_path), "UTC"))
    async with (
        Client(server, mode="2026-07-28") as client,
        client.listen(resource_subscriptions=[PENDING]) as sub,
    ):
        await anyio.to_thread.run_sync(cli_add, db_path, isolated_env, "from the shell")
        start = time.monotonic()
        await next_events(sub, {ResourceUpdated(PENDING)})
        assert time.monotonic() - start < WITHIN


# -- two real stdio servers on one file -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_change_in_one_stdio_server_reaches_the_subscriber_of_another(
    mode: str, db_path: Path, isolated_env: Path
) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=server_command(db_path)[1:], env=subprocess_env(isolated_env)
    )
    inbox = Inbox()
    with anyio.fail_after(60):
        async with Client(params, mode=mode, message_handler=inbox, read_timeout_seconds=30) as watcher:
            with RawServer(db_path, isolated_env) as writer:
                writer.initialize()

                def write() -> float:
                    writer.ok("new_item", {"title": "from the other server"})
                    return time.monotonic()

                if mode == "legacy":
                    with legacy_api():
                        await watcher.subscribe_resource(PENDING)
                    written = await anyio.to_thread.run_sync(write)
                    await inbox.wait(lambda: PENDING in inbox.updated, timeout=5)
                else:
                    async with watcher.listen(resource_subscriptions=[PENDING]) as sub:
                        written = await anyio.to_thread.run_sync(write)
                        await next_events(sub, {ResourceUpdated(PENDING)}, timeout=5)
                assert time.monotonic() - written < WITHIN
                text = (await watcher.read_resource(PENDING)).contents[0]
                assert "from the other server" in getattr(text, "text", "")
