"""The resources, read through the SDK's in-memory client in both protocol generations:
the three Markdown views, one task as JSON through the template, the listing (views plus
pending tasks) and completion of the template's {id}."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import ResourceTemplateReference, TextResourceContents
from support.mcp import add

pytestmark = pytest.mark.anyio


async def read(client: Client, uri: str) -> TextResourceContents:
    result = await client.read_resource(uri)
    assert len(result.contents) == 1
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    assert content.uri == uri
    return content


async def test_listing_has_the_views_the_template_and_pending_tasks(client: Client) -> None:
    listed = {r.uri: r for r in (await client.list_resources()).resources}
    assert set(listed) == {"todo://tasks/pending", "todo://today", "todo://projects"}
    assert all(r.mime_type == "text/markdown" and r.description for r in listed.values())
    templates = (await client.list_resource_templates()).resource_templates
    assert sorted((t.uri_template, t.mime_type) for t in templates) == [
        ("todo://export/{format}{?project}", "text/plain"),
        ("todo://tasks/{id}", "application/json"),
    ]

    first = await add(client, title="Pay rent", priority="high")
    done = await add(client, title="Old thing")
    await client.call_tool("complete_item", {"id": done})
    listed = {r.uri: r for r in (await client.list_resources(cache_mode="bypass")).resources}
    assert f"todo://tasks/{first}" in listed and listed[f"todo://tasks/{first}"].name == f"#{first} Pay rent"
    assert f"todo://tasks/{done}" not in listed


async def test_pending_view_is_one_line_per_task(client: Client) -> None:
    assert "Nothing pending." in (await read(client, "todo://tasks/pending")).text
    a = await add(client, title="Buy milk", tags=["errand"])
    b = await add(client, title="Write report", project="work", priority="high")
    c = await add(client, title="Done already")
    await client.call_tool("complete_item", {"id": c})
    view = await read(client, "todo://tasks/pending")
    assert view.mime_type == "text/markdown"
    lines = view.text.splitlines()
    assert lines[0] == "# Pending tasks"
    assert f"- #{a} Buy milk | #errand" in lines
    assert f"- #{b} Write report | high | +work" in lines
    assert "Done already" not in view.text
    assert lines[-1] == "(2 pending)"


async def test_today_view_has_overdue_then_due_today(client: Client) -> None:
    assert "Nothing overdue or due today." in (await read(client, "todo://today")).text
    today = datetime.now(UTC).date()
    late = await add(client, title="Late", due=(today - timedelta(days=2)).isoformat())
    now = await add(client, title="Now", due=today.isoformat())
    await add(client, title="Later", due=(today + timedelta(days=5)).isoformat())
    await add(client, title="Whenever")
    text = (await read(client, "todo://today")).text
    assert text.splitlines()[0].startswith("# Today, ")
    overdue, due_today = text.index("## Overdue"), text.index("## Due today")
    assert overdue < text.index(f"#{late} Late") < due_today < text.index(f"#{now} Now")
    assert "Later" not in text and "Whenever" not in text


async def test_projects_view_counts_pending_and_done(client: Client) -> None:
    assert "No projects yet" in (await read(client, "todo://projects")).text
    await add(client, title="a", project="work")
    done = await add(client, title="b", project="work")
    await add(client, title="c")
    await client.call_tool("complete_item", {"id": done})
    lines = (await read(client, "todo://projects")).text.splitlines()
    assert "- inbox: 1 pending, 0 done" in lines
    assert "- work: 1 pending, 1 done" in lines


async def test_one_task_is_json_with_every_field(client: Client) -> None:
    task_id = await add(client, title="Call mom", notes="line one\nline two", tags=["family"], priority="low")
    content = await read(client, f"todo://tasks/{task_id}")
    assert content.mime_type == "application/json"
    task = json.loads(content.text)
    assert task["id"] == task_id and task["title"] == "Call mom" and task["notes"] == "line one\nline two"
    assert task["tags"] == ["family"] and task["priority"] == "low" and task["status"] == "pending"
    await client.call_tool("delete_item", {"id": task_id})
    assert json.loads((await read(client, f"todo://tasks/{task_id}")).text)["status"] == "deleted"


@pytest.mark.parametrize("uri", ["todo://tasks/999", "todo://tasks/abc", "todo://tasks/99999999999999999999999"])
async def test_unknown_tasks_are_a_clear_error(client: Client, uri: str) -> None:
    with pytest.raises(MCPError) as caught:
        await client.read_resource(uri)
    assert "task" in str(caught.value)


async def test_template_id_completes_to_pending_task_ids(client: Client) -> None:
    ids = [await add(client, title=f"task {n}") for n in range(12)]
    ref = ResourceTemplateReference(type="ref/resource", uri="todo://tasks/{id}")
    every = (await client.complete(ref, {"name": "id", "value": ""})).completion
    assert sorted(int(v) for v in every.values) == ids
    ones = (await client.complete(ref, {"name": "id", "value": "1"})).completion.values
    assert sorted(ones) == ["1", "10", "11", "12"]
    by_title = (await client.complete(ref, {"name": "id", "value": "TASK 1"})).completion.values
    assert sorted(by_title, key=int) == ["2", "11", "12"]  # task 1, task 10, task 11
    other = ResourceTemplateReference(type="ref/resource", uri="todo://other/{id}")
    assert (await client.complete(other, {"name": "id", "value": ""})).completion.values == []
