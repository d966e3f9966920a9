"""The HTTP benchmark's load generator: deliberately thin (raw HTTP/1.1 keep-alive over asyncio
streams, one connection per worker, no SDK), so that as little CPU as possible goes to it on a
machine it shares with the servers. Each worker repeats new_item, list_items, complete_item (the
task it added); every call is one tools/call request, timed from write to full response."""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import time
from typing import Any

from http_servers import Server, log

CONCURRENCY = (1, 8, 32)
PROTOCOL = "2025-11-25"


class Connection:
    """One keep-alive HTTP/1.1 connection posting JSON-RPC to /mcp."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.next_id = 0
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        self.writer.close()

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": self.next_id,
                "method": "tools/call",
                "params": {"name": tool, "arguments": arguments},
            }
        ).encode()
        head = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: {PROTOCOL}\r\n{self.auth}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if headers.get("transfer-encoding") == "chunked":
            data = bytearray()
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = bytearray(await self.reader.readexactly(int(headers.get("content-length", "0"))))
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {bytes(data)[:200]!r}")
        text = bytes(data).decode()
        if headers.get("content-type", "").startswith("text/event-stream"):
            text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
        reply: dict[str, Any] = json.loads(text)
        if "error" in reply or reply["result"].get("isError"):
            raise RuntimeError(f"{tool} failed: {str(reply)[:200]}")
        return reply


def new_id(reply: dict[str, Any]) -> int:
    """The id of the task a new_item reply added (ours or the tutorial's shape)."""
    data = reply["result"].get("structuredContent") or {}
    if "items" in data:
        return int(data["items"][0]["id"])  # ours
    if "id" in data:
        return int(data["id"])  # the tutorial's dict
    return int(json.loads(reply["result"]["content"][0]["text"])["id"])


async def worker(
    conn: Connection, number: int, stop_at: float, warm_until: float, samples: list[float], errors: list[str]
) -> None:
    await conn.open()
    n = 0
    try:
        while time.perf_counter() < stop_at:
            n += 1
            added = 0
            for tool in ("new_item", "list_items", "complete_item"):
                if tool == "new_item":
                    arguments: dict[str, Any] = {"title": f"bench task {number}.{n}"}
                else:
                    arguments = {} if tool == "list_items" else {"id": added}
                began = time.perf_counter()
                try:
                    reply = await conn.call(tool, arguments)
                except (RuntimeError, OSError, asyncio.IncompleteReadError) as exc:
                    errors.append(str(exc))
                    await asyncio.sleep(0.01)
                    break
                ended = time.perf_counter()
                if tool == "new_item":
                    added = new_id(reply)
                if began >= warm_until and ended <= stop_at:
                    samples.append(ended - began)
    finally:
        conn.close()


async def measure(
    ports: list[int], concurrency: int, seconds: float, warmup: float, tokens: list[str] | None = None
) -> dict[str, Any]:
    """`concurrency` workers, spread over the replicas' ports (and over the users' tokens, if any)."""
    samples: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    warm_until = start + warmup
    stop_at = warm_until + seconds
    conns = [Connection(ports[i % len(ports)], tokens[i % len(tokens)] if tokens else None) for i in range(concurrency)]
    await asyncio.gather(*(worker(conn, i, stop_at, warm_until, samples, errors) for i, conn in enumerate(conns)))
    samples.sort()

    def pct(p: float) -> float:
        return round(samples[min(len(samples) - 1, int(p * len(samples)))] * 1000, 2) if samples else float("nan")

    return {
        "concurrency": concurrency,
        "calls": len(samples),
        "calls_per_s": round(len(samples) / seconds, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2) if samples else None,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def bench_server(
    server: Server, seconds: float, warmup: float, tokens: list[str] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for concurrency in CONCURRENCY:
        row = asyncio.run(measure(server.ports, concurrency, seconds, warmup, tokens))
        log(
            f"  {server.name:<12} c={concurrency:<3} {row['calls_per_s']:>8} calls/s  "
            f"p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms  errors {row['errors']}"
        )
        rows.append(row)
    return rows
