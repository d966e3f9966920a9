"""The SQLite store's read connections: a small pool apart from the one write connection.

In WAL mode a reader never waits for a writer, of this process or another: it reads the
last committed state while the writer appends to the log. So reads get their own
connections, and a listing never queues behind a write that waits for another process's
lock (up to 30 s), nor behind a long read of someone else (an export, an import preview, a
search): each read in flight holds a connection of its own (the worker threads bound how
many), and up to `IDLE_READERS` are kept open for the next reads.

The connections are `query_only`: a read transaction can never take the write lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

IDLE_READERS = 8
"""Read connections kept open between reads; more are opened when more reads run at once."""


Connect = Callable[..., sqlite3.Connection]
"""How a connection is opened: `connect(path, timeout=seconds)`, as the write connection is."""


def plain_connect(path: Path, *, timeout: float) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)


class Readers:
    """Read connections to one file, opened on demand (with `connect`, the way the store opens
    its write connection) and kept for the next read."""

    def __init__(
        self,
        path: Path,
        busy_timeout_ms: int,
        connect: Connect = plain_connect,
        reusable: Callable[[sqlite3.Connection], bool] = lambda conn: True,
    ) -> None:
        self._path = path
        self._reusable = reusable  # False: closed after its read (a snapshot that never sees a write)
        self._busy_timeout_ms = busy_timeout_ms
        self._connect_to = connect
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._lock = threading.Lock()

    def take(self, *, nowait: bool) -> sqlite3.Connection:
        """An idle connection, or a new one (opening one takes no lock and never waits: `nowait`
        changes nothing, it is there for the store's other kinds of transaction)."""
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the task database is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def give(self, conn: sqlite3.Connection) -> None:
        """Give back a connection `take` handed out (its transaction ended)."""
        with self._lock:
            keep = not self._closed and not conn.in_transaction and len(self._idle) < IDLE_READERS
            if keep and self._reusable(conn):
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections; those in use close when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = self._connect_to(self._path, timeout=self._busy_timeout_ms / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            conn.execute("PRAGMA query_only = ON")
        except BaseException:
            conn.close()
            raise
        return conn
