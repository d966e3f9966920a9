"""One real HTTP server for the tests (`python -m mcp_server_todo serve --http` on 127.0.0.1, a
free port, until stopped), operator tokens for it, and the SDK's client over Streamable HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from support.env import server_command, subprocess_env

START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HttpServer:
    """`python -m mcp_server_todo serve --http --port P --db DB ...` until stopped."""

    def __init__(
        self,
        db: Path | str,
        home: Path,
        *extra: str,
        env: dict[str, str] | None = None,
        logs: Path | None = None,
        name: str = "the server",
    ) -> None:
        """`db` is a file or a store URL; stderr goes beside the file, or into `logs`."""
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/mcp"
        stem = f"{db.name}.http" if isinstance(db, Path) else f"replica-{name}"
        folder = logs if logs is not None else Path(db).parent
        self.stderr_path = folder / f"{stem}.{time.monotonic_ns()}.stderr"
        self._stderr: IO[bytes] = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            server_command(db, "--http", "--port", str(self.port), *extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**subprocess_env(home), **(env or {})},
        )
        self.returncode: int | None = None
        self.stdout = b""

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}: {self.stderr()}")
            try:
                if httpx2.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not answer /healthz within {timeout} s: {self.stderr()}")

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.returncode is not None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        assert self.proc.stdout is not None
        self.stdout = self.proc.stdout.read()
        self.proc.stdout.close()
        self.returncode = self.proc.returncode
        return self.proc.returncode


@contextmanager
def http_server(db: Path, home: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[HttpServer]:
    server = HttpServer(db, home, *extra, env=env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def make_token(db: Path, home: Path, user: str) -> str:
    """`mcp-server-todo token create USER`: the token is the only line on stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "token", "create", user, "--db", str(db)],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
        check=True,
    )
    token = done.stdout.strip()
    assert token.startswith("todo_") and "\n" not in token, done.stdout
    return token


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@asynccontextmanager
async def mcp_client(url: str, token: str | None = None, mode: str = "legacy", **kwargs: Any) -> AsyncIterator[Client]:
    """The SDK's Client over its Streamable HTTP transport, with a bearer token."""
    async with httpx2.AsyncClient(headers=bearer(token), timeout=httpx2.Timeout(30, read=300)) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode, read_timeout_seconds=30, **kwargs) as client:  # type: ignore[arg-type]
            yield client


def initialize_body(request_id: int = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def dialog(client: Client) -> None:
    """The tutorial's dialog: add, list, add, complete, list."""
    seeded = await client.call_tool("new_item", {"title": "Buy groceries"})
    assert not seeded.is_error, seeded
    groceries = seeded.structured_content["items"][0]["id"]
    listed = await client.call_tool("list_items", {})
    assert [t["title"] for t in listed.structured_content["items"]] == ["Buy groceries"]
    added = await client.call_tool("new_item", {"title": "Book a dentist appointment"})
    dentist = added.structured_content["items"][0]["id"]
    assert added.content[0].text == f"Added #{dentist} Book a dentist appointment"
    done = await client.call_tool("complete_item", {"id": groceries})
    assert not done.is_error and done.structured_content["items"][0]["status"] == "done"
    listed = await client.call_tool("list_items", {})
    assert [(t["id"], t["title"]) for t in listed.structured_content["items"]] == [
        (dentist, "Book a dentist appointment")
    ]
