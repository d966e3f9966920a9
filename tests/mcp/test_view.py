"""show_tasks and its view (MCP Apps) through the SDK's in-memory client, in both protocol
generations: the tool's link to the ui:// resource, the text every client gets, the resource's
mime type and CSP, and what the view file may and may not contain. The view itself runs in a
real browser in tests/e2e/test_browser.py."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.shared.exceptions import MCPError
from mcp_types import TextResourceContents
from support.env import MODES, ROOT
from support.mcp import only_text as text

from mcp_server_todo.config import Config
from mcp_server_todo.dates import humanize
from mcp_server_todo.server import build_server
from mcp_server_todo.server.tools import tools, view

pytestmark = pytest.mark.anyio

URI = "ui://todo/tasks.html"
APPS = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})


@pytest.fixture(params=MODES)
async def apps_client(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Client]:
    """A client that renders MCP Apps (as Claude Desktop does), with the view group served."""
    server = build_server(Config.resolve(str(db_path), "UTC"), "core,view")
    async with Client(server, mode=request.param, extensions=[APPS]) as connected:
        yield connected


@pytest.fixture(params=MODES)
async def text_client(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Client]:
    """A client without MCP Apps, with the view group served."""
    server = build_server(Config.resolve(str(db_path), "UTC"), "core,view")
    async with Client(server, mode=request.param) as connected:
        yield connected


def uncursored(listing: str) -> str:
    return re.sub(r'cursor="[^"]*"', 'cursor="…"', listing)


async def seed(client: Client) -> None:
    items: list[dict[str, Any]] = [
        {"title": "Buy milk", "project": "errands", "due": "tomorrow"},
        {"title": "Write report", "project": "work", "priority": "high"},
        {"title": "Old thing"},
    ]
    added = await client.call_tool("new_item", {"items": items})
    assert not added.is_error, text(added)
    assert added.structured_content is not None
    await client.call_tool("complete_item", {"id": added.structured_content["items"][2]["id"]})


# -- the tool ---------------------------------------------------------------------------------


async def test_show_tasks_links_the_view_and_takes_list_items_filters(apps_client: Client) -> None:
    listed = {tool.name: tool for tool in (await apps_client.list_tools()).tools}
    show = listed["show_tasks"]
    assert show.meta == {"ui": {"resourceUri": URI}}
    assert show.annotations is not None and show.annotations.read_only_hint is True
    assert show.output_schema == listed["list_items"].output_schema
    filters = listed["list_items"].input_schema["properties"]
    properties = show.input_schema["properties"]
    assert {name: properties[name] for name in filters} == filters
    assert set(properties) - set(filters) == {"group_by"}
    assert properties["group_by"]["enum"] == ["project", "due"]
    assert show.description and "interactive" in show.description and len(show.description) < 400


async def test_an_apps_client_gets_the_list_and_is_told_the_user_sees_it(apps_client: Client) -> None:
    await seed(apps_client)
    listed = await apps_client.call_tool("list_items", {"project": "errands"})
    shown = await apps_client.call_tool("show_tasks", {"project": "errands", "group_by": "due"})
    assert not shown.is_error, text(shown)
    assert text(shown) == text(listed) + "\n" + view.SHOWN
    assert text(shown).startswith("#1 Buy milk | due tomorrow")
    assert shown.structured_content == listed.structured_content
    assert shown.structured_content is not None and shown.structured_content["total"] == 1


async def test_a_client_without_apps_gets_exactly_the_text_list(text_client: Client) -> None:
    await seed(text_client)
    for args in ({}, {"status": "all", "sort": "priority"}, {"limit": 1}):
        listed = await text_client.call_tool("list_items", args)
        shown = await text_client.call_tool("show_tasks", args)
        assert not shown.is_error, text(shown)
        # a cursor carries the time of the call
        assert uncursored(text(shown)) == uncursored(text(listed))
        assert {**(shown.structured_content or {}), "next_cursor": 0} == {
            **(listed.structured_content or {}),
            "next_cursor": 0,
        }
    assert "Write report" in text(await text_client.call_tool("show_tasks", {"project": "work"}))
    paged = await text_client.call_tool("show_tasks", {"limit": 1})
    assert paged.structured_content is not None and paged.structured_content.get("next_cursor")
    rest = await text_client.call_tool("show_tasks", {"limit": 1, "cursor": paged.structured_content["next_cursor"]})
    assert text(rest).startswith("#2 Write report")


async def test_bad_arguments_are_refused_in_one_line(apps_client: Client) -> None:
    unknown = await apps_client.call_tool("show_tasks", {"projekt": "work"})
    assert unknown.is_error and "unknown argument projekt" in text(unknown)
    wrong = await apps_client.call_tool("show_tasks", {"group_by": "colour"})
    assert wrong.is_error and text(wrong).startswith("Invalid arguments for show_tasks: group_by")
    refused = await apps_client.call_tool("show_tasks", {"due": "someday soon"})
    assert refused.is_error and view.SHOWN not in text(refused)


# -- the resource -----------------------------------------------------------------------------


async def test_the_view_is_served_as_an_mcp_app_with_a_closed_csp(apps_client: Client) -> None:
    listed = {r.uri: r for r in (await apps_client.list_resources()).resources}
    assert listed[URI].mime_type == APP_MIME_TYPE
    read = await apps_client.read_resource(URI)
    assert len(read.contents) == 1
    content = read.contents[0]
    assert isinstance(content, TextResourceContents)
    assert (content.uri, content.mime_type) == (URI, APP_MIME_TYPE)
    assert content.text == view.html()
    empty: list[str] = []
    csp = {"connectDomains": empty, "resourceDomains": empty, "frameDomains": empty, "baseUriDomains": empty}
    assert content.meta == {"ui": {"csp": csp, "prefersBorder": True}}


async def test_the_server_advertises_the_extension_when_the_view_is_served(db_path: Path) -> None:
    server = build_server(Config.resolve(str(db_path), "UTC"), "core,view")
    async with Client(server, mode="auto") as client:  # discovers: 2026-07-28 carries extensions
        extensions = client.server_capabilities.extensions
        assert extensions is not None and EXTENSION_ID in extensions


async def test_by_default_there_is_no_view(client: Client) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert "show_tasks" not in names
    assert all(not r.uri.startswith("ui://") for r in (await client.list_resources()).resources)
    with pytest.raises(MCPError):
        await client.read_resource(URI)


def test_the_extension_comes_only_with_the_tool() -> None:
    assert view.extensions(tools.select("core")) == []
    assert view.extensions(tools.select("all"))[0].identifier == EXTENSION_ID
    assert [tool.name for tool in tools.select("view") if tool.name not in {t.name for t in tools.select("core")}] == [
        "show_tasks"
    ]


# -- the view file ----------------------------------------------------------------------------


def test_the_view_is_self_contained() -> None:
    html = view.html()
    assert html.startswith("<!doctype html>")
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp is not None
    directives = dict(part.strip().split(" ", 1) for part in csp.group(1).split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'none'"
    assert directives["script-src"] == directives["style-src"] == "'unsafe-inline'"
    # nothing loaded from anywhere: no external scripts, styles, images, fonts, frames
    assert not re.search(r"<(script|img|iframe|link|object|embed)\b[^>]*\b(src|href)=", html, re.IGNORECASE)
    assert not re.search(r"https?://", html)
    assert not re.search(r"\b(fetch|XMLHttpRequest|WebSocket|EventSource|importScripts)\s*\(", html)
    assert "@import" not in html and "url(" not in html


def test_the_view_calls_only_tools_the_server_has() -> None:
    called = set(re.findall(r'callTool\("([a-z_]+)"', view.html()))
    assert called == {"show_tasks", "new_item", "complete_item", "update_item", "undo"}
    assert called <= {tool.name for tool in tools.select("view")}


def test_the_view_speaks_the_mcp_apps_bridge() -> None:
    html = view.html()
    for method in (
        "ui/initialize",
        "ui/notifications/initialized",
        "ui/notifications/tool-input",
        "ui/notifications/tool-result",
        "ui/notifications/host-context-changed",
        "ui/notifications/size-changed",
        "ui/resource-teardown",
        "notifications/resources/updated",
        "notifications/resources/list_changed",
    ):
        assert f'"{method}"' in html, method
    assert "protocolVersion: UI_PROTOCOL" in html and 'const UI_PROTOCOL = "2026-01-26"' in html


def test_due_grouping_reads_the_servers_due_phrases() -> None:
    """The view groups by due date from `due_human` (computed in the user's zone, which the
    browser may not share); these are the phrases it matches."""
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

    def phrase(days: int, at: str = "") -> str:
        return humanize((now.date() + timedelta(days=days)).isoformat() + at, UTC, now)

    assert "overdue" in phrase(-1) and "overdue" in phrase(0, "T09:00:00Z")
    assert phrase(0).startswith("due today") and phrase(0, "T18:00:00Z").startswith("due today")
    assert phrase(1).startswith("due tomorrow")
    assert all(re.fullmatch(r"due in \d+ days", phrase(days)) for days in range(2, 7))
    assert not re.fullmatch(r"due in \d+ days", phrase(7))
    html = view.html()
    for pattern in ('includes("overdue")', 'startsWith("due today")', 'startsWith("due tomorrow")'):
        assert pattern in html
    assert r"/^due in \d+ days$/" in html


def test_the_view_ships_in_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "ui/*.html" in pyproject["tool"]["setuptools"]["package-data"]["mcp_server_todo"]
    assert (ROOT / "src" / "mcp_server_todo" / "ui" / "tasks.html").read_text(encoding="utf-8") == view.html()
