"""Service calls off the event loop: `offload` runs one on the loop when the store needs no
waiting, else on a worker thread; `call` is a tool's service call, with the expected
failures (`TodoError`) turned into tool errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from mcp_types import CallToolResult

from ..errors import TodoError
from ..service import TodoService
from ..store import WouldBlock, nowait
from .context import Ctx, service_of
from .toolset import error

_T = TypeVar("_T")


async def offload(service: TodoService, fn: Callable[[TodoService], _T], *, heavy: bool = False) -> _T:
    """Run a service call on the event loop when the store needs no waiting (the common, short
    calls: no thread hop), else on a worker thread where waiting for another process's lock is
    harmless. A `heavy` call (an import, an export, an undo, a search: any whose cost the
    caller cannot bound small) always runs on a worker thread, so it never stalls the loop."""
    if not heavy:
        try:
            with nowait():
                return fn(service)
        except WouldBlock:
            pass
    # abandoned if cancelled (a shutdown past its timeout): the thread cannot be stopped, and
    # waiting for it would hold up the exit; what it had not committed is rolled back
    return await anyio.to_thread.run_sync(fn, service, abandon_on_cancel=True)


async def call(ctx: Ctx, fn: Callable[[TodoService], CallToolResult], *, heavy: bool = False) -> CallToolResult:
    """A tool's service call; expected failures become tool errors that say what to do."""
    try:
        return await offload(service_of(ctx), fn, heavy=heavy)
    except TodoError as exc:
        return error(exc)
