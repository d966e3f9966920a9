"""Reminders through the MCP surface, in both protocol generations: new_item and update_item
take `remind`, the structured task carries them normalized, the text line shows them briefly,
bad ones are refused with a way out, and undo brings the previous ones back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client
from support.env import MODES
from support.mcp import ok, refused, text

from mcp_server_todo.config import Config
from mcp_server_todo.server import build_server

pytestmark = pytest.mark.anyio


@pytest.fixture(params=MODES)
async def client(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Client]:
    server = build_server(Config.resolve(str(db_path), "UTC"), "core")
    async with Client(server, mode=request.param) as connected:
        yield connected


async def test_new_item_stores_reminders_normalized_and_the_line_shows_them(client: Client) -> None:
    result = await client.call_tool(
        "new_item", {"title": "dentist", "due": "2026-12-24T17:00", "remind": ["30 minutes before", "1 day before"]}
    )
    assert not result.is_error and result.structured_content is not None
    (task,) = result.structured_content["items"]
    assert task["reminders"] == ["-PT30M", "-P1D"]
    assert "⏰ 30m before, 1d before" in text(result)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    timed = (await ok(client, "new_item", {"title": "call", "remind": ["tomorrow 9am"]}))["items"][0]
    assert timed["reminders"] == [f"{tomorrow}T09:00:00Z"], "an absolute reminder needs no due date"
    listed = text(await client.call_tool("list_items", {}))
    assert f"⏰ {tomorrow} 09:00Z" in listed


async def test_update_item_replaces_and_clears_reminders_and_undo_restores_them(client: Client) -> None:
    task = (await ok(client, "new_item", {"title": "flight", "due": "2026-12-20T08:00", "remind": ["at due"]}))[
        "items"
    ][0]
    changed = (await ok(client, "update_item", {"id": task["id"], "remind": ["2 hours before"]}))["items"][0]
    assert changed["reminders"] == ["-PT2H"]
    cleared = (await ok(client, "update_item", {"id": task["id"], "remind": []}))["items"][0]
    assert cleared.get("reminders", []) == []
    await ok(client, "undo")
    listed = await ok(client, "update_item", {"id": task["id"], "title": "flight home"})
    assert listed["items"][0]["reminders"] == ["-PT2H"], "undo brought back the reminders the clear removed"


async def test_bad_reminders_are_refused_with_what_to_do(client: Client) -> None:
    no_due = await refused(client, "new_item", {"title": "x", "remind": ["30 minutes before"]})
    assert "has none" in no_due and "set due" in no_due
    assert "not understood" in await refused(client, "new_item", {"title": "x", "remind": ["whenever"]})
    assert "without a time" in await refused(client, "new_item", {"title": "x", "remind": ["tomorrow"]})
    too_many = [f"{n} minutes before" for n in range(1, 12)]
    assert "at most 10" in await refused(client, "new_item", {"title": "x", "due": "tomorrow", "remind": too_many})
    task = (await ok(client, "new_item", {"title": "y", "due": "tomorrow", "remind": ["1 hour before"]}))["items"][0]
    clearing = await refused(client, "update_item", {"id": task["id"], "due": ""})
    assert "remind=[]" in clearing, "clearing the due date of a task with a relative reminder says what to do"
