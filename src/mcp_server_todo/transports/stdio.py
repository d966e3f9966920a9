"""The stdio transport: newline-delimited JSON-RPC on stdin/stdout, answering bad input.

The SDK's own stdio transport drops a line it cannot parse without a word, so a client
that sends one waits forever. This one replies as JSON-RPC 2.0 requires: -32700 for a
line that is not JSON (or not UTF-8), -32600 for JSON that is not a valid message (a
non-object, a batch array, a wrong "jsonrpc" version, a bad id or method), with the
request's id when it can be read. Everything valid goes to the SDK's server loop.

While serving, fd 1 points at stderr (stray prints from libraries cannot corrupt the
protocol) and fd 0 at /dev/null; the protocol uses private duplicates.

Started by hand on a terminal (stdin is a TTY), the server says once on stderr what it waits
for (`WAITING`); never on stdout, and never when a client's pipe is stdin.

At start-up the front end (`stdio_front.py`) may have answered the opening requests from the
snapshot while the SDK loaded: `stdio_streams` then first replays what it read (`Handoff`),
and does not write again the answer the client already has. A `Recorder`
(`stdio_snapshot.py`) keeps the SDK's answers to those requests for the next start.

A `tools/call` of a tool that needs no back channel, on an initialized 2025-11-25 session, is
answered by the server's kernel directly (`stdio_fast.py`: no SDK dispatcher, task or streams
in between), and its answer written by the same write loop. `TODO_STDIO_FAST=0` turns it off.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext, suppress
from typing import Any, BinaryIO

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from ..server import durable_answers
from ..server.durable_answers import AnswerGate, answering_after_disk, failed_result
from .stdio_fast import StdioFastPath
from .stdio_front import Handoff
from .stdio_snapshot import Recorder

log = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


def _reply_error(request_id: Any, code: int, message: str) -> SessionMessage:
    if not _valid_id(request_id):
        request_id = None
    error = types.JSONRPCError(jsonrpc="2.0", id=request_id, error=types.ErrorData(code=code, message=message))
    return SessionMessage(error)


def check_line(line: bytes) -> tuple[SessionMessage | None, SessionMessage | None]:
    """Parse one line into (message for the server, error reply for the client); at most one
    is set, neither for a blank line."""
    _, message, reply = _check(line)
    return message, reply


def _check(line: bytes) -> tuple[dict[str, Any] | None, SessionMessage | None, SessionMessage | None]:
    """`check_line`, with the parsed object of a valid message first."""
    if not line.strip():
        return None, None, None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, None, _reply_error(None, PARSE_ERROR, f"Parse error: the line is not valid UTF-8 ({exc.reason})")
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, None, _reply_error(None, PARSE_ERROR, f"Parse error: {exc}")
    if isinstance(obj, list):
        return None, None, _reply_error(None, INVALID_REQUEST, "Invalid Request: batch arrays are not supported by MCP")
    if not isinstance(obj, dict):
        return None, None, _reply_error(None, INVALID_REQUEST, "Invalid Request: a message must be a JSON object")
    request_id = obj.get("id")
    if obj.get("jsonrpc") != "2.0":
        return None, None, _reply_error(request_id, INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"')
    if "method" in obj and not isinstance(obj["method"], str):
        return None, None, _reply_error(request_id, INVALID_REQUEST, 'Invalid Request: "method" must be a string')
    if "method" in obj and "id" in obj and not _valid_id(request_id):
        return None, None, _reply_error(None, INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer')
    if "params" in obj and not isinstance(obj["params"], dict):
        return None, None, _reply_error(request_id, INVALID_REQUEST, 'Invalid Request: "params" must be an object')
    try:
        message = types.jsonrpc_message_adapter.validate_python(obj, by_name=False)
    except ValidationError:
        return (
            None,
            None,
            _reply_error(
                request_id, INVALID_REQUEST, "Invalid Request: not a JSON-RPC request, notification or response"
            ),
        )
    return obj, SessionMessage(message), None


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _divert(fd: int, target_path: str | None) -> int | None:
    """Point `fd` at `target_path` (None: at stderr); return a private duplicate of the
    original (None if that is impossible, and then nothing changed)."""
    try:
        private = os.dup(fd)
    except OSError:
        return None
    try:
        target = os.open(target_path, os.O_RDWR) if target_path else 2
        try:
            os.dup2(target, fd)
        finally:
            if target_path:
                os.close(target)
    except OSError:
        os.close(private)
        return None
    return private


@asynccontextmanager
async def stdio_streams(
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    handoff: Handoff | None = None,
    recorder: Recorder | None = None,
    gate: AnswerGate | None = None,
    fast: StdioFastPath | None = None,
) -> AsyncIterator[
    tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
]:
    restore: list[tuple[int, int]] = []
    if stdin is None:
        private_in = _divert(0, os.devnull) if sys.platform != "win32" else None
        stdin = os.fdopen(private_in, "rb", closefd=False) if private_in is not None else sys.stdin.buffer
        if private_in is not None:
            restore.append((private_in, 0))
    if stdout is None:
        private_out = _divert(1, None) if sys.platform != "win32" else None
        stdout = os.fdopen(private_out, "wb", closefd=False) if private_out is not None else sys.stdout.buffer
        if private_out is not None:
            restore.append((private_out, 1))

    read_send, read_recv = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_send, write_recv = anyio.create_memory_object_stream[SessionMessage](16)
    source, sink = stdin, stdout

    pipe_in = await _pipe_reader(source)
    pipe_out = await _pipe_writer(sink)

    replay = list(handoff.lines) if handoff else []
    rest = handoff.rest if handoff else b""
    quiet = set(handoff.quiet) if handoff else set()

    async def next_line() -> bytes:
        nonlocal rest
        if replay:  # what the front end read first (stdio_front.py), in order
            return replay.pop(0)
        if pipe_in is not None:
            line = await pipe_in.readline()
        else:
            line = await anyio.to_thread.run_sync(source.readline, abandon_on_cancel=True)
        line, rest = rest + line, b""
        return line

    pending = _Pending()

    async def read_loop() -> None:
        replies = write_send.clone()
        async with read_send, replies, anyio.create_task_group() as short_calls:
            while True:
                line = await next_line()
                if not line:
                    # stdin closed: answer what was asked before closing (a client that sends a
                    # request and then its EOF still gets the reply), within DRAIN_SECONDS
                    with anyio.move_on_after(DRAIN_SECONDS):
                        await pending.drained()
                    break
                obj, message, reply = _check(line)
                if reply is not None:
                    log.info("answered a malformed message: %s", reply.message.error.message)  # type: ignore[union-attr]
                    await replies.send(reply)
                elif message is not None:
                    if recorder is not None and obj is not None:
                        recorder.asked(obj)
                    pending.asked(message)
                    if fast is not None and obj is not None and fast.takes(obj):
                        short_calls.start_soon(fast.answer, message, replies)
                    else:
                        await read_send.send(message)

    async def write_loop() -> None:
        async with write_recv:
            async for session_message in write_recv:
                line = encode(session_message)  # while the disk may still work
                if gate is not None:  # nothing leaves before every write so far is on disk
                    settled = _settled(gate, session_message)
                    if settled is not session_message:  # a failed fsync's tool error instead
                        session_message, line = settled, encode(settled)
                pending.answered(session_message)
                if fast is not None:
                    fast.settled(session_message)
                answer = session_message.message
                answer_id = getattr(answer, "id", None)
                if answer_id in quiet and isinstance(answer, types.JSONRPCResponse | types.JSONRPCError):
                    quiet.discard(answer_id)  # the front end gave this answer already
                    if recorder is not None:
                        recorder.drop(answer_id)
                    continue
                data = line + b"\n"
                if pipe_out is not None:
                    pipe_out.write(data)
                    await pipe_out.drain()
                else:
                    await anyio.to_thread.run_sync(_write_all, sink, data)
                if recorder is not None and isinstance(answer, types.JSONRPCResponse):
                    recorder.answered(answer_id, line)
                elif recorder is not None and isinstance(answer, types.JSONRPCError):
                    recorder.drop(answer_id)

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(write_loop)
            reader_scope = anyio.CancelScope()
            tg.start_soon(_in_scope, reader_scope, read_loop)
            try:
                yield read_recv, write_send
            finally:
                reader_scope.cancel()
                await write_send.aclose()
    finally:
        if gate is not None:
            gate.settle()  # writes whose answer was never sent (cancelled) still reach the disk
        for private, fd in restore:
            with suppress(OSError):
                os.set_blocking(private, True)  # the pipe transports made it non-blocking
                os.dup2(private, fd)
                os.close(private)


DRAIN_SECONDS = 30.0
"""How long requests still running when stdin closes get to finish."""


class _Pending:
    """Ids of the requests read but not yet answered."""

    def __init__(self) -> None:
        self._ids: set[Any] = set()
        self._empty = anyio.Event()
        self._empty.set()

    def asked(self, message: SessionMessage) -> None:
        asked = message.message
        if isinstance(asked, types.JSONRPCRequest):
            self._ids.add(asked.id)
            self._empty = anyio.Event() if self._empty.is_set() else self._empty
        elif isinstance(asked, types.JSONRPCNotification) and asked.method == "notifications/cancelled":
            # a cancelled request is never answered (the SDK's rule, and stdio_fast's)
            self._ids.discard((asked.params or {}).get("requestId"))
            if not self._ids:
                self._empty.set()

    def answered(self, message: SessionMessage) -> None:
        if isinstance(message.message, types.JSONRPCResponse | types.JSONRPCError):
            self._ids.discard(message.message.id)
            if not self._ids:
                self._empty.set()

    async def drained(self) -> None:
        await self._empty.wait()


async def _in_scope(scope: anyio.CancelScope, fn: Any) -> None:
    with scope:
        await fn()


def _settled(gate: AnswerGate, session_message: SessionMessage) -> SessionMessage:
    """`session_message` once the gate's writes are on disk; a tool error instead of the answer
    to a request whose write the disk did not confirm (server/durable_answers.py)."""
    gate.settle()
    answer = session_message.message
    if isinstance(answer, types.JSONRPCResponse | types.JSONRPCError) and answer.id is not None:
        failed = gate.failure(answer.id)
        if failed is not None and isinstance(answer, types.JSONRPCResponse):  # an error claims nothing
            reply = types.JSONRPCResponse(jsonrpc="2.0", id=answer.id, result=failed_result(failed, answer.result))
            return SessionMessage(reply, metadata=session_message.metadata)
    return session_message


def encode(session_message: SessionMessage) -> bytes:
    """One message as a JSON line. Text the client sent may hold lone surrogates (legal in
    JSON, not in UTF-8); those are written as \\uXXXX escapes rather than crash the writer."""
    message = session_message.message
    try:
        return message.model_dump_json(by_alias=True, exclude_unset=True).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        data = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _write_all(sink: BinaryIO, data: bytes) -> None:
    sink.write(data)
    sink.flush()


LINE_LIMIT = 256 * 1024 * 1024
"""The longest line read from a pipe; memory is used only if a client sends one that long."""


async def _pipe_reader(source: BinaryIO) -> asyncio.StreamReader | None:
    """Read a pipe on the event loop itself (no thread hop per message); None where the
    platform or the file (a regular file, Windows) needs the thread fallback."""
    if sys.platform == "win32" or not _is_pipe(source):
        return None
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), source)
    except (OSError, ValueError, NotImplementedError):
        return None
    return reader


async def _pipe_writer(sink: BinaryIO) -> asyncio.StreamWriter | None:
    if sys.platform == "win32" or not _is_pipe(sink):
        return None
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sink)
    except (OSError, ValueError, NotImplementedError):
        return None
    return asyncio.StreamWriter(transport, protocol, None, loop)


def _is_pipe(stream: BinaryIO) -> bool:
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


WAITING = "waiting for an MCP client on stdin; to connect Claude Desktop run `mcp-server-todo install claude-desktop`"
"""The one line a server started on a terminal writes to stderr."""


def say_waiting_on_terminal() -> bool:
    """Write `WAITING` to stderr if stdin is a terminal; whether it did."""
    try:
        if not os.isatty(0):
            return False
        sys.stderr.write(WAITING + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # no stdin, or stderr closed: say nothing
        return False
    return True


async def serve_stdio(
    server: MCPServer[Any],
    handoff: Handoff | None = None,
    recorder: Recorder | None = None,
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> None:
    """Run `server` over this process's stdin/stdout (or the given pipes) until stdin closes;
    first what the front end read (`handoff`), and let `recorder` keep the answers for the
    next start's snapshot."""
    from ..server import sdk_seams
    from ..server.tools.registry import tools
    from . import stdio_fast

    if handoff is None and stdin is None:
        say_waiting_on_terminal()
    low = sdk_seams.lowlevel(server)
    gate = AnswerGate() if durable_answers.enabled() else None
    fast = StdioFastPath(low, tools.without_back_channel(), gate) if stdio_fast.enabled() else None
    streams = stdio_streams(stdin, stdout, handoff=handoff, recorder=recorder, gate=gate, fast=fast)
    async with streams as (read_stream, write_stream):
        with answering_after_disk(gate) if gate is not None else nullcontext():
            await low.run(read_stream, write_stream, low.create_initialization_options())
