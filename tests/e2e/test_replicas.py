"""Several replicas: two `serve --http` processes on different ports over one PostgreSQL schema.

- a task added through one replica is listed (same id) and read through the other;
- a handshake-era client subscribed on one replica hears, within 2 s, a change made through the
  other (each replica's watcher polls the shared change log);
- 2 replicas x 4 concurrent clients x 250 writes never lose an update: ids are unique and dense,
  the totals are exact, fields written concurrently to the same tasks by clients of both replicas
  all survive (a server-side read-modify-write that clobbered a row would lose some), and the
  change log holds exactly one entry per acknowledged write;
- a project alice shares through one replica is seen, heard about and written by bob through
  the other, concurrently with alice, without a lost update.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPDeprecationWarning
from mcp.types import ResourceListChangedNotification, ResourceUpdatedNotification
from support import pg
from support.http import HttpServer, mcp_client
from support.mcp import ok as call
from support.wait import wait_until

from mcp_server_todo.store import open_store

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.timeout(120)]

PENDING = "todo://tasks/pending"
NOTIFY_WITHIN = 2.0  # the watcher polls the change log every 200 ms


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty schema of the session's cluster, shared by the replicas of one test."""
    with pg.schema_url(postgres_url) as url:
        yield url


@contextmanager
def replicas(url: str, home: Path, logs: Path, *extra: str) -> Iterator[tuple[HttpServer, HttpServer]]:
    """Two replicas over `url`, started at once (both migrate the same empty schema)."""
    with ExitStack() as stack:
        pair = []
        for name in ("A", "B"):
            replica = HttpServer(
                url, home, "--host", "127.0.0.1", "--auth", "none", *extra, logs=logs, name=f"replica {name}"
            )
            stack.callback(replica.stop)
            pair.append(replica)
        for replica in pair:
            replica.wait_ready()
        yield pair[0], pair[1]
        for replica in pair:
            assert replica.stop() == 0, replica.stderr()
            assert "Traceback" not in replica.stderr(), replica.stderr()


def run(scenario: Callable[[], Any], timeout: float = 90) -> None:
    async def bounded() -> None:
        with anyio.fail_after(timeout):
            await scenario()

    anyio.run(bounded)


# ---- 1. what one replica writes, the other reads --------------------------------------------------


def test_a_task_added_through_one_replica_is_listed_through_the_other(
    pg_url: str, isolated_env: Path, tmp_path: Path
) -> None:
    with replicas(pg_url, isolated_env, tmp_path, "--stateless") as (a, b):

        async def scenario() -> None:
            async with mcp_client(a.url) as via_a, mcp_client(b.url) as via_b:
                added = (await call(via_a, "new_item", {"title": "Added through A"}))["items"][0]
                listed = await call(via_b, "list_items", {})
                assert [(t["id"], t["title"]) for t in listed["items"]] == [(added["id"], "Added through A")]
                assert listed["total"] == 1
                read = (await via_b.read_resource(f"todo://tasks/{added['id']}")).contents[0]
                assert "Added through A" in getattr(read, "text", "")

                # and back: ids come from one sequence, whichever replica allocates them
                second = (await call(via_b, "new_item", {"title": "Added through B"}))["items"][0]
                assert second["id"] == added["id"] + 1
                done = await call(via_b, "complete_item", {"id": added["id"]})
                assert done["items"][0]["status"] == "done"
                listed = await call(via_a, "list_items", {})
                assert [(t["id"], t["title"]) for t in listed["items"]] == [(second["id"], "Added through B")]
                everything = await call(via_a, "list_items", {"status": "all"})
                assert sorted(t["id"] for t in everything["items"]) == [added["id"], second["id"]]

        run(scenario, 60)


# ---- 2. a subscriber on one replica hears a change made through the other ---------------------------


class Inbox:
    """Resource notifications a handshake-era client receives, with their arrival times."""

    def __init__(self) -> None:
        self.updated: list[tuple[str, float]] = []
        self.list_changed: list[float] = []

    async def __call__(self, message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.updated.append((message.params.uri, time.monotonic()))
        elif isinstance(message, ResourceListChangedNotification):
            self.list_changed.append(time.monotonic())

    def uris(self) -> set[str]:
        return {uri for uri, _ in self.updated}

    async def wait_for(self, uri: str, timeout: float) -> float:
        """Seconds until `uri` was updated; fails after `timeout`."""
        return await wait_until(lambda: uri in self.uris(), timeout)


def test_a_subscriber_on_one_replica_hears_a_change_made_through_the_other(
    pg_url: str, isolated_env: Path, tmp_path: Path
) -> None:
    with replicas(pg_url, isolated_env, tmp_path) as (a, b):  # stateful: sessions and GET streams

        async def scenario() -> None:
            inbox = Inbox()
            async with mcp_client(a.url, mode="legacy", message_handler=inbox) as watcher, mcp_client(b.url) as writer:
                assert watcher.protocol_version == "2025-11-25"
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    await watcher.subscribe_resource(PENDING)
                    await watcher.subscribe_resource("todo://tasks/1")
                await anyio.sleep(0.5)  # nothing changed yet: nothing heard
                assert inbox.updated == [] and inbox.list_changed == []

                added = (await call(writer, "new_item", {"title": "Through B"}))["items"][0]
                assert added["id"] == 1
                took = await inbox.wait_for(PENDING, NOTIFY_WITHIN)
                assert took < NOTIFY_WITHIN
                await inbox.wait_for("todo://tasks/1", NOTIFY_WITHIN)
                with anyio.fail_after(NOTIFY_WITHIN):  # a new pending task changes resources/list
                    while not inbox.list_changed:
                        await anyio.sleep(0.01)
                # what A then reads is what B wrote
                pending = (await watcher.read_resource(PENDING)).contents[0]
                assert "Through B" in getattr(pending, "text", "")

                # a second change, another kind: heard again (the cursor moved on, nothing replayed)
                inbox.updated.clear()
                await call(writer, "complete_item", {"id": added["id"]})
                await inbox.wait_for(PENDING, NOTIFY_WITHIN)
                await inbox.wait_for("todo://tasks/1", NOTIFY_WITHIN)
                await anyio.sleep(0.5)
                assert sorted(uri for uri, _ in inbox.updated) == sorted([PENDING, "todo://tasks/1"])  # once each

        run(scenario, 60)


# ---- 3. concurrent writers through both replicas never lose an update ------------------------------

CLIENTS_PER_REPLICA = 4
WRITES_PER_CLIENT = 250
NEW, COMPLETE, UPDATE = 100, 25, 125  # per client: WRITES_PER_CLIENT in all
FIELDS = ("title", "notes", "project", "priority")
"""Each client owns one field of one shared task; the clients of both replicas write the fields
of the same two tasks at once, so a server that read a row, changed one field and wrote the whole
row back without locking it would overwrite another client's field. (Checked: with the store's
owner lock and `FOR UPDATE` removed, this test fails every run, a field holding an older value.)"""
PRIORITIES = ("none", "low", "medium", "high")


def field_value(client: int, field: str, n: int) -> Any:
    if field == "priority":
        return PRIORITIES[(n + 1) % len(PRIORITIES)]  # never the current value: every update changes it
    return f"c{client}-{field}-{n}"


def test_concurrent_writers_through_both_replicas_never_lose_an_update(
    pg_url: str, isolated_env: Path, tmp_path: Path
) -> None:
    assert NEW + COMPLETE + UPDATE == WRITES_PER_CLIENT
    clients = 2 * CLIENTS_PER_REPLICA
    # each shared task gets its fields written by clients of both replicas (client c uses replica c % 2)
    owned = {c: (c // len(FIELDS), FIELDS[c % len(FIELDS)]) for c in range(clients)}
    assert {owned[c][0] for c in range(clients) if c % 2 == 0} == {owned[c][0] for c in range(clients) if c % 2}

    with replicas(pg_url, isolated_env, tmp_path, "--stateless", "--json-response") as (a, b):
        shared: list[int] = []
        created: dict[int, list[int]] = {c: [] for c in range(clients)}
        completed: dict[int, list[int]] = {c: [] for c in range(clients)}

        async def writer(c: int, url: str) -> None:
            # half the new tasks first (so there are own tasks to complete), then everything mixed
            rest = ["new"] * (NEW - NEW // 2) + ["complete"] * COMPLETE + ["update"] * UPDATE
            random.Random(c).shuffle(rest)
            plan = ["new"] * (NEW // 2) + rest
            task, field = owned[c]
            updates = 0
            async with mcp_client(url) as client:
                for op in plan:
                    if op == "new":
                        item = (await call(client, "new_item", {"title": f"c{c} task {len(created[c])}"}))["items"]
                        created[c].append(item[0]["id"])
                    elif op == "complete":
                        target = created[c][len(completed[c]) * 2]  # every other one of its own tasks
                        done = await call(client, "complete_item", {"id": target})
                        assert [(t["id"], t["status"]) for t in done["items"]] == [(target, "done")]
                        completed[c].append(target)
                    else:
                        value = field_value(c, field, updates)
                        got = (await call(client, "update_item", {"id": shared[task], field: value}))["items"][0]
                        assert got[field] == value, (field, got)
                        updates += 1

        async def scenario() -> None:
            async with mcp_client(a.url) as setup:
                for n in range(2):
                    shared.append((await call(setup, "new_item", {"title": f"shared {n}"}))["items"][0]["id"])
            assert shared == [1, 2]
            started = time.monotonic()
            async with anyio.create_task_group() as tg:
                for c in range(clients):
                    tg.start_soon(writer, c, (a, b)[c % 2].url)
            elapsed = time.monotonic() - started
            print(f"{clients * WRITES_PER_CLIENT} writes through 2 replicas in {elapsed:.1f} s")

            # what the replicas answer now, each of them
            for url in (a.url, b.url):
                async with mcp_client(url) as reader:
                    pending = await call(reader, "list_items", {"status": "pending", "limit": 1})
                    done = await call(reader, "list_items", {"status": "done", "limit": 1})
                    assert pending["total"] == 2 + clients * (NEW - COMPLETE)
                    assert done["total"] == clients * COMPLETE

        run(scenario, 100)

        all_new = [task_id for ids in created.values() for task_id in ids]
        assert sorted(shared + all_new) == list(range(1, 3 + clients * NEW))  # unique and dense
        assert all(len(ids) == NEW for ids in created.values())
        assert all(len(ids) == COMPLETE for ids in completed.values())

    # the store itself: every task, every field, one change per acknowledged write
    store = open_store(pg_url)
    try:
        with store.read("local") as tx:
            changes = tx.changes_since(0, 100_000)
            tasks = {task_id: tx.get(task_id) for task_id in range(1, 3 + clients * NEW)}
    finally:
        store.close()
    assert all(task is not None for task in tasks.values())
    done_ids = {task_id for ids in completed.values() for task_id in ids}
    for task_id, task in tasks.items():
        assert task is not None
        expected = "done" if task_id in done_ids else "pending"
        assert task.status.value == expected, (task_id, task.status)
    for c, (index, field) in owned.items():
        task = tasks[shared[index]]
        value = getattr(task, field)
        wanted = field_value(c, field, UPDATE - 1)
        assert value == wanted, (c, field, value)

    writes = 2 + clients * WRITES_PER_CLIENT
    assert len(changes) == writes
    assert len({change.id for change in changes}) == writes
    assert len({change.group for change in changes}) == writes  # one group (one undo step) per write
    ops = [change.op for change in changes]
    assert ops.count("complete") == clients * COMPLETE
    assert ops.count("update") == clients * UPDATE
    assert ops.count("add") == 2 + clients * NEW
    created_in_log = sorted(change.task_id for change in changes if change.before is None)
    assert created_in_log == list(range(1, 3 + clients * NEW))


# ---- 4. shared projects across replicas ------------------------------------------------------------


def test_a_shared_project_works_across_replicas(pg_url: str, isolated_env: Path, tmp_path: Path) -> None:
    """alice (through A) shares a project with bob (through B): bob hears alice's changes on B,
    alice sees bob's on A, and both writing the shared tasks at once loses nothing (their
    transactions write each other's rows: the sharing lock orders them across processes)."""
    from mcp_server_todo.transports.http.auth import create_token

    store = open_store(pg_url)
    try:
        tokens = {user: create_token(store, user)[1] for user in ("alice", "bob")}
    finally:
        store.close()
    with replicas(pg_url, isolated_env, tmp_path, "--auth", "tokens", "--tools", "all") as (a, b):

        async def scenario() -> None:
            inbox = Inbox()
            async with (
                mcp_client(a.url, tokens["alice"]) as alice,
                mcp_client(b.url, tokens["bob"], mode="legacy", message_handler=inbox) as bob,
            ):
                items = [{"title": f"shared {i}", "project": "work"} for i in range(4)]
                mine = [t["id"] for t in (await call(alice, "new_item", {"items": items}))["items"]]
                await call(alice, "share_project", {"project": "work", "user": "bob"})
                listed = await call(bob, "list_items", {"project": "alice/work"})
                theirs = {t["title"]: t["id"] for t in listed["items"]}
                assert sorted(theirs) == [f"shared {i}" for i in range(4)]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", MCPDeprecationWarning)
                    await bob.subscribe_resource(PENDING)
                await call(alice, "update_item", {"id": mine[0], "priority": "high"})
                await inbox.wait_for(PENDING, NOTIFY_WITHIN)

                async def write(client: Client, ids: list[int], who: str) -> None:
                    for n in range(25):
                        for task_id in ids:
                            await call(client, "update_item", {"id": task_id, "notes": f"{who} {n}"})

                async with anyio.create_task_group() as group:
                    group.start_soon(write, alice, mine[:2], "alice")
                    group.start_soon(write, bob, [theirs["shared 2"], theirs["shared 3"]], "bob")
                expected = {"shared 0": "alice 24", "shared 1": "alice 24", "shared 2": "bob 24", "shared 3": "bob 24"}
                seen_by_alice: dict[int, str] = {}
                for task_id in mine:
                    read = (await alice.read_resource(f"todo://tasks/{task_id}")).contents[0]
                    seen_by_alice[task_id] = getattr(read, "text", "")
                for title, note in expected.items():
                    assert any(title in text and note in text for text in seen_by_alice.values()), (title, note)
                for title, task_id in theirs.items():
                    read = (await bob.read_resource(f"todo://tasks/{task_id}")).contents[0]
                    assert expected[title] in getattr(read, "text", ""), (title, getattr(read, "text", ""))

        run(scenario, 90)
