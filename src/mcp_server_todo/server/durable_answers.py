"""Answers built while the disk works: a write's fsync runs during the SDK's response work, and
the answer leaves only once the write is on disk.

Over stdio a durable write (SQLite, `synchronous=FULL`, store/sqlite_sync.py) used to wait for
its fsync inside the tool call; then the SDK validated and dumped the result, and the transport
encoded it: one after the other. With an `AnswerGate` active (`answering_after_disk`, which the
stdio transport sets around its server), a tool call (`offload.call`) commits, starts its fsync
on a worker thread (`store.durable_later(ahead=True)`) and returns its result at once; the gate
holds the wait under the request's id. The transport settles the gate before it writes any
message (`settle`: every held wait has returned), so nothing leaves the process, a response or
a notification, before every write made so far is durable: the promise of `synchronous=FULL`
is kept, only the order of the work changes.

If an fsync fails, the request whose write it was to cover is answered with the same tool
error the inline wait gives (`failed_result`: the `StorageError`'s one line, `isError`), never
with its success.

**Opt-in: `TODO_FSYNC_AHEAD=1`.** The default waits inline. On the shared 2-core machine of our
benchmarks, the overlap measured slower, not faster: in three same-run A/Bs of bench's call loop,
new_item p50 / the tutorial's was 1.38–1.47 with it and 1.27–1.36 without (the hand-off of the
fsync to a worker thread, 60–100 µs under load, and the GIL hand-backs cost more than the
response work it overlaps). It is kept, tested both ways answer for answer, for machines with
free cores and slow disks, where the fsync is long and the hand-off cheap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from ..errors import StorageError, TodoError

log = logging.getLogger(__name__)

ENV_FLAG: Final = "TODO_FSYNC_AHEAD"
_GATE: ContextVar[AnswerGate | None] = ContextVar("todo_answer_gate", default=None)


def enabled() -> bool:
    """Off unless TODO_FSYNC_AHEAD is 1/true/yes/on (see the module doc: on the 2-core machine
    we measure on, the thread hand-off cost more than the overlap saved)."""
    return os.environ.get(ENV_FLAG, "0").strip().lower() in ("1", "true", "yes", "on")


class AnswerGate:
    """The writes whose fsync may still be running, by the id of the request that made them."""

    def __init__(self) -> None:
        self._held: list[tuple[Any, Callable[[], None]]] = []
        self._failed: dict[Any, TodoError] = {}

    def hold(self, request_id: Any, waits: list[Callable[[], None]]) -> None:
        """Keep the waits of `request_id`'s writes until `settle`."""
        self._held.extend((request_id, wait) for wait in waits)

    def settle(self) -> None:
        """Return once every held write is on disk (blocking: over stdio a write's wait always
        was inline); a failed one is kept against its request (`failure`)."""
        while self._held:
            request_id, wait = self._held.pop(0)
            try:
                wait()
            except TodoError as exc:
                self._failed.setdefault(request_id, exc)
            except Exception as exc:  # not expected from an fsync: still never answered as saved
                log.exception("waiting for a write to reach the disk failed")
                self._failed.setdefault(request_id, StorageError(f"the disk did not confirm the write ({exc})"))

    def failure(self, request_id: Any) -> TodoError | None:
        """The error of `request_id`'s write whose fsync failed, once (None if none did)."""
        return self._failed.pop(request_id, None) if self._failed else None


@contextmanager
def answering_after_disk(gate: AnswerGate) -> Iterator[None]:
    """Within (and in the tasks started within): tool calls leave their fsync waits to `gate`."""
    token = _GATE.set(gate)
    try:
        yield
    finally:
        _GATE.reset(token)


def current_gate() -> AnswerGate | None:
    """The gate tool calls hand their waits to, if any."""
    return _GATE.get()


def failed_result(exc: TodoError, result: dict[str, Any]) -> dict[str, Any]:
    """The tool error a write whose fsync failed is answered with, in place of its `result`:
    what the SDK writes when the tool returns `toolset.error(exc)` (the inline wait's answer):
    the text of `exc`, `isError`, no structured content, the envelope's other members kept."""
    kept = {key: value for key, value in result.items() if key not in ("content", "structuredContent", "isError")}
    return {"content": [{"type": "text", "text": str(exc)}], **kept, "isError": True}
