"""The default store: one SQLite file (stdlib sqlite3), WAL, one transaction per operation.

Several processes may open the same file (Claude Desktop and Claude Code at once): write
transactions start with BEGIN IMMEDIATE, so a writer waits for the file lock up front
(busy_timeout, then our own retry) instead of failing half-way with "database is locked".

This module holds the Store: connections, locks, transactions, migrations. The transaction's
reads and writes are in `store.sqlite_tx`, its SQL in `store.sqlite_sql`, the read connections
in `store.sqlite_readers`, the group commit of synchronous=FULL in `store.sqlite_sync`, the
token SQL in `store.tokens`.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from ..dates import utc_now
from ..errors import StorageError
from . import (
    WouldBlock,
    backup,
    durable_ahead,
    faults,
    tokens,
    transaction_done,
    wait_durable_later,
    would_block_allowed,
)
from .health import Check
from .migrations import SQLITE_MIGRATIONS
from .sqlite_readers import Readers
from .sqlite_sync import GroupSync
from .sqlite_tx import SQLiteTx

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
LOCK_RETRY_SECONDS = 30.0
CLOSE_WAIT_SECONDS = 0.1


class SQLiteStore(tokens.TokenTable):
    """The task `Store` and `TokenStore` over one SQLite file."""

    def __init__(self, path: Path, *, synchronous: str | None = None) -> None:
        self.path = path
        self.url = "sqlite:///" + path.as_posix().lstrip("/")
        self._lock = threading.RLock()
        # reads never queue behind the writer; a read-only fallback snapshot is never kept
        self._readers = Readers(path, BUSY_TIMEOUT_MS, faults.connect, faults.reusable)
        sync = (synchronous or os.environ.get("TODO_SYNC") or "full").upper()
        if sync not in ("FULL", "NORMAL", "EXTRA"):
            raise StorageError(f"TODO_SYNC must be full, normal or extra; got {sync.lower()!r}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = faults.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the task database {path}: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = self._retrying(lambda: self._conn.execute("PRAGMA journal_mode = WAL").fetchone())
            # FULL in WAL mode: group commit (sqlite_sync.py), the same durability with shared fsyncs
            self._group = GroupSync(path) if sync == "FULL" and str(mode[0]).lower() == "wal" else None
            self._conn.execute(f"PRAGMA synchronous = {'NORMAL' if self._group else sync}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise faults.opening(exc, path) from exc

    # -- transactions ---------------------------------------------------------------

    def _retrying(self, fn: Any) -> Any:
        deadline = time.monotonic() + LOCK_RETRY_SECONDS
        delay = 0.005
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StorageError(
                        "the task database stayed locked by another process for 30 s; try again"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def read(self, owner: str = "local") -> AbstractContextManager[SQLiteTx]:
        """A snapshot for reading, on a read connection of its own: it waits for no writer
        (this process's or another's), and writers keep writing meanwhile."""
        return self._transaction(owner, "BEGIN DEFERRED")

    @contextmanager
    def write(self, owner: str = "local", *, sharing: bool = False) -> Iterator[SQLiteTx]:
        """A write transaction; takes the file's write lock up front, which also serialises
        the writes that fan out to the members of shared projects (so `sharing` changes nothing)."""
        with self._transaction(owner, "BEGIN IMMEDIATE") as tx:
            yield tx

    @faults.translating  # disk full, read-only, damaged: one-line StorageErrors
    @contextmanager
    def _transaction(self, owner: str, begin: str) -> Iterator[SQLiteTx]:
        """A read (BEGIN DEFERRED, on a read connection) or write transaction (on the one
        write connection, under its lock)."""
        nowait = would_block_allowed()
        reading = begin == "BEGIN DEFERRED"
        if reading:
            conn = self._readers.take(nowait=nowait)
        elif self._lock.acquire(blocking=not nowait):
            conn = self._conn
        else:
            raise WouldBlock
        number = 0  # the commit's number, to wait for it to be durable once the lock is released
        try:
            if reading:
                conn.execute(begin)  # takes no lock: a WAL reader never waits for a writer
            elif nowait:
                self._begin_nowait(conn, begin)
            else:
                self._retrying(lambda: conn.execute(begin))
            try:
                yield SQLiteTx(conn, owner)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                self._retrying(lambda: conn.execute("COMMIT"))
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if not reading:
                transaction_done()  # a write happened: never run this call twice
                number = self._group.committed() if self._group else 0
        finally:
            if reading:
                self._readers.give(conn)
            else:
                self._lock.release()
        if number and self._group:
            # the next write may begin meanwhile: it joins a later fsync; the caller may wait off
            # the event loop (durable_later) when the disk's fsyncs are slow enough to be worth it,
            # or have the fsync start now and wait just before it answers (durable_later(ahead=True))
            if durable_ahead():
                wait_durable_later(self._group.ahead(number))
                return
            wait = functools.partial(self._group.wait_durable, number)
            if not (self._group.slow() and wait_durable_later(wait)):
                wait()

    @staticmethod
    def _begin_nowait(conn: sqlite3.Connection, begin: str) -> None:
        """BEGIN without waiting: another process holding the write lock means WouldBlock
        (the caller retries where blocking is fine) instead of a wait on this thread."""
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute(begin)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise WouldBlock from exc
            raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    # -- schema -----------------------------------------------------------------------

    def _migrate(self) -> None:
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
        if all(version in applied for version, _, _ in SQLITE_MIGRATIONS):
            return
        if applied:  # an existing database about to change shape: keep a copy first
            backup.take(self.path, "before-migration")
        with self._lock:
            self._retrying(lambda: self._conn.execute("BEGIN IMMEDIATE"))
            try:
                applied = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
                for version, name, statements in SQLITE_MIGRATIONS:
                    if version in applied:
                        continue
                    log.info("applying migration %d %s to %s", version, name, self.path)
                    for statement in statements:
                        self._conn.execute(statement)
                    self._conn.execute(
                        "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                        (version, name, utc_now()),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        if self._group:
            self._group.sync_all()

    # -- API tokens (store.tokens) -------------------------------------------------------

    _token_sql = tokens.SQLITE

    @contextmanager
    def _token_conn(self, write: bool) -> Iterator[sqlite3.Connection]:
        with self._transaction("", "BEGIN IMMEDIATE" if write else "BEGIN DEFERRED") as tx:
            yield tx.conn

    def quick_check(self) -> list[str]:
        """SQLite's own consistency check: ["ok"], or what is damaged."""
        with self._transaction("", "BEGIN DEFERRED") as tx:
            return [str(row[0]) for row in tx.conn.execute("PRAGMA quick_check")]

    def schema_version(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        """Close the connections. A write still running on a worker thread (a shutdown that
        timed out) keeps the write connection: the process ends, and SQLite rolls back what
        it had not committed."""
        self._readers.close()
        if self._lock.acquire(timeout=CLOSE_WAIT_SECONDS):
            try:
                self._conn.close()
            finally:
                self._lock.release()

    def health(self) -> list[Check]:
        from .sqlite_health import health

        return health(self)
