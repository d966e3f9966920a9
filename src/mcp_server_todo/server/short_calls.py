"""What the short paths for tool calls share (transports/http/fast.py over HTTP,
transports/stdio_fast.py over stdio): a dispatch context that never sends the client a request
(the tools they take never elicit, sample or ask for roots), the SDK dispatcher's answer to a
handler's exception, and their on/off switches."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp_types import ErrorData, JSONRPCError, RequestId

# where the SDK logs a handler's unexpected exception: the same place for the same failure
dispatcher_log = logging.getLogger("mcp.shared.jsonrpc_dispatcher")


class NoRequestsToClient:
    """The part of a `DispatchContext` that refuses server-initiated requests, as the SDK's own
    contexts without a back channel do (`NoBackChannelError`)."""

    @property
    def can_send_request(self) -> bool:
        return False

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)


def error_reply(request_id: RequestId, method: str, exc: Exception) -> JSONRPCError:
    """The answer the SDK's JSON-RPC dispatcher gives for a handler's exception: `MCPError` and
    pydantic errors mapped by the SDK, anything else logged and answered with code 0 and its
    message (call it in the `except` block: the log carries the traceback)."""
    error = handler_exception_to_error_data(exc)
    if error is None:
        dispatcher_log.exception("handler for %r raised", method)
        error = ErrorData(code=0, message=str(exc))
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


def switched_on(variable: str) -> bool:
    """An on/off switch read from the environment: on unless it is 0/false/no/off."""
    return os.environ.get(variable, "1").strip().lower() not in ("0", "false", "no", "off")
