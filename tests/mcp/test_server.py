"""Every tool through the SDK's in-memory client, in both protocol generations:
the 2025-11-25 handshake (Claude Desktop, the Inspector) and 2026-07-28."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from mcp import Client
from support.mcp import call, one
from support.mcp import only_text as text
from support.mcp import refused as error

pytestmark = pytest.mark.anyio


async def test_tools_are_listed_with_schemas_and_annotations(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"list_items", "new_item", "complete_item", "update_item", "delete_item", "undo"}
    for tool in tools.values():
        assert tool.description and len(tool.description) < 400
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        ann = tool.annotations
        assert ann is not None and ann.open_world_hint is False
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
    assert tools["list_items"].annotations.read_only_hint is True  # type: ignore[union-attr]
    assert tools["delete_item"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["complete_item"].annotations.idempotent_hint is True  # type: ignore[union-attr]
    # The seed's tools keep their names and arguments: list_items() and complete_item(id), new_item(title).
    assert tools["list_items"].input_schema.get("required", []) == []
    assert tools["new_item"].input_schema["properties"]["title"]["type"] == "string"
    assert tools["complete_item"].input_schema["properties"]["id"]["type"] == "integer"


async def test_tools_list_is_small(client: Client) -> None:
    tools = (await client.list_tools()).tools
    wire = json.dumps(
        [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools], separators=(",", ":")
    )
    assert len(wire) < 8000, len(wire)


async def test_tool_groups_keep_the_order_of_tools_list() -> None:
    """server/tools/__init__ imports one module per group; the import order is tools/list's."""
    from mcp_server_todo.server.tools import tools

    assert tools.groups == ["core", "history", "share", "import", "trash", "view"]
    core = ["list_items", "new_item", "complete_item", "update_item", "undo", "delete_item"]
    assert [tool.name for tool in tools.select("core")] == core
    assert [tool.name for tool in tools.select("view,history")] == [*core, "history", "show_tasks"]


async def test_the_tutorial_dialog(client: Client) -> None:
    groceries = await one(client, "new_item", {"title": "Buy groceries"})
    assert groceries["title"] == "Buy groceries" and groceries["status"] == "pending"
    listed = await call(client, "list_items")
    assert text(listed).splitlines()[0] == f"#{groceries['id']} Buy groceries"
    await one(client, "new_item", {"title": "Book a dentist appointment"})
    done = await one(client, "complete_item", {"id": groceries["id"]})
    assert done["status"] == "done" and done["completed_at"]
    final = await call(client, "list_items")
    assert final.structured_content is not None
    assert [item["title"] for item in final.structured_content["items"]] == ["Book a dentist appointment"]
    assert final.structured_content["total"] == 1 and "next_cursor" not in final.structured_content
    assert "Buy groceries" not in text(final)
    history = await call(client, "list_items", {"status": "done"})
    assert "Buy groceries" in text(history)


async def test_list_text_is_compact_one_line_per_task(client: Client) -> None:
    for i in range(3):
        await call(client, "new_item", {"title": f"task {i}", "priority": "high", "tags": ["x"], "project": "p"})
    lines = text(await call(client, "list_items")).splitlines()
    assert lines == [f"#{i + 1} task {i} | high | +p | #x" for i in range(3)], "no footer when nothing is cut"


async def test_new_item_with_all_fields(client: Client) -> None:
    parent = await one(client, "new_item", {"title": "Trip"})
    result = await call(
        client,
        "new_item",
        {
            "title": "  Pack bags  ",
            "notes": "passport!\nsocks",
            "priority": "medium",
            "due": "2026-12-24T17:00+01:00",
            "project": "travel",
            "tags": ["#home", "Home", "urgent"],
            "parent_id": parent["id"],
        },
    )
    assert result.structured_content is not None
    task = result.structured_content["items"][0]
    assert task["title"] == "Pack bags"
    assert task["notes"] == "passport!\nsocks"
    assert task["priority"] == "medium"
    assert task["due"] == "2026-12-24T17:00+01:00"
    assert task["project"] == "travel"
    assert task["tags"] == ["home", "urgent"]
    assert task["parent_id"] == parent["id"]
    assert text(result).startswith(f"Added #{task['id']} Pack bags")


async def test_completing_twice_changes_nothing(client: Client) -> None:
    task = await one(client, "new_item", {"title": "once"})
    first = await one(client, "complete_item", {"id": task["id"]})
    again = await call(client, "complete_item", {"id": task["id"]})
    assert again.structured_content == {"items": [first], "next_occurrences": []}
    assert text(again).startswith("Already done")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"id": True}, "integer"),
        ({"id": "3"}, "integer"),
        ({"id": 1.5}, "integer"),
        ({}, "id"),
        ({"id": 0}, "positive"),
        ({"id": 99}, "call list_items"),
    ],
)
async def test_complete_item_rejects_bad_ids(client: Client, args: dict[str, Any], needle: str) -> None:
    await call(client, "new_item", {"title": "the only task"})
    message = await error(client, "complete_item", args)
    assert needle in message
    remaining = await call(client, "list_items")
    assert remaining.structured_content is not None and remaining.structured_content["total"] == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"title": ""}, "empty"),
        ({"title": "   "}, "empty"),
        ({"title": "x" * 501}, "limit is 500"),
        ({"title": "a\x00b"}, "NUL"),
        ({"title": "bell\x07"}, "U+0007"),
        ({"title": 5}, "string"),
        ({"title": "ok", "notes": "n" * 10_001}, "10000"),
        ({"title": "ok", "tags": [f"t{i}" for i in range(21)]}, "at most 20"),
        ({"title": "ok", "tags": ["x" * 51]}, "limit is 50"),
        ({"title": "ok", "tags": ["two words"]}, "one word"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "ok", "due": "2026-13-45"}, "not a real date"),
        ({"title": "ok", "due": "someday"}, "not understood"),
        ({"title": "ok", "parent_id": 42}, "no parent task 42"),
        ({"title": "ok", "project": " "}, "project is empty"),
    ],
)
async def test_new_item_rejects_bad_input(client: Client, args: dict[str, Any], needle: str) -> None:
    message = await error(client, "new_item", args)
    assert needle in message
    empty = await call(client, "list_items", {"status": "all"})
    assert empty.structured_content is not None and empty.structured_content["total"] == 0


async def test_unicode_is_stored_exactly(client: Client) -> None:
    title = "Café ☕ 日本語 مرحبا e\u0301 👩‍👩‍👧 \u200b"
    created = await one(client, "new_item", {"title": title})
    assert created["title"] == title.strip()
    listed = (await call(client, "list_items")).structured_content
    assert listed is not None and listed["items"][0]["title"] == title.strip()


async def test_update_item(client: Client) -> None:
    task = await one(client, "new_item", {"title": "draft", "due": "2026-12-01", "tags": ["a"]})
    updated = await one(client, "update_item", {"id": task["id"], "title": "final", "priority": "low", "due": ""})
    assert (updated["title"], updated["priority"], updated.get("due"), updated["tags"]) == ("final", "low", None, ["a"])
    assert updated["updated_at"] >= task["updated_at"]
    assert "nothing to update" in await error(client, "update_item", {"id": task["id"]})
    assert "call list_items" in await error(client, "update_item", {"id": 77, "title": "x"})
    await one(client, "complete_item", {"id": task["id"]})
    back = await one(client, "update_item", {"id": task["id"], "status": "pending"})
    assert back["status"] == "pending" and "completed_at" not in back


async def test_subtask_cycles_are_refused(client: Client) -> None:
    a = await one(client, "new_item", {"title": "a"})
    b = await one(client, "new_item", {"title": "b", "parent_id": a["id"]})
    assert "cycle" in await error(client, "update_item", {"id": a["id"], "parent_id": b["id"]})
    assert "cycle" in await error(client, "update_item", {"id": a["id"], "parent_id": a["id"]})
    children = (await call(client, "list_items", {"query": "b"})).structured_content
    assert children is not None and children["items"][0]["parent_id"] == a["id"]


async def test_delete_goes_to_trash_and_can_be_restored(client: Client) -> None:
    task = await one(client, "new_item", {"title": "maybe"})
    await call(client, "delete_item", {"id": task["id"]})
    assert (await call(client, "list_items")).structured_content == {"items": [], "total": 0}
    trash = await call(client, "list_items", {"status": "deleted"})
    assert "#1 maybe | deleted" in text(trash)
    assert "already in the trash" in await error(client, "delete_item", {"id": task["id"]})
    assert "restore" in await error(client, "complete_item", {"id": task["id"]})
    restored = await one(client, "update_item", {"id": task["id"], "status": "pending"})
    assert restored["status"] == "pending"


async def test_undo_reverts_each_kind_of_change(client: Client) -> None:
    task = await one(client, "new_item", {"title": "one"})
    tid = task["id"]
    await call(client, "update_item", {"id": tid, "title": "one!"})
    await call(client, "complete_item", {"id": tid})
    await call(client, "delete_item", {"id": tid})

    async def state() -> dict[str, Any] | None:
        items = (await call(client, "list_items", {"status": "all"})).structured_content
        assert items is not None
        return items["items"][0] if items["items"] else None

    undone = await call(client, "undo")
    assert undone.structured_content == {"undone": [{"op": "delete", "id": tid, "title": "one!", "status": "done"}]}
    assert (await state() or {})["status"] == "done"
    await call(client, "undo")
    current = await state()
    assert current is not None and current["status"] == "pending" and current["title"] == "one!"
    await call(client, "undo")
    current = await state()
    assert current is not None and current["title"] == "one"
    assert "removed" in text(await call(client, "undo"))
    assert await state() is None
    assert "nothing to undo" in await error(client, "undo", {})
    again = await one(client, "new_item", {"title": "two"})
    assert again["id"] == tid + 1, "ids are never reused"


async def test_pagination_has_total_and_cursor(client: Client) -> None:
    for i in range(7):
        await call(client, "new_item", {"title": f"t{i}"})
    seen: list[int] = []
    cursor = None
    while True:
        args: dict[str, Any] = {"limit": 3}
        if cursor:
            args["cursor"] = cursor
        page = await call(client, "list_items", args)
        data = page.structured_content
        assert data is not None and data["total"] == 7
        seen += [item["id"] for item in data["items"]]
        cursor = data.get("next_cursor")
        if cursor is None:
            break
        assert f'cursor="{cursor}"' in text(page) and "shown of 7" in text(page)
    assert seen == list(range(1, 8))
    first = (await call(client, "list_items", {"limit": 3})).structured_content
    assert first is not None
    other = {"limit": 3, "project": "x", "cursor": first["next_cursor"]}
    assert "different query" in await error(client, "list_items", other)
    assert "cursor" in await error(client, "list_items", {"cursor": "garbage!"})
    real = (await call(client, "list_items", {"limit": 3})).structured_content
    assert real is not None
    version, _after, now, fingerprint = json.loads(base64.urlsafe_b64decode(real["next_cursor"] + "=="))
    forged = base64.urlsafe_b64encode(json.dumps([version, [3, 4, 5, 6], now, fingerprint]).encode()).decode()
    assert "not one this server returned" in await error(client, "list_items", {"limit": 3, "cursor": forged})
    assert "between 1 and 500" in await error(client, "list_items", {"limit": 501})


async def test_filters_combine(client: Client) -> None:
    await call(client, "new_item", {"title": "Write report", "project": "work", "tags": ["q4"], "due": "2026-12-01"})
    await call(client, "new_item", {"title": "Report bug", "project": "work", "notes": "crash on save"})
    await call(client, "new_item", {"title": "Buy milk", "tags": ["q4"], "due": "2026-11-20"})

    async def titles(**args: Any) -> list[str]:
        data = (await call(client, "list_items", args)).structured_content
        assert data is not None
        return [item["title"] for item in data["items"]]

    assert await titles(project="work") == ["Write report", "Report bug"]
    assert await titles(tag="Q4") == ["Write report", "Buy milk"]
    assert await titles(query="report") == ["Write report", "Report bug"]
    assert await titles(query="crash") == ["Report bug"]
    assert await titles(query="50%") == []
    assert await titles(due="2026-11-30") == ["Buy milk"]
    assert await titles(due="2026-12-01T00:00Z") == ["Buy milk"]
    assert await titles(project="work", tag="q4") == ["Write report"]


async def test_every_result_matches_its_published_output_schema(client: Client) -> None:
    import jsonschema

    schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("new_item", {"title": "a", "due": "2026-12-01T10:00+02:00", "tags": ["x"], "priority": "high"}),
        ("new_item", {"title": "b", "parent_id": 1, "notes": "n"}),
        ("list_items", {}),
        ("list_items", {"limit": 1}),
        ("list_items", {"status": "all", "query": "zzz"}),
        ("update_item", {"id": 2, "due": "tomorrow"}),
        ("complete_item", {"id": 1, "with_subtasks": True}),
        ("delete_item", {"id": 2}),
        ("undo", {}),
    ]
    for tool, args in calls:
        result = await call(client, tool, args)
        assert result.structured_content is not None
        jsonschema.validate(result.structured_content, schemas[tool])  # type: ignore[arg-type]
