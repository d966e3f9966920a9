"""Calling the server's tools and reading their answers, for tests on any transport that gives an
SDK `Client` (in memory or over HTTP): the text of a result, a call that must succeed or fail, the
tasks a call added."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcp import Client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import CallToolResult


def text(result: CallToolResult) -> str:
    """The text of the result's first content block (which must be text)."""
    block = result.content[0]
    assert block.type == "text"
    return block.text


def only_text(result: CallToolResult) -> str:
    """The text of a result that holds exactly one content block, a text one."""
    assert len(result.content) == 1
    return text(result)


async def call(client: Client, tool: str, args: dict[str, Any] | None = None) -> CallToolResult:
    """Calls `tool`, which must succeed."""
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, text(result)
    return result


async def ok(client: Client, tool: str, args: dict[str, Any] | None = None, **arguments: Any) -> dict[str, Any]:
    """The structured answer of a call that must succeed (arguments as a dict, or as keywords)."""
    result = await call(client, tool, {**(args or {}), **arguments})
    assert result.structured_content is not None
    return dict(result.structured_content)


async def one(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """The single task a mutation returned."""
    items = (await ok(client, tool, args))["items"]
    assert len(items) == 1, items
    return dict(items[0])


async def refused(client: Client, tool: str, args: dict[str, Any]) -> str:
    """The error text of a call that must fail."""
    result = await client.call_tool(tool, args)
    assert result.is_error, f"{tool}({args}) should have failed: {text(result)}"
    return text(result)


async def add(client: Client, **fields: Any) -> int:
    """Adds one task with `fields`; its id."""
    result = await client.call_tool("new_item", fields)
    assert not result.is_error, result
    assert result.structured_content is not None
    task_id: int = result.structured_content["items"][0]["id"]
    return task_id


async def add_titles(client: Client, *titles: str) -> list[int]:
    """Adds one task per title in one call; their ids."""
    result = await client.call_tool("new_item", {"items": [{"title": t} for t in titles]})
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return [item["id"] for item in result.structured_content["items"]]


@contextmanager
def legacy_api() -> Iterator[None]:
    """resources/subscribe and logging/setLevel are the handshake era's API; the client marks
    them deprecated (2026-07-28 replaced them), which this suite would turn into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        yield
