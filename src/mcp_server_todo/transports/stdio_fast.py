"""A short path through the SDK over stdio for the request a session sends most: `tools/call` of
a tool that never uses the request's back channel, on a handshake-era connection (2024-11-05 to
2025-11-25) past its `initialize`.

Over stdio the SDK hands each message from the transport through two memory streams (its
era-deciding replay, then its JSON-RPC dispatcher), spawns a task for the request in its
dispatcher, and sends the response back through another stream. What the task runs is the
server's kernel (`ServerRunner.on_request`: middleware, validation, the handler, the result's
serialization) on the connection's `Connection`. `StdioFastPath` runs that same kernel, on that
same `Connection` (captured by a middleware from the first message the SDK serves: its protocol
version, client info and capabilities, its standalone channel for resource notifications), in a
task of the transport's own, and puts the response on the transport's write stream, where the
SDK's responses go: so the answer gate (server/durable_answers.py) still holds it until the
call's fsync has ended, and the bytes written are the SDK's (the same `JSONRPCResponse` or
`JSONRPCError`, with the dispatcher's exception-to-wire mapping: `MCPError` and pydantic errors
through `handler_exception_to_error_data`, anything else logged and answered with code 0).

Taken only when nothing can differ from the SDK's answer:
- the method is `tools/call`, its params an object naming a tool declared `back_channel=False`
  (server/toolset.py; a tool that may elicit, like delete_item, or read the client's roots, is
  never declared so), with no `_meta` (progress tokens, the 2026-07-28 envelope: the SDK's);
- the connection's handshake is done (`initialize` answered: the kernel's own gate), at a
  handshake-era version (a 2026-07-28 connection: every request carries `_meta`, the SDK's);
- no request given to the SDK is still unanswered. The SDK answers requests concurrently, in
  the order it starts them; a short call started while an earlier request still runs in the SDK
  could overtake it where the SDK would not (a list overtaking the add before it), so while one
  does, every request goes to the SDK too.
Everything else goes to the SDK as before: other methods, unknown tools, bad params, requests
before the handshake, responses and notifications (`notifications/cancelled` too, after it has
stopped a short call it names).

A short call runs in its own task, like the SDK's: a call that waits (a lock held by another
process: server/offload.py moves it to a thread) does not hold up the read loop. A
`notifications/cancelled` naming a short call interrupts it and it is not answered, as the
SDK's dispatcher does; at shutdown an unfinished one is answered "Connection closed".

`TODO_STDIO_FAST=0` turns it off (tests compare both paths answer for answer).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.runner import ServerRunner
from mcp.shared.dispatcher import CallOptions
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp.shared.transport_context import TransportContext
from mcp_types import CONNECTION_CLOSED, ErrorData, JSONRPCError, JSONRPCNotification, JSONRPCRequest, JSONRPCResponse
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from ..server import sdk_seams
from ..server.durable_answers import AnswerGate, answering_after_disk
from ..server.short_calls import NoRequestsToClient, error_reply, switched_on

log = logging.getLogger(__name__)

ENV_FLAG: Final = "TODO_STDIO_FAST"
VERSIONS: Final = frozenset(HANDSHAKE_PROTOCOL_VERSIONS)  # the kernel is the same at each
_TRANSPORT: Final = TransportContext(kind="jsonrpc", can_send_request=False)
_SHUTDOWN_WRITE_SECONDS: Final = 2.0


def enabled() -> bool:
    """On unless TODO_STDIO_FAST is 0/false/no/off."""
    return switched_on(ENV_FLAG)


@dataclass
class _DispatchContext(NoRequestsToClient):
    """The `DispatchContext` of a short call: notifications go to the pipe as the SDK's
    dispatcher writes them; no server-initiated requests (the tools taken never send one)."""

    request_id: Any
    replies: MemoryObjectSendStream[SessionMessage]
    message_metadata: None = None
    transport: TransportContext = _TRANSPORT
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        if params is not None:
            message = JSONRPCNotification(jsonrpc="2.0", method=method, params=dict(params))
        else:
            message = JSONRPCNotification(jsonrpc="2.0", method=method)
        metadata = ServerMessageMetadata(related_request_id=self.request_id)
        try:
            await self.replies.send(SessionMessage(message, metadata=metadata))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            log.debug("dropped %s: write stream closed", method)

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        return None  # a request with a progress token goes to the SDK


class StdioFastPath:
    """Decides per message (`takes`) and answers what it takes (`answer`); see the module doc."""

    def __init__(self, server: Server[Any], tools: frozenset[str], gate: AnswerGate | None) -> None:
        self.server = server
        self.tools = tools
        self.gate = gate
        self.answered = 0  # calls this path answered (the rest went to the SDK)
        self._runner: ServerRunner[Any] | None = None
        self._connection: Connection | None = None
        self._sdk: set[Any] = set()  # ids of requests given to the SDK, not yet answered
        self._mine: dict[Any, tuple[anyio.CancelScope, _DispatchContext]] = {}
        server.middleware.append(self._capture)

    async def _capture(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Middleware: keep the connection and the lifespan state of the first message served."""
        if self._runner is None:
            self._connection = sdk_seams.connection(ctx.session)
            self._runner = ServerRunner(self.server, self._connection, ctx.lifespan_context)
        return await call_next(ctx)

    def takes(self, obj: Mapping[str, Any]) -> bool:
        """Whether this path answers the valid message `obj` (else the caller gives it to the SDK)."""
        method = obj.get("method")
        if "id" not in obj:
            if method == "notifications/cancelled":
                self._cancelled(cancelled_request_id_from_params(obj.get("params")))
            return False
        if method is None:  # a response (to an elicitation...): the SDK's
            return False
        if method == "tools/call" and not self._sdk and self._ready():
            params = obj.get("params")
            if isinstance(params, dict) and "_meta" not in params and params.get("name") in self.tools:
                return True
        self._sdk.add(obj["id"])
        return False

    def _ready(self) -> bool:
        connection = self._connection
        return connection is not None and connection.initialize_accepted and connection.protocol_version in VERSIONS

    def _cancelled(self, request_id: Any) -> None:
        """The client gave up on `request_id`: stop it if it is a short call; a request of the
        SDK's it no longer waits for is no longer one a short call could overtake."""
        self._sdk.discard(request_id)
        mine = self._mine.get(request_id)
        if mine is not None:
            scope, dctx = mine
            dctx.cancel_requested.set()
            scope.cancel()

    def settled(self, message: SessionMessage) -> None:
        """The transport wrote `message`: a response ends its request."""
        answer = message.message
        if self._sdk and isinstance(answer, JSONRPCResponse | JSONRPCError):
            self._sdk.discard(answer.id)

    async def answer(self, message: SessionMessage, replies: MemoryObjectSendStream[SessionMessage]) -> None:
        """Run the kernel for the request and put its response on `replies` (the transport's write stream)."""
        runner, request = self._runner, message.message
        assert runner is not None and isinstance(request, JSONRPCRequest)  # `takes` said yes
        self.answered += 1
        dctx = _DispatchContext(request.id, replies)
        scope = anyio.CancelScope()
        self._mine[request.id] = (scope, dctx)
        reply: JSONRPCResponse | JSONRPCError | None = None
        try:
            with scope, answering_after_disk(self.gate) if self.gate is not None else nullcontext():
                try:
                    result = await runner.on_request(dctx, request.method, request.params)
                except Exception as exc:
                    reply = error_reply(request.id, request.method, exc)
                else:
                    reply = JSONRPCResponse(jsonrpc="2.0", id=request.id, result=result)
                finally:
                    self._mine.pop(request.id, None)
        except anyio.get_cancelled_exc_class():
            if not dctx.cancel_requested.is_set():  # shutdown: the SDK's answer to a request left running
                closed = ErrorData(code=CONNECTION_CLOSED, message="Connection closed")
                with anyio.move_on_after(_SHUTDOWN_WRITE_SECONDS, shield=True):
                    await _send(replies, JSONRPCError(jsonrpc="2.0", id=request.id, error=closed))
            raise
        if reply is not None and not dctx.cancel_requested.is_set():
            await _send(replies, reply)


async def _send(replies: MemoryObjectSendStream[SessionMessage], reply: JSONRPCResponse | JSONRPCError) -> None:
    try:
        await replies.send(SessionMessage(reply))
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        log.debug("dropped the answer to %r: write stream closed", reply.id)
