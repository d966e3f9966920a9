"""A short path through the SDK's Streamable HTTP for the requests replicas answer most:
stateless, JSON responses, handshake-era (2025-11-25 and earlier) `tools/call`, `tools/list`
and `ping`.

For such a request the SDK's stateless transport builds, per POST, a transport with its
memory streams and message router, a server task in the session manager's task group, a
JSON-RPC dispatcher with its own task group, a second spawned task for the handler, and sends
the request and its response through two pairs of streams. What it finally does is run the
server's kernel (`ServerRunner.on_request`: middleware, validation, the handler) once on a
born-ready `Connection` and write the result as a JSON body. `FastPath` does exactly that and
nothing else, with the SDK's own public single-request driver (`mcp.server.runner.serve_one`,
which the SDK's 2026-07-28 HTTP entry uses the same way):

- the same kernel, middleware chain and handlers, on a `Connection` built as the SDK's
  stateless entry builds it (`Connection.from_envelope(header or default version)`);
- the same dispatch context: no back channel (`NoBackChannelError` for server-initiated
  requests), notifications dropped (JSON mode has no wire for them, the SDK drops them too);
- the same exception-to-wire mapping as the SDK's JSON-RPC dispatcher (`MCPError` and
  pydantic errors through `handler_exception_to_error_data`, anything else logged and
  answered with code 0 and the message, the SDK's pinned compatibility behaviour);
- the same response: `JSONRPCResponse`/`JSONRPCError` dumped by alias, unset fields left
  out, `Content-Type: application/json`, status 200.

It sits where the SDK's request handler sits, inside the SDK's app: behind Starlette's routing,
the bearer-token authentication and its auth context (so the owner of each request comes from
the verified token, as before), and behind the SDK's request-body limit (413). Everything it
is not sure about goes to the SDK's handler unchanged, with the body replayed: other methods
(`initialize`, resources, prompts...), notifications and responses, malformed or invalid
JSON-RPC, batches, a failed Accept or Content-Type check, a 2026-07-28 request (the SDK's single-exchange entry already
runs `serve_one` per request), GET, DELETE, SSE-mode or stateful servers.

A POST that fails the SDK's Host/Origin/Content-Type validation (`TransportSecurityMiddleware`,
run with the transport's own settings) gets the response that validation returns, as from
the SDK's transport.

`TODO_HTTP_FAST=0` turns it off (tests compare both paths answer for answer).

Private SDK parts used, through `sdk_seams.py` (checked in `install`, which fails loudly when an
upgrade moves them, and by tests/unit/test_sdk_seams.py): the session manager's lifespan state and
task group, and its `asgi_app` being a `RequestBodyLimitMiddleware` whose `.app` is the
request handler.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import anyio
import pydantic_core
from mcp.server.connection import Connection
from mcp.server.runner import serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp.shared.dispatcher import CallOptions
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    INTERNAL_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.responses import Response

from ...logs import ASGIApp, Message, Receive, Scope, Send
from ...server import sdk_seams
from ...server.short_calls import NoRequestsToClient, error_reply, switched_on

log = logging.getLogger(__name__)
# where the SDK logs what we answer for it: a handler's unexpected exception, an unwritable result
dispatcher_log = logging.getLogger("mcp.shared.jsonrpc_dispatcher")
transport_log = logging.getLogger("mcp.server.streamable_http")

FAST_METHODS: Final = frozenset({"tools/call", "tools/list", "ping"})
ENV_FLAG: Final = "TODO_HTTP_FAST"
_VERSION_HEADER: Final = MCP_PROTOCOL_VERSION_HEADER.encode("ascii")  # as the session manager reads it
_TRANSPORT: Final = TransportContext(kind="streamable-http", can_send_request=False)
_JSON_HEADERS: Final = {"Content-Type": "application/json"}
_POST_FAILED: Final = JSONRPCError(
    jsonrpc="2.0", id=None, error=ErrorData(code=INTERNAL_ERROR, message="Error handling POST request")
).model_dump_json(by_alias=True, exclude_unset=True)


def enabled() -> bool:
    """On unless TODO_HTTP_FAST is 0/false/no/off."""
    return switched_on(ENV_FLAG)


@dataclass
class _DispatchContext(NoRequestsToClient):
    """The `DispatchContext` of one stateless JSON-mode request, as the SDK's would behave:
    no back channel, and notifications (progress, logs) dropped, as the SDK's JSON-response
    transport drops them (a JSON body carries the response only)."""

    request_id: RequestId
    message_metadata: ServerMessageMetadata
    transport: TransportContext = _TRANSPORT
    _cancel_requested: anyio.Event | None = None

    @property
    def cancel_requested(self) -> anyio.Event:
        """Never set (a stateless request cannot be cancelled by a notification); made when asked for."""
        if self._cancel_requested is None:
            self._cancel_requested = anyio.Event()
        return self._cancel_requested

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        log.debug("dropped %s: a JSON response has no room for it", method)

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        return None


class FastPath:
    """The ASGI app in place of the session manager's request handler (see the module doc)."""

    def __init__(self, manager: StreamableHTTPSessionManager, fallback: ASGIApp) -> None:
        self.manager = manager
        self.fallback = fallback
        self.security = TransportSecurityMiddleware(manager.security_settings)
        self.active = manager.stateless and manager.json_response
        self.answered = 0  # requests this path answered (the rest went to the SDK)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self.manager
        if not self.active or scope["type"] != "http" or scope.get("method") != "POST":
            await self.fallback(scope, receive, send)
            return
        version = None
        for key, value in scope["headers"]:
            if key == _VERSION_HEADER:
                version = value.decode("latin-1")
                break
        if (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS) or not sdk_seams.running(manager):
            await self.fallback(scope, receive, send)
            return

        first = await receive()
        pending: list[Message] = [first]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        if first["type"] != "http.request" or first.get("more_body", False):
            await self.fallback(scope, replay, send)  # not a whole body at once: the SDK's case
            return
        request = Request(scope, replay)
        refused = await self.security.validate_request(request, is_post=True)
        if refused is not None:
            # the SDK transport's own answer (and its log line, written once rather than twice)
            await refused(scope, replay, send)
            return
        body = await request.body()  # takes `first` back out of `pending`, and caches it
        req = self._eligible(request, body)
        if req is None:
            pending.append(first)
            await self.fallback(scope, replay, send)
            return

        self.answered += 1
        metadata = ServerMessageMetadata(request_context=request, can_send_request=False)
        dctx = _DispatchContext(request_id=req.id, message_metadata=metadata)
        connection = Connection.from_envelope(version or DEFAULT_NEGOTIATED_VERSION, None, None)
        reply: JSONRPCResponse | JSONRPCError
        try:
            result = await serve_one(
                manager.app,
                dctx,
                req.method,
                req.params,
                connection=connection,
                lifespan_state=sdk_seams.lifespan_state(manager),
            )
        except Exception as exc:
            reply = error_reply(req.id, req.method, exc)
        else:
            reply = JSONRPCResponse(jsonrpc="2.0", id=req.id, result=result)
        try:
            response = Response(reply.model_dump_json(by_alias=True, exclude_unset=True), headers=_JSON_HEADERS)
        except Exception:  # a result that cannot be written as JSON: the SDK transport's 500
            transport_log.exception("Error handling POST request")
            response = Response(_POST_FAILED, status_code=500, headers=_JSON_HEADERS)
        await response(scope, replay, send)

    def _eligible(self, request: Request, body: bytes) -> JSONRPCRequest | None:
        """The request, if this path answers it exactly as the SDK would; else None."""
        if not check_accept_headers(request)[0] or not _json_content_type(request.headers.get("content-type", "")):
            return None
        try:
            message = jsonrpc_message_adapter.validate_python(pydantic_core.from_json(body), by_name=False)
        except Exception:  # not JSON, not JSON-RPC, too deep...: the SDK answers it its way
            return None
        if not isinstance(message, JSONRPCRequest) or message.method not in FAST_METHODS:
            return None
        return message


def _json_content_type(value: str) -> bool:
    """The SDK transport's own Content-Type check (stricter than the security middleware's)."""
    return any(part.strip() == "application/json" for part in value.split(";")[0].split(","))


def install(manager: StreamableHTTPSessionManager) -> FastPath:
    """Put a `FastPath` in front of the manager's request handler (inside its body limit)."""
    return sdk_seams.wrap_request_handler(manager, lambda handler: FastPath(manager, handler))
