"""The stdio front end: the start of a session answered from the snapshot while the SDK loads.

Standard library only. `front_run` loads the real server (the SDK and ours) in a background
thread; meanwhile the main thread reads stdin and answers `initialize` and the list calls the
snapshot holds (`stdio_snapshot.py`: the SDK's own answers from an earlier start, byte for
byte, with the request's id). Everything else read meanwhile is kept, in order, and handed
to the real transport when the server is ready (`Handoff`), with the `initialize` it
answered: the SDK's session replays it (its answer is not written again), so the handshake
state, notifications, subscriptions and later requests are exactly as without the front end.
A malformed line waits for the real transport too, which answers it as always.
"""

from __future__ import annotations

import json
import os
import select
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from .stdio_snapshot import Session, Snapshot

T = TypeVar("T")
CHUNK = 1 << 16
PLAIN_KEYS = frozenset({"jsonrpc", "id", "method", "params"})
"""A request with any other member is the SDK's to judge."""


class Handoff:
    """What the front end read and the real transport must still see (a plain class: the
    front end does not pay for importing dataclasses)."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        """Whole lines, in the order read: replayed before stdin is read again."""
        self.rest = b""
        """The start of a line whose end is still in the pipe."""
        self.quiet: set[Any] = set()
        """Ids of the replayed requests the client already has an answer to (written once only)."""
        self.answered = 0
        """How many requests the snapshot answered."""


def front_run(load: Callable[[], T], snapshot: Snapshot) -> tuple[T, Handoff]:
    """Run `load()` in a thread while answering stdin from `snapshot`; its result (or its
    exception, raised here) and what the real transport must replay."""
    ready_read, ready_write = os.pipe()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = load()
        except BaseException as exc:  # handed to the main thread, which raises it
            outcome["error"] = exc
        finally:
            os.write(ready_write, b".")

    threading.Thread(target=work, name="mcp-server-todo-load", daemon=True).start()
    try:
        handoff = answer_until(ready_read, snapshot)
    finally:
        os.close(ready_read)
        os.close(ready_write)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], handoff


def answer_until(ready_fd: int, snapshot: Snapshot, stdin_fd: int = 0, stdout_fd: int = 1) -> Handoff:
    """Answer what the snapshot can until `ready_fd` is readable and what stdin held is read;
    stdin's end is left for the real transport to see (it reads the end again)."""
    front = _Front(snapshot, stdout_fd)
    reading = True
    while True:
        readable, _, _ = select.select([ready_fd, stdin_fd] if reading else [ready_fd], [], [])
        if stdin_fd not in readable:  # what was sent is read (or the end was): the server takes over
            return front.handoff
        chunk = os.read(stdin_fd, CHUNK)
        if not chunk:
            reading = False
            continue
        *lines, front.handoff.rest = (front.handoff.rest + chunk).split(b"\n")
        for line in lines:
            front.take(line + b"\n")


class _Front:
    def __init__(self, snapshot: Snapshot, stdout_fd: int) -> None:
        self.snapshot = snapshot
        self.stdout_fd = stdout_fd
        self.session = Session()
        self.handoff = Handoff()
        self.initialized = False  # the front end answered `initialize`: later list calls may be answered

    def take(self, line: bytes) -> None:
        reply = self._reply(line)
        if reply is None:
            self.handoff.lines.append(line)
            return
        message, data = reply
        _write_all(self.stdout_fd, data + b"\n")
        self.handoff.answered += 1
        if message["method"] == "initialize":
            self.initialized = True
            self.handoff.lines.append(line)
            self.handoff.quiet.add(message["id"])

    def _reply(self, line: bytes) -> tuple[dict[str, Any], bytes] | None:
        try:
            message = json.loads(line.decode("utf-8"))  # as the real transport reads it (UTF-8 only)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return None
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or not message.keys() <= PLAIN_KEYS:
            return None
        key = self.session.key_of(message)
        if key is None:
            return None
        if message["method"] != "initialize" and self.session.era == "legacy" and not self.initialized:
            return None  # the SDK answers the initialize first: so must everything after it
        data = self.snapshot.answer(key, message["id"])
        return None if data is None else (message, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
