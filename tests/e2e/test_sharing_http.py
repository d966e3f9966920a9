"""Shared projects end to end: one real HTTP server (`--auth tokens --tools all`), alice shares
her project with bob through the share_project tool, carol stays out. Bob sees and edits the
tasks and hears about alice's changes; carol gets for every id of the project exactly what she
gets for an id nobody has; after unshare_project bob does too (his history keeps what he saw,
up to the unsharing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from support.http import mcp_client
from support.mcp import legacy_api
from support.mcp import ok as call
from support.team import (
    ID_OPERATIONS,
    NOBODYS,
    PENDING,
    QUIET,
    Inbox,
    TeamServer,
    next_event,
    outcome,
    run,
    team_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    with team_server(tmp_path_factory.mktemp("sharing")) as served:
        yield served


def items(listing: dict[str, Any]) -> dict[str, int]:
    return {task["title"]: task["id"] for task in listing["items"]}


def test_share_edit_notify_and_unshare_over_http(team: TeamServer) -> None:
    url, tokens = team.server.url, team.tokens

    async def scenario() -> None:
        bob_inbox, carol_inbox = Inbox(), Inbox()
        async with (
            mcp_client(url, tokens["alice"]) as alice,
            mcp_client(url, tokens["bob"], message_handler=bob_inbox) as bob,
            mcp_client(url, tokens["carol"], message_handler=carol_inbox) as carol,
        ):
            await call(bob, "new_item", title="bob: own")
            added = await call(
                alice,
                "new_item",
                items=[{"title": "plan offsite", "project": "work"}, {"title": "hire designer", "project": "work"}],
            )
            await call(alice, "new_item", title="alice: private", project="home")
            shared = await call(alice, "share_project", project="work", user="bob")
            assert shared == {"project": "work", "user": "bob", "seen_as": "alice/work", "tasks": 2}

            listing = await call(bob, "list_items", project="alice/work")
            copies = items(listing)
            assert set(copies) == {"plan offsite", "hire designer"}
            assert set(copies.values()).isdisjoint({1}), "bob's own task is #1; copies get his next ids"
            everything = await call(bob, "list_items", status="all")
            assert "alice: private" not in items(everything)

            # bob edits: alice sees it, with bob named in her history
            await call(bob, "complete_item", id=copies["plan offsite"])
            mine = items(await call(alice, "list_items", status="done"))
            assert mine == {"plan offsite": added["items"][0]["id"]}
            history = await call(alice, "history", id=added["items"][0]["id"])
            assert history["entries"][0]["op"] == "complete" and history["entries"][0]["by"] == "bob"

            # only the owner shares
            refused = await bob.call_tool("share_project", {"project": "alice/work", "user": "carol"})
            assert refused.is_error and "only alice can share it" in refused.content[0].text

            # bob hears alice's changes to the shared project
            with legacy_api():
                await bob.subscribe_resource(PENDING)
                await carol.subscribe_resource(PENDING)
            await call(alice, "update_item", id=added["items"][1]["id"], priority="high")
            await bob_inbox.wait_for(PENDING)
            await call(bob, "update_item", id=copies["hire designer"], notes="bob: shortlist ready")
            await anyio.sleep(QUIET)
            assert carol_inbox.messages == [], "carol hears nothing of a project not shared with her"
            copy = await bob.read_resource(f"todo://tasks/{copies['hire designer']}")
            assert "high" in getattr(copy.contents[0], "text", "")

            # carol: every id of the project answers like an id nobody has
            for task_id in [*copies.values(), *(t["id"] for t in added["items"])]:
                for op in [*ID_OPERATIONS, "resource"]:
                    assert await outcome(carol, op, task_id) == await outcome(carol, op, NOBODYS), (op, task_id)

            shares = await call(bob, "list_shares")
            assert shares["with_me"][0]["owner"] == "alice" and shares["with_me"][0]["seen_as"] == "alice/work"

            removed = await call(alice, "unshare_project", project="work", user="bob")
            assert removed["removed"] == 2
            assert items(await call(bob, "list_items", status="all")) == {"bob: own": 1}
            await call(alice, "update_item", id=added["items"][0]["id"], title="plan offsite (after)")
            for task_id in copies.values():
                for op in ID_OPERATIONS:
                    if op == "history":  # his own record of what he saw ends with the unsharing
                        entries = (await call(bob, "history", id=task_id))["entries"]
                        assert (entries[0]["op"], entries[0]["by"]) == ("unshare", "alice")
                        continue
                    assert await outcome(bob, op, task_id) == await outcome(bob, op, NOBODYS), (op, task_id)
            assert items(await call(alice, "list_items", project="work", status="all")).keys() == {
                "plan offsite (after)",
                "hire designer",
            }

    run(scenario)


def test_listen_streams_hear_changes_to_shared_projects(team: TeamServer) -> None:
    url, tokens = team.server.url, team.tokens

    async def scenario() -> None:
        async with (
            mcp_client(url, tokens["alice"], mode="auto") as alice,
            mcp_client(url, tokens["carol"], mode="auto") as carol,
        ):
            task = (await call(alice, "new_item", title="review budget", project="finance"))["items"][0]
            await call(alice, "share_project", project="finance", user="carol")
            async with carol.listen(resource_subscriptions=[PENDING]) as sub:
                await call(alice, "update_item", id=task["id"], notes="numbers are in")
                assert await next_event(sub, 3.0) is not None
            listing = items(await call(carol, "list_items", project="alice/finance"))
            assert list(listing) == ["review budget"]

    run(scenario)
