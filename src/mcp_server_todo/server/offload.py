"""Service calls off the event loop: `offload` runs one on the loop when the store needs no
waiting, else on a worker thread; `call` is a tool's service call, with the expected
failures (`TodoError`) turned into tool errors.

A durable write waits for the disk: its commit's fsync. Over a transport that answers several
requests at once (HTTP: `many_clients`), when the disk's fsyncs are slow (longer than a thread
hop), a call made on the loop commits there and then waits for that fsync on a worker thread,
while the loop serves the other requests; the writes that commit meanwhile share the next fsync
(group commit, store/sqlite_sync.py). The answer goes out only once the commit is on disk. On
a quick disk the wait stays inline: a thread hop would only add to its latency. Over stdio (one
client) the fsync starts on a worker thread right after the commit and the answer is built
meanwhile; the transport writes it once the fsync has ended (`call`'s `hold`, server/durable_answers.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import anyio
from mcp_types import CallToolResult

from ..errors import TodoError
from ..service import TodoService
from ..store import WouldBlock, durable_later, nowait
from .context import Ctx, service_of
from .durable_answers import current_gate
from .toolset import error

_T = TypeVar("_T")

_MANY_CLIENTS: ContextVar[bool] = ContextVar("todo_many_clients", default=False)


@contextmanager
def many_clients() -> Iterator[None]:
    """Around one request of a transport that answers several at once (see the module doc)."""
    token = _MANY_CLIENTS.set(True)
    try:
        yield
    finally:
        _MANY_CLIENTS.reset(token)


def _run_all(waits: list[Callable[[], None]]) -> None:
    for wait in waits:
        wait()


async def offload(
    service: TodoService,
    fn: Callable[[TodoService], _T],
    *,
    heavy: bool = False,
    hold: Callable[[list[Callable[[], None]]], None] | None = None,
) -> _T:
    """Run a service call on the event loop when the store needs no waiting (the common, short
    calls: no thread hop), else on a worker thread where waiting for another process's lock is
    harmless. A `heavy` call (an import, an export, an undo, a search: any whose cost the
    caller cannot bound small) always runs on a worker thread, so it never stalls the loop.
    With `hold`, a short call's commits start their fsync at once and `hold` gets the waits
    (the caller must run them before it answers: server/durable_answers.py)."""
    if not heavy:
        waits: list[Callable[[], None]] = []
        try:
            try:
                with nowait():
                    if hold is not None:
                        with durable_later(ahead=True) as waits:
                            return fn(service)
                    if not _MANY_CLIENTS.get():
                        return fn(service)
                    with durable_later() as waits:
                        return fn(service)
            except WouldBlock:
                pass  # raised before anything was written: `waits` is empty
        finally:
            # even when the call failed after a commit: nothing is answered before it is on disk
            if waits and hold is not None:
                hold(waits)
            elif waits:
                await anyio.to_thread.run_sync(_run_all, waits, abandon_on_cancel=True)
    # abandoned if cancelled (a shutdown past its timeout): the thread cannot be stopped, and
    # waiting for it would hold up the exit; what it had not committed is rolled back
    return await anyio.to_thread.run_sync(fn, service, abandon_on_cancel=True)


async def call(ctx: Ctx, fn: Callable[[TodoService], CallToolResult], *, heavy: bool = False) -> CallToolResult:
    """A tool's service call; expected failures become tool errors that say what to do. Under
    an answer gate (stdio, server/durable_answers.py) a short call's fsync runs while its answer
    is built, and the gate holds the wait until the answer is written."""
    gate = current_gate()
    hold = None
    if gate is not None and not _MANY_CLIENTS.get():
        hold = functools.partial(gate.hold, ctx.request_context.request_id)
    try:
        return await offload(service_of(ctx), fn, heavy=heavy, hold=hold)
    except TodoError as exc:
        return error(exc)
