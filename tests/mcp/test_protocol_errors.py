"""Protocol-level errors (issue 11, point 11): prompts/get with an unknown prompt or argument
answers -32602 naming it, with nothing logged at ERROR; a bug in a tool, a prompt or a resource
answers "internal error (log id N)" and the log has the traceback under that id."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC
from pathlib import Path

import pytest
from mcp import Client
from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.resources import FunctionResource
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, TextContent
from pydantic import BaseModel
from support.env import MODES
from support.rawclient import RawServer

from mcp_server_todo.config import Config
from mcp_server_todo.server import TodoServer, build_server
from mcp_server_todo.server.context import AppState, Ctx
from mcp_server_todo.server.offload import call
from mcp_server_todo.server.toolset import READ, ToolSet
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import open_store, sqlite_url

pytestmark = pytest.mark.anyio

LOG_ID = re.compile(r"^internal error \(log id ([0-9a-f]{8})\)$")


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("name", "arguments", "named"),
    [
        ("nope", {}, "unknown prompt 'nope'; the prompts are plan_my_day, triage_inbox, weekly_review"),
        ("plan_my_day", {"bogus": "x"}, "prompt plan_my_day: unknown argument 'bogus'; the arguments are project, tag"),
        ("weekly_review", {"tag": "x"}, "prompt weekly_review: unknown argument 'tag'; the arguments are project"),
        ("plan_my_day", {"project": "x" * 200}, "project name is 200 characters; the limit is 100"),
    ],
)
async def test_a_bad_prompt_request_is_invalid_params_naming_it(
    client: Client, caplog: pytest.LogCaptureFixture, name: str, arguments: dict[str, str], named: str
) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(MCPError) as raised:
        await client.get_prompt(name, arguments)
    assert raised.value.code == INVALID_PARAMS
    assert raised.value.message == named
    assert not errors_logged(caplog), caplog.text
    assert "Traceback" not in caplog.text


def test_a_bad_prompt_request_over_stdio(db_path: Path, isolated_env: Path) -> None:
    with RawServer(db_path, isolated_env) as server:
        server.initialize()
        unknown = server.request("prompts/get", {"name": "nope"})
        bad_arg = server.request("prompts/get", {"name": "triage_inbox", "arguments": {"projekt": "x"}})
        not_text = server.request("prompts/get", {"name": "triage_inbox", "arguments": {"project": 5}})
        server.assert_alive()
        stderr = server.stderr()
    assert unknown["error"]["code"] == INVALID_PARAMS and "unknown prompt 'nope'" in unknown["error"]["message"]
    assert bad_arg["error"]["code"] == INVALID_PARAMS and "'projekt'" in bad_arg["error"]["message"]
    assert not_text["error"]["code"] == INVALID_PARAMS
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr


# -- bugs: "internal error (log id N)" -------------------------------------------------


class Answer(BaseModel):
    n: int


def buggy_server(db_path: Path) -> TodoServer:
    """The real server plus, through the SDK's public API, a prompt and a resource with a bug;
    and a server whose one tool has a bug, built the way every tool of ours is (ToolSet)."""
    server = build_server(Config.resolve(str(db_path), "UTC"))

    def broken_prompt() -> str:
        return {"a": 1}["b"]  # type: ignore[no-any-return]

    def broken_resource() -> str:
        return str(1 // 0)

    server.add_prompt(Prompt.from_function(broken_prompt, name="broken_prompt"))
    server.add_resource(FunctionResource(uri="todo://broken", name="broken", fn=broken_resource))
    return server


def buggy_tool_server(db_path: Path) -> TodoServer:
    """A server whose one tool, built like all of ours (ToolSet, base._Tool), has a bug in the
    service call it makes on a real SQLite store."""
    toolset = ToolSet()

    @toolset.tool(READ)
    async def broken_tool(ctx: Ctx) -> Answer:
        """A tool with a bug."""
        return await call(ctx, lambda service: {"page": service.list_tasks(limit=1)}["missing"])  # type: ignore[arg-type,return-value]

    @asynccontextmanager
    async def lifespan(_: object) -> AsyncIterator[AppState]:
        store = open_store(sqlite_url(db_path))
        try:
            yield AppState(service=TodoService(store, tz=UTC))
        finally:
            store.close()

    return TodoServer("test", lifespan=lifespan, tools=toolset.select("core"))


@pytest.mark.parametrize("mode", MODES)
async def test_a_bug_in_a_tool_is_an_internal_error_with_a_log_id(
    db_path: Path, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    async with Client(buggy_tool_server(db_path), mode=mode) as client:
        result = await client.call_tool("broken_tool", {})
    assert result.is_error
    assert isinstance(result.content[0], TextContent)
    match = LOG_ID.match(result.content[0].text)
    assert match, result.content[0].text
    record = the_traceback(caplog, match.group(1))
    assert "broken_tool" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], KeyError)
    assert "'missing'" in caplog.text  # the traceback's last line


def the_traceback(caplog: pytest.LogCaptureFixture, log_id: str) -> logging.LogRecord:
    found = [r for r in errors_logged(caplog) if log_id in r.getMessage()]
    assert len(found) == 1, caplog.text
    assert found[0].exc_info is not None
    return found[0]


@pytest.mark.parametrize("mode", MODES)
async def test_a_bug_in_a_prompt_or_resource_is_an_internal_error_with_a_log_id(
    db_path: Path, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    async with Client(buggy_server(db_path), mode=mode) as client:
        with pytest.raises(MCPError) as prompt_error:
            await client.get_prompt("broken_prompt", {})
        with pytest.raises(MCPError) as resource_error:
            await client.read_resource("todo://broken")
        assert (await client.get_prompt("plan_my_day", {})).messages  # the rest still answers
    for raised, kind in ((prompt_error.value, KeyError), (resource_error.value, ZeroDivisionError)):
        assert raised.code == INTERNAL_ERROR
        match = LOG_ID.match(raised.message)
        assert match, raised.message
        record = the_traceback(caplog, match.group(1))
        assert record.exc_info is not None and isinstance(record.exc_info[1], kind)


async def test_a_text_argument_that_looks_like_json_stays_text(client: Client) -> None:
    """The SDK pre-parses JSON in string arguments (for clients that send lists as JSON text);
    an argument that is text must arrive as sent, and a list sent as JSON text still works."""
    notes = '["milk", "eggs"]'
    created = await client.call_tool("new_item", {"title": "Shop", "notes": notes, "tags": '["errand"]'})
    assert not created.is_error, created
    assert created.structured_content is not None
    task = created.structured_content["items"][0]
    assert task["notes"] == notes and task["tags"] == ["errand"]


async def test_an_unknown_argument_with_control_characters_is_shown_quoted(client: Client) -> None:
    result = await client.call_tool("list_items", {"\x00bad\n": 1, "": 2})
    assert result.is_error and isinstance(result.content[0], TextContent)
    assert result.content[0].text.startswith("Invalid arguments for list_items: unknown argument '', '\\x00bad\\n';")


def test_the_sdk_parts_todo_server_and_tool_run_rely_on_are_there() -> None:
    """server/todo_server.py overrides MCPServer.get_prompt and read_resource, which the SDK's request
    handlers call; base._Tool.run validates with FuncMetadata.arg_model and pre_parse_json and
    drives resolvers with resolve_arguments. An SDK upgrade that moves them fails here."""
    import inspect

    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.resolve import resolve_arguments
    from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata

    assert "self.get_prompt(" in inspect.getsource(MCPServer._handle_get_prompt)
    assert "self.read_resource(" in inspect.getsource(MCPServer._handle_read_resource)
    assert callable(resolve_arguments)
    assert callable(FuncMetadata.pre_parse_json) and "arg_model" in FuncMetadata.model_fields
