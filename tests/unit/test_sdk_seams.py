"""The SDK internals we rely on, each wrapped in a function of mcp_server_todo.server.sdk_seams and
tested here: if an SDK upgrade moves them, this fails loudly instead of the server failing at
run time."""

from __future__ import annotations

import inspect
from pathlib import Path

from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver.tools import Tool
from mcp.server.session import ServerSession

from mcp_server_todo.config import Config
from mcp_server_todo.logs import ASGIApp, Receive, Scope, Send
from mcp_server_todo.server import build_server
from mcp_server_todo.server.sdk_seams import (
    connection,
    http_request_slot,
    lifespan_state,
    lowlevel,
    open_sessions,
    running,
    wrap_request_handler,
)
from mcp_server_todo.transports.http import HttpOptions, build_app
from mcp_server_todo.transports.http.limits import SessionLimits


def test_lowlevel_server_is_reachable(tmp_path: object) -> None:
    server = build_server(Config.resolve("/nonexistent/never-opened.db", "UTC"))
    low = lowlevel(server)
    assert isinstance(low, Server)
    assert {"read_stream", "write_stream", "initialization_options"} <= set(inspect.signature(low.run).parameters)


def test_tool_schemas_are_editable_before_registration() -> None:
    def probe(x: int) -> int:
        return x

    tool = Tool.from_function(probe)
    tool.parameters = {"type": "object"}
    assert tool.parameters == {"type": "object"}
    assert hasattr(tool.fn_metadata, "output_schema")


def test_the_http_session_managers_request_slot_and_state_are_reachable(tmp_path: Path) -> None:
    app = build_app(Config.resolve(str(tmp_path / "x.db"), "UTC"), "core", HttpOptions(stateless=True))
    manager = app.server.session_manager
    slot = http_request_slot(manager)
    assert callable(slot.app)
    assert running(manager) is False  # not started: requests would be refused
    assert lifespan_state(manager) is None


def test_the_open_sessions_and_their_idle_deadlines_are_reachable(tmp_path: Path) -> None:
    app = build_app(Config.resolve(str(tmp_path / "x.db"), "UTC"), "core", HttpOptions(session_idle_timeout=60))
    manager = app.server.session_manager
    assert open_sessions(manager) == {}
    assert isinstance(http_request_slot(manager).app, SessionLimits)  # stateful servers count sessions
    assert manager.session_idle_timeout == 60
    # a transport's `idle_scope` (public) is what Retry-After reads
    from mcp.server.streamable_http import StreamableHTTPServerTransport

    assert "idle_scope" in vars(StreamableHTTPServerTransport(mcp_session_id="x", idle_timeout=60))


def test_seam_connection_of_a_session() -> None:
    """sdk_seams.connection reads ServerSession._connection; fails loudly if an SDK upgrade moves it."""
    conn = Connection.for_loop(outbound=None)  # type: ignore[arg-type]
    session = ServerSession(None, conn)  # type: ignore[arg-type]
    assert connection(session) is conn
    assert isinstance(conn.state, dict) and hasattr(conn.exit_stack, "callback")
    assert hasattr(conn, "send_resource_updated") and hasattr(conn, "send_resource_list_changed")


def test_a_wrapper_takes_the_request_handlers_place_inside_the_body_limit(tmp_path: Path) -> None:
    app = build_app(
        Config.resolve(str(tmp_path / "x.db"), "UTC"), "core", HttpOptions(stateless=True, json_response=True)
    )
    manager = app.server.session_manager
    before = http_request_slot(manager).app

    class Wrapper:
        def __init__(self, handler: ASGIApp) -> None:
            self.handler = handler

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.handler(scope, receive, send)

    wrapped = wrap_request_handler(manager, Wrapper)
    assert wrapped.handler is before and http_request_slot(manager).app is wrapped
    assert manager.asgi_app is http_request_slot(manager)  # the body limit still comes first
