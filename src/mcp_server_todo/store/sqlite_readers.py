"""The SQLite store's read connections: a small pool apart from the one write connection.

In WAL mode a reader never waits for a writer, of this process or another: it reads the
last committed state while the writer appends to the log. So reads get their own
connections, and a listing never queues behind a write that waits for another process's
lock (up to 30 s), nor behind a long read of someone else (an export, an import preview, a
search): each read in flight holds one connection, up to `MAX_READERS` at once.

The connections are `query_only`: a read transaction can never take the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from . import WouldBlock

MAX_READERS = 8
"""Read connections at most; a read beyond them waits for one to be given back."""


Connect = Callable[..., sqlite3.Connection]
"""How a connection is opened: `connect(path, timeout=seconds)`, as the write connection is."""


def plain_connect(path: Path, *, timeout: float) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)


class Readers:
    """Read connections to one file, opened on demand (with `connect`, the way the store opens
    its write connection) and kept for the next read."""

    def __init__(self, path: Path, busy_timeout_ms: int, connect: Connect = plain_connect) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._connect_to = connect
        self._idle: list[sqlite3.Connection] = []
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()

    def take(self, *, nowait: bool) -> sqlite3.Connection:
        """An idle connection, or a new one; with every one busy, wait for one (or raise
        `WouldBlock` when `nowait`: the caller retries where waiting is harmless)."""
        with self._cond:
            while not self._idle and self._open >= MAX_READERS:
                if nowait:
                    raise WouldBlock
                self._cond.wait()
            if self._closed:
                raise sqlite3.ProgrammingError("the task database is closed")
            if self._idle:
                return self._idle.pop()
            self._open += 1
        try:
            return self._connect()
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def give(self, conn: sqlite3.Connection) -> None:
        """Give back a connection `take` handed out (its transaction ended)."""
        with self._cond:
            if self._closed or conn.in_transaction:
                self._open -= 1
                conn.close()
            else:
                self._idle.append(conn)
            self._cond.notify()

    def close(self) -> None:
        """Close the idle connections; those in use close when given back."""
        with self._cond:
            self._closed = True
            for conn in self._idle:
                self._open -= 1
                conn.close()
            self._idle.clear()
            self._cond.notify_all()

    def _connect(self) -> sqlite3.Connection:
        conn = self._connect_to(self._path, timeout=self._busy_timeout_ms / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            conn.execute("PRAGMA query_only = ON")
        except BaseException:
            conn.close()
            raise
        return conn
