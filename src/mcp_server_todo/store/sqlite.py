"""The default store: one SQLite file (stdlib sqlite3), WAL, one transaction per operation.

Several processes may open the same file (Claude Desktop and Claude Code at once): write
transactions start with BEGIN IMMEDIATE, so a writer waits for the file lock up front
(busy_timeout, then our own retry) instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import json
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
from ..model import Change, ListQuery, Priority, Status, Task, TaskPage
from .migrations import SQLITE_MIGRATIONS

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
LOCK_RETRY_SECONDS = 30.0

_CHANGE_COLUMNS = "id, grp, at, op, task_id, before, after"
_COLUMNS = "id, title, notes, status, priority, due, project, tags, parent_id, created_at, updated_at, completed_at"


def _row_to_task(row: tuple[Any, ...]) -> Task:
    return Task.model_construct(
        id=row[0],
        title=row[1],
        notes=row[2],
        status=Status(row[3]),
        priority=Priority.from_rank(row[4]),
        due=row[5],
        project=row[6],
        tags=json.loads(row[7]) if row[7] != "[]" else [],
        parent_id=row[8],
        created_at=row[9],
        updated_at=row[10],
        completed_at=row[11],
    )


def _task_json(task: Task | None) -> str | None:
    return None if task is None else task.model_dump_json()


def _json_task(text: str | None) -> Task | None:
    return None if text is None else Task.model_validate_json(text)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SQLiteTx:
    def __init__(self, conn: sqlite3.Connection, owner: str) -> None:
        self._conn = conn
        self._owner = owner
        self._group = 0

    def get(self, task_id: int) -> Task | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM tasks WHERE owner = ? AND id = ?", (self._owner, task_id)
        ).fetchone()
        return None if row is None else _row_to_task(row)

    def allocate_id(self) -> int:
        row = self._conn.execute(
            "INSERT INTO owners(owner, next_id) VALUES (?, 2) "
            "ON CONFLICT(owner) DO UPDATE SET next_id = next_id + 1 RETURNING next_id - 1",
            (self._owner,),
        ).fetchone()
        return int(row[0])

    def put(self, task: Task) -> None:
        due_date, due_utc = _due_keys(task.due)
        self._conn.execute(
            "INSERT INTO tasks(owner, id, title, notes, status, priority, due, due_date, due_utc, "
            "project, tags, parent_id, created_at, updated_at, completed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (owner, id) DO UPDATE SET title = excluded.title, notes = excluded.notes, "
            "status = excluded.status, priority = excluded.priority, due = excluded.due, "
            "due_date = excluded.due_date, due_utc = excluded.due_utc, project = excluded.project, "
            "tags = excluded.tags, parent_id = excluded.parent_id, created_at = excluded.created_at, "
            "updated_at = excluded.updated_at, completed_at = excluded.completed_at",
            (
                self._owner,
                task.id,
                task.title,
                task.notes,
                task.status.value,
                task.priority.rank,
                task.due,
                due_date,
                due_utc,
                task.project,
                json.dumps(task.tags, ensure_ascii=False),
                task.parent_id,
                task.created_at,
                task.updated_at,
                task.completed_at,
            ),
        )
        self._conn.execute("DELETE FROM task_tags WHERE owner = ? AND task_id = ?", (self._owner, task.id))
        if task.tags:
            self._conn.executemany(
                "INSERT OR IGNORE INTO task_tags(owner, tag, task_id) VALUES (?, ?, ?)",
                [(self._owner, tag.casefold(), task.id) for tag in task.tags],
            )

    def remove(self, task_id: int) -> None:
        self._conn.execute("DELETE FROM task_tags WHERE owner = ? AND task_id = ?", (self._owner, task_id))
        self._conn.execute("DELETE FROM tasks WHERE owner = ? AND id = ?", (self._owner, task_id))

    def query(self, query: ListQuery) -> TaskPage:
        where = ["owner = ?"]
        args: list[Any] = [self._owner]
        if query.status is not None:
            where.append("status = ?")
            args.append(query.status.value)
        if query.project is not None:
            where.append("project = ?")
            args.append(query.project)
        if query.tag is not None:
            where.append(
                "EXISTS (SELECT 1 FROM task_tags g WHERE g.owner = tasks.owner AND g.tag = ? AND g.task_id = tasks.id)"
            )
            args.append(query.tag.casefold())
        if query.parent_id is not None:
            where.append("parent_id = ?")
            args.append(query.parent_id)
        if query.due_before is not None:
            bound = query.due_before
            if bound.utc is None:
                where.append("due_date <= ?")
                args.append(bound.date)
            else:
                # a floating date is due by the end of its day: before the bound only if a day earlier
                where.append("((due_utc IS NOT NULL AND due_utc <= ?) OR (due_utc IS NULL AND due_date < ?))")
                args.extend([bound.utc, bound.date])
        if query.text:
            where.append("(title LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\')")
            pattern = _like_pattern(query.text)
            args.extend([pattern, pattern])
        clause = " AND ".join(where)
        if len(where) == 1 + (query.status is not None) + (query.project is not None):
            # only status/project filters: the trigger-maintained counts answer without a scan
            total = int(
                self._conn.execute(
                    f"SELECT coalesce(sum(n), 0) FROM task_counts WHERE {clause}", args[: len(where)]
                ).fetchone()[0]
            )
        else:
            total = int(self._conn.execute(f"SELECT count(*) FROM tasks WHERE {clause}", args).fetchone()[0])
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM tasks WHERE {clause} AND id > ? ORDER BY id LIMIT ?",
            [*args, query.after_id, query.limit + 1],
        ).fetchall()
        items = [_row_to_task(row) for row in rows[: query.limit]]
        more = len(rows) > query.limit
        return TaskPage(items=items, total=total, next_after_id=items[-1].id if more and items else None)

    def log(self, change: Change) -> None:
        cursor = self._conn.execute(
            "INSERT INTO changes(owner, grp, at, op, task_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self._owner,
                self._group,
                change.at or utc_now(),
                change.op,
                change.task_id,
                _task_json(change.before),
                _task_json(change.after),
            ),
        )
        if not self._group:
            self._group = int(cursor.lastrowid or 0)
            self._conn.execute("UPDATE changes SET grp = id WHERE id = ?", (self._group,))

    def _changes(self, sql: str, args: tuple[Any, ...]) -> list[Change]:
        return [
            Change(
                id=row[0],
                group=row[1],
                at=row[2],
                op=row[3],
                task_id=row[4],
                before=_json_task(row[5]),
                after=_json_task(row[6]),
            )
            for row in self._conn.execute(sql, args)
        ]

    def last_group(self) -> list[Change]:
        row = self._conn.execute(
            "SELECT max(grp) FROM changes WHERE owner = ? AND undone = 0 AND op != 'undo'", (self._owner,)
        ).fetchone()
        if row is None or row[0] is None:
            return []
        return self._changes(
            f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE owner = ? AND grp = ? ORDER BY id",
            (self._owner, row[0]),
        )

    def mark_undone(self, group: int) -> None:
        self._conn.execute("UPDATE changes SET undone = 1 WHERE owner = ? AND grp = ?", (self._owner, group))

    def history(self, task_id: int | None, limit: int) -> list[Change]:
        if task_id is None:
            sql = f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE owner = ? ORDER BY id DESC LIMIT ?"
            return self._changes(sql, (self._owner, limit))
        sql = f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE owner = ? AND task_id = ? ORDER BY id DESC LIMIT ?"
        return self._changes(sql, (self._owner, task_id, limit))


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
        sync = (synchronous or os.environ.get("TODO_SYNC") or "full").upper()
        if sync not in ("FULL", "NORMAL", "EXTRA"):
            raise StorageError(f"TODO_SYNC must be full, normal or extra; got {sync.lower()!r}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
            )
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
            raise StorageError(f"the task database {path} cannot be used: {exc}") from exc

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
        """A snapshot for reading (other processes keep writing meanwhile)."""
        return self._transaction(owner, "BEGIN DEFERRED")

    def write(self, owner: str = "local") -> AbstractContextManager[SQLiteTx]:
        """A write transaction; takes the file's write lock up front."""
        return self._transaction(owner, "BEGIN IMMEDIATE")

    @contextmanager
    def _transaction(self, owner: str, begin: str) -> Iterator[SQLiteTx]:
        with self._lock:
            self._retrying(lambda: self._conn.execute(begin))
            try:
                yield SQLiteTx(self._conn, owner)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._retrying(lambda: self._conn.execute("COMMIT"))
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    # -- schema -----------------------------------------------------------------------

    def _migrate(self) -> None:
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in self._conn.execute("SELECT version FROM schema_migrations")}
        if all(version in applied for version, _, _ in SQLITE_MIGRATIONS):
            return
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

    def schema_version(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
