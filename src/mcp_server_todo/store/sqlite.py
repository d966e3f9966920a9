"""The default store: one SQLite file (stdlib sqlite3), WAL, one transaction per operation.

Several processes may open the same file (Claude Desktop and Claude Code at once): write
transactions start with BEGIN IMMEDIATE, so a writer waits for the file lock up front
(busy_timeout, then our own retry) instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from ..dates import utc_now
from ..errors import StorageError
from ..model import Change, ListQuery, Task, TaskPage
from . import TokenInfo, WouldBlock, backup, faults, queries, transaction_done, would_block_allowed
from .migrations import SQLITE_MIGRATIONS
from .sqlite_readers import Readers

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
LOCK_RETRY_SECONDS = 30.0
CLOSE_WAIT_SECONDS = 0.1

_CHANGE_COLUMNS = "id, grp, at, op, task_id, before, after, actor"
_COLUMNS = (
    "t.id, t.title, t.notes, t.status, t.priority, t.due, t.due_tz, t.recur, t.project, t.tags, t.parent_id, "
    "t.depends_on, t.created_at, t.updated_at, t.completed_at, t.uid"
)
_OPEN_CHILDREN = (
    "(SELECT count(*) FROM tasks c WHERE c.owner = t.owner AND c.parent_id = t.id AND c.status = 'pending')"
)
_BLOCKED = (
    "(EXISTS (SELECT 1 FROM tasks c WHERE c.owner = t.owner AND c.parent_id = t.id AND c.status = 'pending') "
    "OR (t.depends_on != '[]' AND EXISTS (SELECT 1 FROM json_each(t.depends_on) d "
    # CROSS JOIN fixes the loop order: the few ids in depends_on, each looked up by key
    "CROSS JOIN tasks x ON x.owner = t.owner AND x.id = d.value WHERE x.status = 'pending')))"
)
_WAITING = (
    "(t.depends_on != '[]' AND EXISTS (SELECT 1 FROM json_each(t.depends_on) d "
    "CROSS JOIN tasks x ON x.owner = t.owner AND x.id = d.value WHERE x.status = 'pending'))"
)
# blocked = open subtasks (the count) or an open dependency: one subquery each per row
_SELECT = f"SELECT {_COLUMNS}, {_OPEN_CHILDREN}, {_WAITING}"
_DUE_KEY = "coalesce(t.due_key, '~')"  # no due date sorts last
# Urgency (README "Urgency"): priority + due proximity + age - blocked, all from columns and
# the query's `now`, so every page of one listing sees the same scores.
_DAYS_LEFT = "(julianday(t.due_key) - julianday(?))"
_URGENCY = (
    "round((CASE t.priority WHEN 3 THEN 6.0 WHEN 2 THEN 3.9 WHEN 1 THEN 1.8 ELSE 0.0 END)"
    f" + (CASE WHEN t.due_key IS NULL THEN 0.0 WHEN {_DAYS_LEFT} <= -7 THEN 12.0"
    f" WHEN {_DAYS_LEFT} >= 14 THEN 2.4 ELSE 12.0 - ({_DAYS_LEFT} + 7) * 9.6 / 21 END)"
    " + 2.0 * min(max(julianday(?) - julianday(t.created_at), 0) / 365.0, 1.0)"
    f" - (CASE WHEN {_BLOCKED} THEN 5.0 ELSE 0.0 END), 4)"
)
_URGENCY_PARAMS = 4  # the ? in _URGENCY, all bound to `now`


_UPSERT = (
    "INSERT INTO tasks(owner, id, title, notes, status, priority, due, due_tz, due_date, due_utc, due_key, "
    "recur, project, tags, parent_id, depends_on, created_at, updated_at, completed_at, uid) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (owner, id) DO UPDATE SET title = excluded.title, notes = excluded.notes, "
    "status = excluded.status, priority = excluded.priority, due = excluded.due, due_tz = excluded.due_tz, "
    "due_date = excluded.due_date, due_utc = excluded.due_utc, due_key = excluded.due_key, "
    "recur = excluded.recur, project = excluded.project, tags = excluded.tags, "
    "parent_id = excluded.parent_id, depends_on = excluded.depends_on, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, completed_at = excluded.completed_at, uid = excluded.uid"
)
_LOG_INSERT = "INSERT INTO changes(owner, grp, at, op, task_id, before, after, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_TAG_INSERT = "INSERT OR IGNORE INTO task_tags(owner, tag, task_id) VALUES (?, ?, ?)"


def _row_to_task(row: tuple[Any, ...]) -> Task:
    tags = json.loads(row[9]) if row[9] != "[]" else []
    depends_on = json.loads(row[11]) if row[11] != "[]" else []
    return queries.task_from_row(row, tags, depends_on, bool(row[16] or row[17]))


def fts_query(text: str) -> str | None:
    """Words of `text` as an FTS5 query: every word must appear, as a word or a prefix."""
    words = queries.distinct_prefixes(re.findall(r"\w+", text))
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words) or None


def _sort_keys(sort: str) -> list[str]:
    return {
        "created": ["t.id"],
        "due": [_DUE_KEY, "t.id"],
        "priority": ["-t.priority", _DUE_KEY, "t.id"],
        "urgency": ["-" + _URGENCY, "t.id"],
    }[sort]


class SQLiteTx(queries.SharingQueries):
    def __init__(self, conn: sqlite3.Connection, owner: str) -> None:
        self._conn = conn
        self._owner = owner
        self._group = 0

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    def as_owner(self, owner: str) -> SQLiteTx:
        """The same transaction, seeing `owner`'s tasks (sharing writes a member's copies)."""
        return SQLiteTx(self._conn, owner)

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, args).fetchall()

    def _exec(self, sql: str, args: tuple[Any, ...]) -> int:
        return self._conn.execute(sql, args).rowcount

    def lock_sharing(self) -> None:
        """Nothing to do: a write transaction holds the file's write lock already."""

    def forget(self, task_ids: list[int]) -> None:
        """Mark the log entries about these tasks as not undoable (copies that are gone)."""
        self._conn.executemany(
            "UPDATE changes SET undone = 1 WHERE owner = ? AND task_id = ?", [(self._owner, i) for i in task_ids]
        )

    def get(self, task_id: int) -> Task | None:
        row = self._conn.execute(
            f"{_SELECT} FROM tasks t WHERE t.owner = ? AND t.id = ?", (self._owner, task_id)
        ).fetchone()
        return None if row is None else _row_to_task(row)

    def get_by_uid(self, uid: str) -> Task | None:
        row = self._conn.execute(
            f"{_SELECT} FROM tasks t WHERE t.owner = ? AND t.uid = ?", (self._owner, uid)
        ).fetchone()
        return None if row is None else _row_to_task(row)

    def reserve_ids(self, upto: int) -> None:
        """Make sure new ids start above `upto` (an import that keeps its ids)."""
        self._conn.execute(
            "INSERT INTO owners(owner, next_id) VALUES (?, ?) "
            "ON CONFLICT(owner) DO UPDATE SET next_id = max(next_id, excluded.next_id)",
            (self._owner, upto + 1),
        )

    def allocate_id(self) -> int:
        row = self._conn.execute(
            "INSERT INTO owners(owner, next_id) VALUES (?, 2) "
            "ON CONFLICT(owner) DO UPDATE SET next_id = next_id + 1 RETURNING next_id - 1",
            (self._owner,),
        ).fetchone()
        return int(row[0])

    def put(self, task: Task) -> None:
        self._conn.execute(_UPSERT, self._row(task))
        self._conn.execute("DELETE FROM task_tags WHERE owner = ? AND task_id = ?", (self._owner, task.id))
        if task.tags:
            self._conn.executemany(_TAG_INSERT, [(self._owner, tag.casefold(), task.id) for tag in task.tags])

    def put_many(self, tasks: list[Task]) -> None:
        """Insert many NEW tasks (fresh ids) in bulk statements: an import's fast path.

        The per-row full-text trigger is most of an insert's cost, so for the batch it is set
        aside and the index is filled by one statement. All of it happens inside this write
        transaction: no other writer can run meanwhile, readers keep their snapshot, and if
        anything fails the rollback restores the trigger with everything else."""
        if len(tasks) < 50:
            for task in tasks:
                self.put(task)
            return
        trigger = self._conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'tasks_fts_insert'"
        ).fetchone()
        first_new = int(self._conn.execute("SELECT coalesce(max(rowid), 0) FROM tasks").fetchone()[0]) + 1
        if trigger is not None:
            self._conn.execute("DROP TRIGGER tasks_fts_insert")
        self._conn.executemany(_UPSERT, [self._row(task) for task in tasks])
        if trigger is not None:
            self._conn.execute(
                "INSERT INTO tasks_fts (rowid, title, notes) SELECT rowid, title, notes FROM tasks WHERE rowid >= ?",
                (first_new,),
            )
            self._conn.execute(trigger[0])
        tags = [(self._owner, tag.casefold(), task.id) for task in tasks for tag in task.tags]
        if tags:
            self._conn.executemany(_TAG_INSERT, tags)

    def _row(self, task: Task) -> tuple[Any, ...]:
        due_date, due_utc = _due_keys(task.due)
        due_key = due_utc or (f"{due_date}T23:59:59Z" if due_date else None)
        return (
            self._owner,
            task.id,
            task.title,
            task.notes,
            task.status.value,
            task.priority.rank,
            task.due,
            task.due_tz,
            due_date,
            due_utc,
            due_key,
            task.recur,
            task.project,
            json.dumps(task.tags, ensure_ascii=False),
            task.parent_id,
            json.dumps(task.depends_on),
            task.created_at,
            task.updated_at,
            task.completed_at,
            task.uid or uuid.uuid4().hex,
        )

    def remove(self, task_id: int) -> None:
        self._conn.execute("DELETE FROM task_tags WHERE owner = ? AND task_id = ?", (self._owner, task_id))
        self._conn.execute("DELETE FROM tasks WHERE owner = ? AND id = ?", (self._owner, task_id))

    def query(self, query: ListQuery) -> TaskPage:
        clause, args, counted_by_triggers = queries.filters(query, self._owner, ids=_ids_clause, text=_text_clause)
        if counted_by_triggers:
            # only status/project filters: the trigger-maintained counts answer without a scan
            sql = f"SELECT coalesce(sum(n), 0) FROM task_counts t WHERE {clause}"
            total = int(self._conn.execute(sql, args).fetchone()[0])
        else:
            total = int(self._conn.execute(f"SELECT count(*) FROM tasks t WHERE {clause}", args).fetchone()[0])

        keys = _sort_keys(query.sort)
        key_args = [query.now_utc] * _URGENCY_PARAMS if query.sort == "urgency" else []
        page_where, page_args = clause, list(args)
        if query.after is not None:
            page_where += f" AND ({', '.join(keys)}) > ({', '.join('?' * len(keys))})"
            page_args += key_args + list(query.after)
        select = f"{_SELECT}, {', '.join(keys)}"
        if query.sort == "urgency":
            select += f", {_URGENCY}"
        rows = self._conn.execute(
            f"{select} FROM tasks t WHERE {page_where} ORDER BY {', '.join(keys)} LIMIT ?",
            [
                *key_args,
                *([query.now_utc] * _URGENCY_PARAMS if query.sort == "urgency" else []),
                *page_args,
                *key_args,
                query.limit + 1,
            ],
        ).fetchall()
        items = []
        for row in rows[: query.limit]:
            task = _row_to_task(row)
            if query.sort == "urgency":
                task.urgency = row[-1]
            items.append(task)
        more = len(rows) > query.limit
        last = rows[query.limit - 1] if more else None
        next_after = list(last[18 : 18 + len(keys)]) if last is not None else None
        return TaskPage(items=items, total=total, next_after=next_after)

    def log(self, change: Change) -> None:
        cursor = self._conn.execute(_LOG_INSERT, self._log_row(change))
        if not self._group:
            self._group = int(cursor.lastrowid or 0)
            self._conn.execute("UPDATE changes SET grp = id WHERE id = ?", (self._group,))

    def log_many(self, changes: list[Change]) -> None:
        """Append many entries to the change log, in this transaction's one group."""
        if changes and not self._group:
            self.log(changes[0])
            changes = changes[1:]
        self._conn.executemany(_LOG_INSERT, [self._log_row(change) for change in changes])

    def _log_row(self, change: Change) -> tuple[Any, ...]:
        return (
            self._owner,
            self._group,
            change.at or utc_now(),
            change.op,
            change.task_id,
            queries.task_json(change.before),
            queries.task_json(change.after),
            change.actor,
        )

    def _changes(self, sql: str, args: tuple[Any, ...]) -> list[Change]:
        return [queries.change_from_row(row) for row in self._conn.execute(sql, args)]

    def last_group(self) -> list[Change]:
        # the group of the newest entry: an import committed in batches is newer than a change
        # another writer made between two of its batches
        row = self._conn.execute(
            "SELECT grp FROM changes WHERE owner = ? AND undone = 0 AND op != 'undo' AND actor IS NULL "
            "ORDER BY id DESC LIMIT 1",
            (self._owner,),
        ).fetchone()
        if row is None or row[0] is None:
            return []
        return self._changes(_log(queries.UNDOABLE_GROUP), (self._owner, row[0]))

    def mark_undone(self, group: int, upto: int | None = None) -> None:
        self._conn.execute(
            "UPDATE changes SET undone = 1 WHERE owner = ? AND grp = ? AND id <= ?",
            (self._owner, group, queries.ID_ANY if upto is None else upto),
        )

    def group_entries(self, group: int) -> list[Change]:
        return self._changes(_log(queries.GROUP), (self._owner, group))

    def projects(self) -> list[tuple[str, int, int]]:
        rows = self._conn.execute(queries.PROJECTS, (self._owner,)).fetchall()
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def tags(self) -> list[tuple[str, int]]:
        rows = self._conn.execute(queries.TAGS, (self._owner,)).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def last_change_id(self) -> int:
        row = self._conn.execute(queries.LAST_CHANGE_ID, (self._owner,)).fetchone()
        return int(row[0] or 0)

    def changes_since(self, change_id: int, limit: int) -> list[Change]:
        return self._changes(_log(queries.CHANGES_SINCE), (self._owner, change_id, limit))

    def history(self, task_id: int | None, limit: int) -> list[Change]:
        if task_id is None:
            return self._changes(_log(queries.HISTORY), (self._owner, limit))
        return self._changes(_log(queries.TASK_HISTORY), (self._owner, task_id, limit))


def _log(sql: str) -> str:
    return sql.format(columns=_CHANGE_COLUMNS)


def _ids_clause(ids: list[int]) -> queries.Clause:
    return f"t.id IN ({', '.join('?' * len(ids))})", list(ids)


def _text_clause(text: str) -> queries.Clause:
    match = fts_query(text)
    if match is None:
        return "1 = 0", []
    return "t.rowid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)", [match]


def _due_keys(due: str | None) -> tuple[str | None, str | None]:
    """The sortable calendar date and UTC instant of a stored `due` value."""
    if due is None:
        return None, None
    if len(due) == 10:
        return due, None
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(due)
    return due[:10], moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SQLiteStore:
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
            self._retrying(lambda: self._conn.execute("PRAGMA journal_mode = WAL"))
            self._conn.execute(f"PRAGMA synchronous = {sync}")
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
        finally:
            if reading:
                self._readers.give(conn)
            else:
                self._lock.release()

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

    # -- API tokens ---------------------------------------------------------------------

    def add_token(self, user: str, token_hash: str, label: str, created_at: str) -> int:
        with self._transaction("", "BEGIN IMMEDIATE"):
            cursor = self._conn.execute(
                "INSERT INTO api_tokens (user, token_hash, label, created_at) VALUES (?, ?, ?, ?)",
                (user, token_hash, label, created_at),
            )
            return int(cursor.lastrowid or 0)

    def tokens(self) -> list[TokenInfo]:
        with self._transaction("", "BEGIN DEFERRED") as tx:
            rows = tx.conn.execute(
                "SELECT id, user, label, created_at, revoked_at IS NOT NULL FROM api_tokens ORDER BY id"
            ).fetchall()
        return [TokenInfo(id=r[0], user=r[1], label=r[2], created_at=r[3], revoked=bool(r[4])) for r in rows]

    def revoke_token(self, token_id: int) -> bool:
        with self._transaction("", "BEGIN IMMEDIATE"):
            cursor = self._conn.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (utc_now(), token_id)
            )
            return cursor.rowcount > 0

    def user_for_token(self, token_hash: str) -> str | None:
        with self._transaction("", "BEGIN DEFERRED") as tx:
            row = tx.conn.execute(
                "SELECT user FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
            ).fetchone()
        return None if row is None else str(row[0])

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
