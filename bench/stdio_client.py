"""The benchmark's stdio MCP client: one child process, newline-delimited JSON-RPC over its stdin
and stdout, reads with a deadline, the 2025-11-25 handshake. The same client talks to every
server, so every server pays the same client costs. Children still alive at exit are killed.

Also the readers of a tools/call result every measure shares: `task_id`, `text_bytes`,
`compact_bytes`, `items_returned`.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import subprocess
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROTOCOL = "2025-11-25"


class ServerError(RuntimeError):
    """A server that failed, answered an error, or did not answer in time."""


_LIVE: set[subprocess.Popen[bytes]] = set()


def kill_all() -> None:
    """Kill the server processes still running (at exit, and when a run ends)."""
    for proc in list(_LIVE):
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        _LIVE.discard(proc)


atexit.register(kill_all)


class Client:
    """A minimal MCP client: one child process, newline-delimited JSON-RPC, reads with a deadline."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self._next_id = 0
        self._buffer = b""
        self._pending: dict[int, dict[str, Any]] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.t_spawn = 0.0

    # -- process --

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as err:
            self.t_spawn = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=self.env,
                cwd=str(BENCH),
                bufsize=0,
            )
        _LIVE.add(self.proc)
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.proc.stdout, selectors.EVENT_READ)

    def peak_rss_kb(self) -> int | None:
        """VmHWM of the server process (peak resident set), from /proc."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)
        with contextlib.suppress(Exception):
            self._selector.close()
        if proc.stdout is not None:
            proc.stdout.close()
        _LIVE.discard(proc)
        self.proc = None

    def __enter__(self) -> Client:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- wire --

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError as exc:
            raise ServerError(f"{self.name}: server closed its stdin\n{self._log_tail()}") from exc

    def _read_line(self, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
                return line
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise ServerError(f"{self.name}: no reply in time\n{self._log_tail()}")
            if not self._selector.select(remaining):
                continue
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise ServerError(f"{self.name}: server exited (stdout closed)\n{self._log_tail()}")
            self._buffer += chunk

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        if message.get("method") == "ping":
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": {}})
        else:
            error = {"code": -32601, "message": "not supported by the benchmark client"}
            self.send({"jsonrpc": "2.0", "id": message["id"], "error": error})

    def receive(self, request_id: int, timeout: float) -> dict[str, Any]:
        """The response to `request_id`; other responses are kept, notifications dropped."""
        if request_id in self._pending:
            return self._pending.pop(request_id)
        deadline = time.perf_counter() + timeout
        while True:
            line = self._read_line(deadline)
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError as exc:
                raise ServerError(f"{self.name}: not JSON on stdout: {line[:200]!r}") from exc
            if "method" in message:
                if "id" in message:
                    self._answer_server_request(message)
                continue
            if message.get("id") == request_id:
                return dict(message)
            self._pending[message.get("id")] = message

    def start_request(self, method: str, params: dict[str, Any] | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self._next_id

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60.0) -> Any:
        response = self.receive(self.start_request(method, params), timeout)
        if "error" in response:
            raise ServerError(f"{self.name}: {method} failed: {response['error']}")
        return response["result"]

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    # -- MCP --

    def initialize(self, timeout: float = 60.0) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "todo-bench", "version": "1.0"},
            },
            timeout,
        )
        self.notify("notifications/initialized")
        return dict(result)

    def call(self, tool: str, arguments: dict[str, Any] | None = None, timeout: float = 120.0) -> Any:
        result = self.request("tools/call", {"name": tool, "arguments": arguments or {}}, timeout)
        if result.get("isError"):
            raise ServerError(f"{self.name}: {tool}({arguments}) returned an error: {result.get('content')}")
        return result

    def call_many(self, calls: list[tuple[str, dict[str, Any]]], window: int = 32) -> list[Any]:
        """Pipelined calls (up to `window` in flight); results in call order."""
        results: list[Any] = [None] * len(calls)
        in_flight: list[tuple[int, int]] = []
        position = 0
        while position < len(calls) or in_flight:
            while position < len(calls) and len(in_flight) < window:
                tool, args = calls[position]
                request_id = self.start_request("tools/call", {"name": tool, "arguments": args})
                in_flight.append((position, request_id))
                position += 1
            index, request_id = in_flight.pop(0)
            response = self.receive(request_id, 120.0)
            if "error" in response or response["result"].get("isError"):
                raise ServerError(f"{self.name}: pipelined call failed: {response}")
            results[index] = response["result"]
        return results


def task_id(result: dict[str, Any]) -> int:
    """The id of the task a new_item result describes (ours: structured Task; tutorial: {"id", "task"})."""
    structured = result.get("structuredContent")
    if isinstance(structured, dict):
        if isinstance(structured.get("id"), int):
            return int(structured["id"])
        inner = structured.get("result")
        if isinstance(inner, dict) and isinstance(inner.get("id"), int):
            return int(inner["id"])
    for block in result.get("content", []):
        if block.get("type") == "text":
            with contextlib.suppress(ValueError):
                data = json.loads(block["text"])
                if isinstance(data, dict) and isinstance(data.get("id"), int):
                    return int(data["id"])
            text = block["text"]
            if "#" in text:
                return int(text.split("#", 1)[1].split()[0])
    raise ServerError(f"cannot find the task id in {result}")


def text_bytes(result: dict[str, Any]) -> int:
    """UTF-8 bytes of all text content blocks: what the model reads."""
    return sum(len(b["text"].encode()) for b in result.get("content", []) if b.get("type") == "text")


def compact_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def items_returned(result: dict[str, Any]) -> int:
    """How many tasks a list_items result holds (ours: structured items; the tutorials: result or blocks)."""
    structured = result.get("structuredContent")
    if isinstance(structured, dict):
        items = structured.get("items", structured.get("result"))
        if isinstance(items, list):
            return len(items)
    return len(result.get("content", []))
