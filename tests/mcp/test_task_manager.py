"""The full task manager through the MCP surface, in both protocol generations: due phrases
and windows, recurrence, subtasks, sorting and paging, bulk calls, undo steps and history.
(The rules themselves are tested in depth in test_service.py; here: that tools carry them.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client
from support.env import MODES
from support.mcp import ok, refused, text

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture(params=MODES)
async def full(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Client]:
    """Every tool group served."""
    server = build_server(Config.resolve(str(db_path), "UTC"), "all")
    async with Client(server, mode=request.param) as connected:
        yield connected


async def test_due_phrases_read_in_the_users_zone_and_shown_relative_to_today(full: Client) -> None:
    added = (await ok(full, "new_item", {"title": "call the bank", "due": "today"}))["items"][0]
    assert len(added["due"]) == 10 and added["due_human"] == "due today"
    timed = (await ok(full, "new_item", {"title": "standup", "due": "tomorrow 9am"}))["items"][0]
    assert timed["due"].endswith("T09:00+00:00") and timed["due_human"] == "due tomorrow 09:00"
    later = (await ok(full, "new_item", {"title": "dentist", "due": "in 30 days"}))["items"][0]
    assert later["due_human"].startswith("due ")
    today = await ok(full, "list_items", {"due": "today"})
    assert [t["title"] for t in today["items"]] == ["call the bank"]
    assert "not understood" in await refused(full, "new_item", {"title": "x", "due": "when pigs fly"})


async def test_completing_a_recurring_task_returns_the_next_and_undo_reverts_both(full: Client) -> None:
    first = (await ok(full, "new_item", {"title": "water plants", "due": "2026-11-25", "recur": "every 3 days"}))[
        "items"
    ][0]
    assert first["recur"] == "FREQ=DAILY;INTERVAL=3"
    done = await full.call_tool("complete_item", {"id": first["id"]})
    assert not done.is_error and done.structured_content is not None
    (nxt,) = done.structured_content["next_occurrences"]
    assert nxt["title"] == "water plants" and nxt["id"] != first["id"]
    assert "Next: #" in text(done)
    undone = await ok(full, "undo")
    assert sorted(u["op"] for u in undone["undone"]) == ["add", "complete"]
    listed = await ok(full, "list_items", {"status": "all"})
    assert [(t["id"], t["status"]) for t in listed["items"]] == [(first["id"], "pending")]


async def test_subtasks_block_their_parent_until_done(full: Client) -> None:
    created = await ok(
        full,
        "new_item",
        {"items": [{"title": "move"}, {"title": "pack", "parent_id": -1}, {"title": "van", "parent_id": -1}]},
    )
    parent = created["items"][0]["id"]
    listed = {t["id"]: t for t in (await ok(full, "list_items"))["items"]}
    assert listed[parent]["subtasks"] == 2 and listed[parent]["blocked"] is True
    assert "with_subtasks=true" in await refused(full, "complete_item", {"id": parent})
    done = await ok(full, "complete_item", {"id": parent, "with_subtasks": True})
    assert len(done["items"]) == 3
    assert (await ok(full, "list_items"))["total"] == 0


async def test_bulk_calls_are_all_or_nothing_and_name_each_failure(full: Client) -> None:
    message = await refused(
        full, "new_item", {"items": [{"title": "fine"}, {"title": ""}, {"title": "x", "due": "bad"}]}
    )
    assert "item 2" in message and "item 3" in message and "nothing was added" in message
    assert (await ok(full, "list_items", {"status": "all"}))["total"] == 0
    ids = [t["id"] for t in (await ok(full, "new_item", {"items": [{"title": f"t{i}"} for i in range(20)]}))["items"]]
    moved = await ok(full, "update_item", {"ids": ids, "project": "garden"})
    assert len(moved["items"]) == 20
    assert (await ok(full, "list_items", {"project": "garden"}))["total"] == 20
    assert "no task 999" in await refused(full, "update_item", {"ids": [*ids[:2], 999], "project": "attic"})
    assert (await ok(full, "list_items", {"project": "attic"}))["total"] == 0
    done = await ok(full, "complete_item", {"ids": ids[:5]})
    assert [t["status"] for t in done["items"]] == ["done"] * 5


async def test_sorted_pages_with_cursors_and_urgency(full: Client) -> None:
    await ok(
        full,
        "new_item",
        {
            "items": [
                {"title": "someday"},
                {"title": "overdue", "due": "2026-11-01"},
                {"title": "urgent", "priority": "high", "due": "2026-11-26"},
                {"title": "next month", "due": "2026-12-24"},
            ]
        },
    )
    seen: list[str] = []
    cursor = None
    while True:
        page = await ok(full, "list_items", {"sort": "urgency", "limit": 1, **({"cursor": cursor} if cursor else {})})
        seen += [t["title"] for t in page["items"]]
        assert page["total"] == 4
        cursor = page.get("next_cursor")
        if not cursor:
            break
    # high priority due tomorrow (6.0 + 8.3) outranks 3 weeks overdue (12.0); README "Urgency"
    assert seen == ["urgent", "overdue", "next month", "someday"]
    by_due = [t["title"] for t in (await ok(full, "list_items", {"sort": "due"}))["items"]]
    assert by_due == ["overdue", "urgent", "next month", "someday"]
    found = [t["title"] for t in (await ok(full, "list_items", {"query": "urg"}))["items"]]
    assert found == ["urgent"]


async def test_undo_steps_and_history(full: Client) -> None:
    task = (await ok(full, "new_item", {"title": "a"}))["items"][0]
    await ok(full, "update_item", {"id": task["id"], "title": "b"})
    await ok(full, "update_item", {"id": task["id"], "title": "c"})
    assert [u["op"] for u in (await ok(full, "undo", {"steps": 2}))["undone"]] == ["update", "update"]
    entries = (await ok(full, "history", {"id": task["id"]}))["entries"]
    assert [e["op"] for e in entries] == ["undo", "undo", "update", "update", "add"]
    assert entries[2]["fields"] == ["title"]
    assert "steps" in await refused(full, "undo", {"steps": 0})
