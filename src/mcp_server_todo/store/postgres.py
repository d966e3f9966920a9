"""The PostgreSQL store: psycopg 3 with a connection pool, for one or several server replicas
over one database. Imported only when a `postgresql://` URL is opened (install the extra
`mcp-server-todo[postgres]`). Same contract and semantics as the SQLite store.

Isolation. Every owner-keyed table has forced row-level security (see `pg_migrations`), and
every transaction starts with `set_config('todo.owner', owner, true)`; a query that forgot
its owner filter still sees and changes only that owner's rows. The store refuses roles that
bypass row-level security (superusers, BYPASSRLS).

Writers. A write transaction (READ COMMITTED) first locks its owner's row in `owners`, so
writes for one owner take turns across every replica (different owners run in parallel):
a read-modify-write never loses an update, ids come from the same row (`UPDATE ... RETURNING`,
never reused), the trigger-kept counts cannot deadlock, change-log ids commit in order (a
watcher's `changes_since` never skips one) and undo always sees the latest group. `get` in a
write transaction also locks the task row (`FOR UPDATE`). Reads are REPEATABLE READ READ ONLY
snapshots and never wait for writers.

Event loop. Every call needs network I/O, so inside `nowait()` a transaction raises
`WouldBlock` before doing anything: the server then runs the call on a worker thread.

Full-text search (words folded in Python, a `tsvector` with a GIN index): see `store.pg_search`.

This module holds the Store: the pool, the role check, migrating, transactions. The
transaction's reads and writes are in `store.pg_tx`, its SQL in `store.pg_sql`, the token SQL
in `store.tokens`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import StorageError
from . import WouldBlock, faults, tokens, transaction_done, would_block_allowed
from .health import Check
from .pg_migrations import OWNER_SETTING, migrate
from .pg_sql import SHARING_LOCK
from .pg_tx import PostgresTx

log = logging.getLogger(__name__)

POOL_MAX = 10
"""Connections per process; a transaction holds one only while it runs."""
CONNECT_TIMEOUT = 10
WAIT_SECONDS = 30
"""How long a transaction waits for a free connection or for another writer of its owner."""


def _last_row(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    """The row of the last statement of a multi-statement string."""
    while cursor.nextset():
        pass
    row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def redact(url: str) -> str:
    """The URL without its password (for messages and `Store.url`)."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*):[^@]*@", r"\1:***@", url)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _storage_error(exc: psycopg.Error) -> StorageError:
    if isinstance(exc, errors.LockNotAvailable):
        return StorageError(f"another writer held this task list for {WAIT_SECONDS} s; try again")
    return StorageError(f"PostgreSQL failed: {_first_line(exc)}; try again")


def _configure(conn: psycopg.Connection) -> None:
    conn.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")


class PostgresStore(tokens.TokenTable):
    """The task `Store` and `TokenStore` over one PostgreSQL database."""

    def __init__(self, url: str, *, max_connections: int = POOL_MAX) -> None:
        self.url = redact(url)
        try:
            given = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StorageError(f"not a usable PostgreSQL URL {self.url}: {_first_line(exc)}") from exc
        extra: dict[str, Any] = {}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in given:
            extra["fallback_application_name"] = "mcp-server-todo"
        conninfo = make_conninfo(url, **extra)
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                self._check_role(conn)
                migrate(conn)
        except psycopg.OperationalError as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {self.url}: {_first_line(exc)}") from exc
        except psycopg.Error as exc:
            fault = faults.pg_fault(exc, self.url)
            raise fault or StorageError(f"the PostgreSQL store {self.url} cannot be used: {_first_line(exc)}") from exc
        self._pool: ConnectionPool[psycopg.Connection] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            configure=_configure,
            timeout=WAIT_SECONDS,
            name="mcp-server-todo",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except PoolTimeout as exc:
            self._pool.close()
            raise StorageError(f"cannot connect to PostgreSQL at {self.url}: {_first_line(exc)}") from exc

    @staticmethod
    def _check_role(conn: psycopg.Connection) -> None:
        row = conn.execute(
            "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if row is not None and row[1]:
            raise StorageError(
                f"the PostgreSQL role {row[0]!r} bypasses row-level security (superuser or BYPASSRLS), so task "
                "lists would not be isolated from each other; connect as an ordinary role, e.g. "
                "CREATE ROLE todo LOGIN PASSWORD '...'; CREATE DATABASE todo OWNER todo"
            )

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def read(self, owner: str = "local") -> Iterator[PostgresTx]:
        """A consistent snapshot of one owner's tasks (REPEATABLE READ, read only)."""
        if not owner:
            raise ValueError("a PostgreSQL transaction needs an owner")
        begin = sql.SQL("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT set_config({setting}, {owner}, true)")
        with self._session(
            begin.format(setting=sql.Literal(OWNER_SETTING), owner=sql.Literal(owner)), write=False
        ) as conn:
            yield PostgresTx(conn, owner, write=False)

    @contextmanager
    def write(self, owner: str = "local", *, sharing: bool = False) -> Iterator[PostgresTx]:
        """A write transaction; waits (up to 30 s) while another writer of this owner runs.

        Owners involved in shared projects write to each other's rows (see `service.sharing`), so
        their transactions also take one advisory lock, always before any owner row: it is
        tried after the owner's row is locked (free in the common case), and when busy the
        transaction starts over taking the advisory lock first, so two of them never wait for
        each other's owner rows in opposite orders. `sharing=True` (sharing or unsharing a
        project) takes it first from the start."""
        if not owner:
            raise ValueError("a PostgreSQL transaction needs an owner")
        names = {"setting": sql.Literal(OWNER_SETTING), "owner": sql.Literal(owner), "lock": sql.SQL(SHARING_LOCK)}
        # one writer per owner at a time, across every replica; then: does any share involve it?
        rest = sql.SQL(
            "SELECT set_config({setting}, {owner}, true)"
            "; INSERT INTO owners (owner, next_id) VALUES ({owner}, 1) ON CONFLICT (owner) DO NOTHING"
            "; SELECT 1 FROM owners WHERE owner = {owner} FOR UPDATE"
            "; SELECT shared, CASE WHEN shared THEN pg_try_advisory_xact_lock({lock}) END FROM (SELECT EXISTS "
            "(SELECT 1 FROM shares WHERE owner = {owner}) OR EXISTS (SELECT 1 FROM shares WHERE member = {owner}) "
            "AS shared) s"
        ).format(**names)
        first = sql.SQL("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({lock}); ")
        begin = (first.format(**names) if sharing else sql.SQL("BEGIN ISOLATION LEVEL READ COMMITTED; ")) + rest
        begun: list[psycopg.Cursor[Any]] = []
        with self._session(begin, write=True, begun=begun) as conn:
            shared, locked = _last_row(begun[0])
            if shared and not locked:  # start over, the advisory lock first
                conn.execute("ROLLBACK")
                shared, _ = _last_row(conn.execute(first.format(**names) + rest))
            tx = PostgresTx(conn, owner, write=True)
            tx.shared = bool(shared)
            yield tx

    @contextmanager
    def _session(
        self, begin: sql.SQL | sql.Composed, *, write: bool, begun: list[psycopg.Cursor[Any]] | None = None
    ) -> Iterator[psycopg.Connection]:
        """A transaction on a pooled connection: begun with `begin`, committed at the end of
        the block, rolled back if the block raises."""
        if would_block_allowed():
            raise WouldBlock  # network I/O never runs on the event loop; nothing was done yet
        conn = self._begin(begin, begun)
        try:
            try:
                yield conn
            except BaseException as exc:
                self._rollback(conn)
                if isinstance(exc, psycopg.Error) and (fault := faults.pg_fault(exc, self.url)):
                    raise fault from exc  # disk full, read-only, damaged: one line (store/faults.py)
                if isinstance(exc, psycopg.OperationalError):
                    raise _storage_error(exc) from exc
                raise
            try:
                status = conn.execute("COMMIT").statusmessage
            except psycopg.OperationalError as exc:
                raise faults.pg_fault(exc, self.url) or StorageError(
                    f"the connection to PostgreSQL failed while saving ({_first_line(exc)}); the change may or "
                    "may not have been saved: list the tasks to check"
                ) from exc
            if status != "COMMIT":
                raise StorageError("PostgreSQL rolled the transaction back; nothing was saved; try again")
        finally:
            self._pool.putconn(conn)
        if write:
            faults.forget(self.url, damaged=False)
            transaction_done()

    def _begin(
        self, begin: sql.SQL | sql.Composed, begun: list[psycopg.Cursor[Any]] | None = None
    ) -> psycopg.Connection:
        for attempt in (1, 2):
            try:
                conn = self._pool.getconn()
            except PoolTimeout as exc:
                raise StorageError(
                    f"no PostgreSQL connection within {WAIT_SECONDS} s (the server is down or every connection "
                    "is busy); try again"
                ) from exc
            try:
                cursor = conn.execute(begin)
                if begun is not None:
                    begun.append(cursor)
                return conn
            except psycopg.OperationalError as exc:
                broken = conn.broken
                self._rollback(conn)
                self._pool.putconn(conn)
                if not broken or attempt == 2:
                    raise _storage_error(exc) from exc
                # a connection from before a server restart: drop the stale ones, retry once
                log.info("PostgreSQL connection lost (%s); reconnecting", _first_line(exc))
                self._pool.check()
            except BaseException as exc:
                self._rollback(conn)
                self._pool.putconn(conn)
                if isinstance(exc, psycopg.Error) and (fault := faults.pg_fault(exc, self.url)):
                    raise fault from exc  # e.g. a read-only database refuses the owner row
                raise
        raise AssertionError("unreachable")

    @staticmethod
    def _rollback(conn: psycopg.Connection) -> None:
        if conn.broken or conn.info.transaction_status == TransactionStatus.IDLE:
            return
        with suppress(psycopg.Error):
            conn.execute("ROLLBACK")

    # -- API tokens (the operator's table: no owner, no policy; store.tokens) -------------

    _token_sql = tokens.POSTGRES

    @contextmanager
    def _token_conn(self, write: bool) -> Iterator[psycopg.Connection]:
        with self._session(sql.SQL("BEGIN") if write else sql.SQL("BEGIN READ ONLY"), write=write) as conn:
            yield conn

    def schema_version(self) -> int:
        with self._session(sql.SQL("BEGIN READ ONLY"), write=False) as conn:
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0) if row is not None else 0

    def close(self) -> None:
        self._pool.close()

    def health(self) -> list[Check]:
        from .pg_health import health

        return health(self)
