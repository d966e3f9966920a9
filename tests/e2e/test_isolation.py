"""Many users on one server: alice, bob and carol, each with an operator-issued token, on one
real HTTP server (`--auth tokens --tools all`). Ids are short and per owner, so alice's #3 is
simply not one of bob's tasks: for every operation that takes an id, bob and carol get for
alice's ids exactly the answer they get for an id nobody has (no existence leak), nothing of
alice's is ever read or changed, and no notification about alice's tasks (or the local user's)
reaches anyone else, on either protocol generation."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_types import PromptReference
from support.env import subprocess_env
from support.http import HttpServer, mcp_client
from support.mcp import legacy_api
from support.team import (
    ID_OPERATIONS,
    NOBODYS,
    PENDING,
    QUIET,
    Inbox,
    next_event,
    outcome,
    run,
    team_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

ALICE_TITLES = ["alice: pay the rent", "alice: call the dentist", "alice: renew passport", "alice: water plants"]


@dataclass
class World:
    server: HttpServer
    db: Path
    home: Path
    tokens: dict[str, str]
    alice_ids: list[int]
    bob_ids: list[int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with team_server(tmp_path_factory.mktemp("isolation")) as team:
        server, db, home, tokens = team.server, team.db, team.home, team.tokens

        async def seed() -> tuple[list[int], list[int]]:
            async with mcp_client(server.url, tokens["alice"]) as alice:
                added = await alice.call_tool(
                    "new_item",
                    {"items": [{"title": t, "project": "alice-proj", "tags": ["alice-tag"]} for t in ALICE_TITLES]},
                )
                alice_ids = [t["id"] for t in added.structured_content["items"]]
                await alice.call_tool("complete_item", {"id": alice_ids[1]})
                await alice.call_tool("update_item", {"id": alice_ids[2], "notes": "alice: secret notes"})
            async with mcp_client(server.url, tokens["bob"]) as bob:
                added = await bob.call_tool("new_item", {"title": "bob: buy bread", "project": "bob-proj"})
                bob_ids = [t["id"] for t in added.structured_content["items"]]
            return alice_ids, bob_ids

        alice_ids, bob_ids = run(seed)
        assert alice_ids == [1, 2, 3, 4] and bob_ids == [1]  # short ids, per owner
        yield World(server, db, home, tokens, alice_ids, bob_ids)


def alices_view(world: World) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    async def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with mcp_client(world.server.url, world.tokens["alice"]) as alice:
            tasks = (await alice.call_tool("list_items", {"status": "all"})).structured_content["items"]
            history = (await alice.call_tool("history", {"limit": 100})).structured_content["entries"]
            return tasks, history

    result: tuple[list[dict[str, Any]], list[dict[str, Any]]] = run(read)
    return result


@pytest.mark.parametrize("viewer", ["bob", "carol"])
@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_other_users_ids_answer_exactly_like_ids_nobody_has(world: World, viewer: str, mode: str) -> None:
    before = alices_view(world)
    foreign = [i for i in world.alice_ids if viewer != "bob" or i not in world.bob_ids]
    assert foreign

    # A new task linked to the very id it is about to get is refused as a cycle (self-reference),
    # whoever else uses that id: not about owners, so that one case is left out.
    next_id = {"bob": 2, "carol": 1}[viewer]

    async def probe() -> list[tuple[str, int, str, str]]:
        mismatches = []
        async with mcp_client(world.server.url, world.tokens[viewer], mode=mode) as client:
            for op in [*ID_OPERATIONS, "resource"]:
                nobody = await outcome(client, op, NOBODYS)
                assert "alice" not in nobody
                for task_id in foreign:
                    if op.startswith("new_item") and task_id == next_id:
                        continue
                    seen = await outcome(client, op, task_id)
                    if seen != nobody or "alice" in seen:
                        mismatches.append((op, task_id, seen, nobody))
        return mismatches

    mismatches = run(probe)
    assert mismatches == []
    assert alices_view(world) == before  # nothing of alice's changed


def test_lists_views_prompts_and_completions_show_only_ones_own(world: World) -> None:
    before = alices_view(world)

    async def look(user: str) -> str:
        seen: list[str] = []
        async with mcp_client(world.server.url, world.tokens[user]) as client:
            for args in ({}, {"status": "all"}, {"query": "alice"}, {"project": "alice-proj"}, {"tag": "alice-tag"}):
                result = await client.call_tool("list_items", args)
                seen += [str(result.content), str(result.structured_content)]
                shown = await client.call_tool("show_tasks", args)
                seen.append(str(shown.structured_content))
            for uri in (PENDING, "todo://today", "todo://projects"):
                seen.append(str((await client.read_resource(uri)).contents))
            seen.append(str((await client.list_resources()).resources))
            seen.append(str((await client.call_tool("history", {"limit": 100})).structured_content))
            for prompt, args in (("plan_my_day", {}), ("weekly_review", {})):
                seen.append(str((await client.get_prompt(prompt, args)).messages))
            # a prompt for alice's project reads like one for a project nobody has (the name
            # the caller typed is echoed back)
            for prompt, args in (
                ("triage_inbox", {"project": "alice-proj"}),
                ("plan_my_day", {"project": "alice-proj", "tag": "alice-tag"}),
                ("weekly_review", {"project": "alice-proj"}),
            ):
                theirs = str((await client.get_prompt(prompt, args)).messages)
                nobodys = {key: value.replace("alice", "nobody") for key, value in args.items()}
                expected = str((await client.get_prompt(prompt, nobodys)).messages).replace("nobody", "alice")
                if theirs != expected:
                    seen.append(f"{prompt} differs: {theirs} != {expected}")
            for argument in ({"name": "project", "value": "al"}, {"name": "project", "value": ""}):
                done = await client.complete(PromptReference(type="ref/prompt", name="weekly_review"), argument)
                seen.append(str(done.completion.values))
            done = await client.complete(
                PromptReference(type="ref/prompt", name="plan_my_day"), {"name": "tag", "value": "al"}
            )
            seen.append(str(done.completion.values))
        return "\n".join(seen)

    for user in ("bob", "carol"):
        text = run(lambda user=user: look(user))
        assert "alice" not in text, text
    assert "bob: buy bread" in run(lambda: look("bob"))  # the probe sees what it should
    assert "alice: pay the rent" in run(lambda: look("alice"))
    assert alices_view(world) == before


def test_undo_and_empty_trash_touch_only_ones_own(world: World) -> None:
    before = alices_view(world)

    async def act() -> None:
        async with mcp_client(world.server.url, world.tokens["carol"]) as carol:
            nothing = await carol.call_tool("undo", {})
            assert nothing.is_error and "nothing to undo" in nothing.content[0].text
            await carol.call_tool("empty_trash", {"confirm": True})
        async with mcp_client(world.server.url, world.tokens["bob"]) as bob:
            added = await bob.call_tool("new_item", {"title": "bob: temporary"})
            temp = added.structured_content["items"][0]["id"]
            assert temp == 2  # bob's next id, whatever alice has
            undone = await bob.call_tool("undo", {"steps": 1})
            assert not undone.is_error and "bob: temporary" in undone.content[0].text
            await bob.call_tool("delete_item", {"id": 1, "confirm": True})
            await bob.call_tool("empty_trash", {"confirm": True})
            left = await bob.call_tool("list_items", {"status": "all"})
            assert left.structured_content["items"] == []

    run(act)
    assert alices_view(world) == before


# ---- notifications ------------------------------------------------------------------------------


def cli_add(world: World, title: str) -> None:
    """The local user (the CLI, as over stdio) changes the same database."""
    subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "add", "--db", str(world.db), title],
        check=True,
        env=subprocess_env(world.home),
        capture_output=True,
        timeout=60,
    )


def test_handshake_subscribers_hear_only_their_own_changes(world: World) -> None:
    async def scenario() -> None:
        bob_inbox, alice_inbox = Inbox(), Inbox()
        async with (
            mcp_client(world.server.url, world.tokens["bob"], message_handler=bob_inbox) as bob,
            mcp_client(world.server.url, world.tokens["alice"], message_handler=alice_inbox) as alice,
        ):
            with legacy_api():
                for uri in (PENDING, "todo://tasks/1", "todo://tasks/3"):
                    await bob.subscribe_resource(uri)
                    await alice.subscribe_resource(uri)
            await alice.call_tool("update_item", {"id": 3, "notes": "alice: more secret notes"})
            await alice.call_tool("new_item", {"title": "alice: new one"})
            await anyio.to_thread.run_sync(cli_add, world, "local: from the shell")
            await alice_inbox.wait_for("todo://tasks/3")  # alice hears her own changes
            await alice_inbox.wait_for(PENDING)
            await anyio.sleep(QUIET)
            assert bob_inbox.messages == []  # nothing of alice's, nothing of the local user's
            assert "list_changed" in alice_inbox.messages
            alice_inbox.messages.clear()

            await bob.call_tool("new_item", {"title": "bob: again"})
            await bob_inbox.wait_for(PENDING)  # bob hears his own
            await anyio.sleep(QUIET)
            assert alice_inbox.messages == []

    run(scenario)


def test_listen_streams_hear_only_their_own_changes(world: World) -> None:
    async def scenario() -> None:
        async with (
            mcp_client(world.server.url, world.tokens["carol"], mode="auto") as carol,
            mcp_client(world.server.url, world.tokens["alice"], mode="auto") as alice,
            carol.listen(resource_subscriptions=[PENDING, "todo://tasks/1"], resources_list_changed=True) as sub,
        ):
            assert carol.protocol_version == "2026-07-28"
            await alice.call_tool("new_item", {"title": "alice: listen test"})
            await alice.call_tool("complete_item", {"id": 1})
            await anyio.to_thread.run_sync(cli_add, world, "local: from the shell again")
            with pytest.raises(TimeoutError):
                event = await next_event(sub, QUIET + 0.4)
                raise AssertionError(f"carol heard {event}")
            await carol.call_tool("new_item", {"title": "carol: mine"})
            start = time.monotonic()
            assert await next_event(sub, 3.0) is not None  # carol hears her own change
            assert time.monotonic() - start < 2.0

    run(scenario)
