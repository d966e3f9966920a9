"""What the short paths for tool calls share (transports/http/fast.py over HTTP,
transports/stdio_fast.py over stdio): a dispatch context that never sends the client a request
(the tools they take never elicit, sample or ask for roots), and their on/off switches."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from mcp.shared.dispatcher import CallOptions
from mcp.shared.exceptions import NoBackChannelError


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


def switched_on(variable: str) -> bool:
    """An on/off switch read from the environment: on unless it is 0/false/no/off."""
    return os.environ.get(variable, "1").strip().lower() not in ("0", "false", "no", "off")
