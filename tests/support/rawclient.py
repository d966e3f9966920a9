"""A deliberately dumb MCP client for tests: the real server as a subprocess, bytes lines
written to its stdin, every stdout line kept and parsed. No SDK involved, so tests can send
anything (broken JSON, invalid UTF-8, batches) and see exactly what comes back."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from support.env import server_command, subprocess_env

PROTOCOL_VERSION = "2025-11-25"
DEFAULT_TIMEOUT = 15.0


class ServerGone(AssertionError):
    """The server closed stdout (exited or crashed) while a reply was awaited."""


class RawServer:
    """`python -m mcp_server_todo serve --db DB` with pipes; use as a context manager."""

    def __init__(self, db: Path, home: Path, *extra: str, stderr_path: Path | None = None) -> None:
        self.db = db
        self.stderr_path = stderr_path or db.with_name(db.name + f".{time.monotonic_ns()}.stderr")
        self._stderr: IO[bytes] = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            server_command(db, *extra),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=subprocess_env(home),
        )
        self.lines: list[bytes] = []
        """Every line the server wrote to stdout, raw, in order."""
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._held: list[dict[str, Any]] = []
        self._next_id = 0
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="raw-stdout", daemon=True)
        self._reader.start()

    # -- plumbing ----------------------------------------------------------------------

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def send_bytes(self, data: bytes) -> None:
        """Write `data` plus a newline to the server's stdin."""
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(data + b"\n")
            self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(json.dumps(message).encode("utf-8"))

    def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next message the server writes, parsed (failing if it is not a JSON object)."""
        if self._held:
            return self._held.pop(0)
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message from the server within {timeout} s") from None
        if line is None:
            self._queue.put(None)
            raise ServerGone(f"the server closed stdout (exit code {self.proc.poll()}); stderr: {self.stderr()}")
        message = json.loads(line)
        assert isinstance(message, dict), line
        return message

    def next_response(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The next response (result or error), skipping notifications the server sends on its
        own (resources/list_changed, resources/updated)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next_message(max(deadline - time.monotonic(), 0.001))
            if "id" in message:
                return message

    def wait_for(self, request_id: Any, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """The response whose id equals `request_id` (same JSON type and value); other
        messages read meanwhile are kept for later calls."""
        deadline = time.monotonic() + timeout
        for i, held in enumerate(self._held):
            if _same_id(held, request_id):
                return self._held.pop(i)
        skipped: list[dict[str, Any]] = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no response with id {request_id!r} within {timeout} s")
                message = self.next_message(remaining)
                if _same_id(message, request_id):
                    return message
                skipped.append(message)
        finally:
            self._held.extend(skipped)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- protocol ----------------------------------------------------------------------

    def request(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        request_id = self.new_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait_for(request_id, timeout)

    def initialize(self) -> dict[str, Any]:
        response = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "rawclient", "version": "0"},
            },
        )
        assert "result" in response, response
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return response

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """tools/call; returns the CallToolResult (fails on a JSON-RPC error)."""
        response = self.request("tools/call", {"name": tool, "arguments": arguments or {}})
        assert "result" in response, response
        result: dict[str, Any] = response["result"]
        return result

    def ok(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """A tool call that must succeed; returns its structuredContent."""
        result = self.call(tool, arguments)
        assert not result.get("isError"), result
        structured: dict[str, Any] = result["structuredContent"]
        return structured

    def task(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """The single task a mutation tool (new_item, complete_item, ...) returned."""
        items: list[dict[str, Any]] = self.ok(tool, arguments)["items"]
        assert len(items) == 1, items
        return items[0]

    def assert_alive(self) -> None:
        """The process runs and still answers: a ping and a tools/list."""
        assert self.proc.poll() is None, f"server exited with {self.proc.returncode}: {self.stderr()}"
        pong = self.request("ping")
        assert pong.get("result") == {}, pong
        tools = self.request("tools/list")
        assert "list_items" in {tool["name"] for tool in tools["result"]["tools"]}, tools

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text("utf-8", "replace")[-4000:]

    # -- shutting down -----------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> int:
        """Close stdin (the server's cue to exit), wait, kill if it lingers; returns the exit code."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._finish()
        return code

    def kill(self) -> None:
        """SIGKILL, then collect what was already written to stdout."""
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        self._finish()

    def _finish(self) -> None:
        self._reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.returncode is None:
            self.close()
        elif not self._stderr.closed:
            self._finish()


def _same_id(message: dict[str, Any], request_id: Any) -> bool:
    if "id" not in message or ("result" not in message and "error" not in message):
        return False
    got = message["id"]
    return type(got) is type(request_id) and got == request_id


def is_jsonrpc_message(value: Any) -> bool:
    """A JSON-RPC 2.0 response, error, request or notification (shape only)."""
    if not isinstance(value, dict) or value.get("jsonrpc") != "2.0":
        return False
    if "method" in value:
        return isinstance(value["method"], str)
    if "result" in value:
        return "id" in value and "error" not in value
    if "error" in value:
        error = value["error"]
        return (
            "id" in value
            and isinstance(error, dict)
            and isinstance(error.get("code"), int)
            and isinstance(error.get("message"), str)
        )
    return False
