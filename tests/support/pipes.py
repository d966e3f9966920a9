"""A client's ends of an in-process stdio server's stdin and stdout (OS pipes), for tests that
run the real stdio transport in this process (serve_stdio(server, stdin=..., stdout=...))."""

from __future__ import annotations

import json
import os
import select
import time
from typing import Any, BinaryIO


class StdioPipes:
    """The pipes, the next request id, and what the server wrote but no one has read yet."""

    def __init__(self) -> None:
        server_in, self.to_server = os.pipe()
        self.from_server, server_out = os.pipe()
        self.server_in: BinaryIO = os.fdopen(server_in, "rb")
        self.server_out: BinaryIO = os.fdopen(server_out, "wb")
        self.buffer = b""
        self.next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, *, notify: bool = False) -> int:
        """Write a request (its id returned) or, with `notify`, a notification."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            self.next_id += 1
            message["id"] = self.next_id
        self.write(message)
        return self.next_id

    def write(self, message: dict[str, Any]) -> None:
        os.write(self.to_server, json.dumps(message).encode() + b"\n")

    def raw_line(self, timeout: float) -> bytes | None:
        """The next line the server wrote within `timeout` seconds; None if none came (or it
        closed its stdout)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_server], [], [], left)[0]:
                return None
            chunk = os.read(self.from_server, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def close(self) -> None:
        """Close the server's stdin: it stops."""
        os.close(self.to_server)
