"""The SQLite store's transaction (`SQLiteTx`): reading, writing and the change log of one
owner, on a connection `SQLiteStore` has begun (see `store.sqlite`)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import replace
from typing import Any

from ..dates import utc_now
from ..model import Change, ListQuery, Task, TaskPage
from . import queries
from .lists import ListQueries
from .queries import window_parts
from .sqlite_sql import (
    KEYS_AT,
    LOG_INSERT,
    SELECT,
    TAG_INSERT,
    UPSERT,
    URGENCY,
    URGENCY_PARAMS,
    due_order_range,
    ids_clause,
    log_sql,
    sort_keys,
    text_clause,
)


def _row_to_task(row: tuple[Any, ...]) -> Task:
    tags = json.loads(row[9]) if row[9] != "[]" else []
    depends_on = json.loads(row[11]) if row[11] != "[]" else []
    reminders = json.loads(row[16]) if row[16] != "[]" else []
    return queries.task_from_row(row, tags, depends_on, reminders, bool(row[19] or row[20]))


def _json_list(values: list[Any]) -> str:
    """A list column as stored: most tasks have no tags, dependencies or reminders."""
    return json.dumps(values, ensure_ascii=False) if values else "[]"


class SQLiteTx(queries.SharingQueries, ListQueries):
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
            f"{SELECT} FROM tasks t WHERE t.owner = ? AND t.id = ?", (self._owner, task_id)
        ).fetchone()
        return None if row is None else _row_to_task(row)

    def descendants(self, task_id: int, limit: int) -> list[Task]:
        sql = queries.DESCENDANTS.format(select=SELECT)
        return [_row_to_task(row) for row in self._rows(sql, (self._owner, task_id, self._owner, self._owner, limit))]

    def get_by_uid(self, uid: str) -> Task | None:
        row = self._conn.execute(
            f"{SELECT} FROM tasks t WHERE t.owner = ? AND t.uid = ?", (self._owner, uid)
        ).fetchone()
        return None if row is None else _row_to_task(row)

    def get_by_href(self, href: str) -> list[Task]:
        sql = queries.BY_HREF.format(select=SELECT)
        return sorted((_row_to_task(row) for row in self._rows(sql, (self._owner, href))), key=lambda t: t.id)

    def naming(self, text: str) -> list[Task]:
        sql = queries.NAMING.format(select=SELECT)
        rows = self._rows(sql, (self._owner, queries.like(text)))
        return sorted((_row_to_task(row) for row in rows), key=lambda t: t.id)

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
        self._conn.execute(UPSERT, self._row(task))
        self._conn.execute("DELETE FROM task_tags WHERE owner = ? AND task_id = ?", (self._owner, task.id))
        if task.tags:
            self._conn.executemany(TAG_INSERT, [(self._owner, tag.casefold(), task.id) for tag in task.tags])

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
        self._conn.executemany(UPSERT, [self._row(task) for task in tasks])
        if trigger is not None:
            self._conn.execute(
                "INSERT INTO tasks_fts (rowid, title, notes) SELECT rowid, title, notes FROM tasks WHERE rowid >= ?",
                (first_new,),
            )
            self._conn.execute(trigger[0])
        tags = [(self._owner, tag.casefold(), task.id) for task in tasks for tag in task.tags]
        if tags:
            self._conn.executemany(TAG_INSERT, tags)

    def _row(self, task: Task) -> tuple[Any, ...]:
        due_date, due_utc = queries.due_keys(task.due)
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
            _json_list(task.tags),
            task.parent_id,
            _json_list(task.depends_on),
            task.created_at,
            task.updated_at,
            task.completed_at,
            task.uid or uuid.uuid4().hex,
            _json_list(task.reminders),
            task.ical,
            task.href,
        )

    def remove(self, task_id: int) -> None:
        self._conn.execute("DELETE FROM task_tags WHERE owner = ? AND task_id = ?", (self._owner, task_id))
        self._conn.execute("DELETE FROM tasks WHERE owner = ? AND id = ?", (self._owner, task_id))

    def query(self, query: ListQuery) -> TaskPage:
        clause, args, counted_by_triggers = queries.filters(query, self._owner, ids=ids_clause, text=text_clause)
        total = self._total(query, clause, args, counted_by_triggers)
        keyed = due_order_range(query.window) if query.window is not None else None
        if keyed is not None:  # the same tasks, found through the due index
            clause, args = f"{clause} AND {keyed[0]}", args + keyed[1]
        keys = sort_keys(query.sort)
        if query.sort == "priority":
            rows = self._priority_rows(query, clause, args, keys)
        elif query.sort == "urgency":  # a score of the call's time: no index holds its order
            rows = self._page_rows(query, clause, args, keys, keys, query.limit + 1, after=query.after)
        else:
            rows = self._rows_after(query, clause, args, keys, 0, query.after, query.limit + 1)
        items = []
        for row in rows[: query.limit]:
            task = _row_to_task(row)
            if query.sort == "urgency":
                task.urgency = row[-1]
            items.append(task)
        more = len(rows) > query.limit
        last = rows[query.limit - 1] if more else None
        next_after = list(last[KEYS_AT : KEYS_AT + len(keys)]) if last is not None else None
        return TaskPage(items=items, total=total, next_after=next_after)

    def _count(self, where: str, args: list[Any]) -> int:
        return int(self._conn.execute(f"SELECT count(*) FROM tasks t WHERE {where}", args).fetchone()[0])

    def _total(self, query: ListQuery, clause: str, args: list[Any], counted_by_triggers: bool) -> int:
        """How many tasks the listing holds, exactly, reading as little as the filters allow."""
        if counted_by_triggers:
            # only status/project filters: the trigger-maintained counts answer without a scan
            sql = f"SELECT coalesce(sum(n), 0) FROM task_counts t WHERE {clause}"
            return int(self._conn.execute(sql, args).fetchone()[0])
        if query.window is None:
            return self._count(clause, args)
        # a due window: its date-only and its timed tasks counted apart (no task is both), each
        # from its due index alone; the window's one OR made SQLite read every matching task
        base, base_args, _ = queries.filters(replace(query, window=None), self._owner, ids=ids_clause, text=text_clause)
        return sum(
            self._count(f"{base} AND {part}", base_args + part_args) for part, part_args in window_parts(query.window)
        )

    def _priority_rows(self, query: ListQuery, clause: str, args: list[Any], keys: list[str]) -> list[tuple[Any, ...]]:
        """A page in priority order: the tasks with a priority from `tasks_by_priority` (which
        holds only those), then, if the page has room, those without one in due order from
        `tasks_by_due`. Every task of the first part sorts before every task of the second."""
        limit = query.limit + 1
        after = query.after
        rank = after[0] if after is not None and type(after[0]) is int else None  # the last page's -priority
        if after is not None and rank is None:  # not a cursor a page returned: the keyset decides
            return self._page_rows(query, clause, args, keys, keys, limit, after=after)
        rows: list[tuple[Any, ...]] = []
        if rank is None or rank < 0:
            rows = self._rows_after(query, f"{clause} AND t.priority > 0", args, keys, 0, after, limit)
        if len(rows) < limit:  # -priority is 0 here: the order is the rest of the keys
            tail = after if rank == 0 else None
            rows += self._rows_after(query, f"{clause} AND t.priority = 0", args, keys, 1, tail, limit - len(rows))
        return rows

    def _rows_after(
        self,
        query: ListQuery,
        where: str,
        args: list[Any],
        keys: list[str],
        first: int,
        after: list[Any] | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        """Up to `limit` rows in the order of `keys[first:]` (an index's; the keys before
        `first` are the same for every row), after the keyset `after`. SQLite cannot seek an
        index with a row comparison on expressions, so the rows after (v0, v1, v2) are read as
        the rows with k0 = v0, k1 = v1, k2 > v2, then k0 = v0, k1 > v1, then k0 > v0: each part
        starts in the index where it begins, and a page reads only its own rows however deep."""
        if after is None:
            return self._page_rows(query, where, args, keys, keys[first:], limit, after=None)
        rows: list[tuple[Any, ...]] = []
        for i in reversed(range(first, len(keys))):
            bounds = " AND ".join([*(f"{key} = ?" for key in keys[first:i]), f"{keys[i]} > ?"])
            part_args = [*args, *after[first : i + 1]]
            rest = limit - len(rows)
            rows += self._page_rows(query, f"{where} AND {bounds}", part_args, keys, keys[i:], rest, after=None)
            if len(rows) >= limit:
                break
        return rows

    def _page_rows(
        self,
        query: ListQuery,
        where: str,
        args: list[Any],
        keys: list[str],
        order: list[str],
        limit: int,
        *,
        after: list[Any] | None,
    ) -> list[tuple[Any, ...]]:
        """Up to `limit` rows in `order`, with the values of `keys` after the task's columns (a
        page's cursor), those after `after` (the keyset on `keys`) if given."""
        key_args = [query.now_utc] * URGENCY_PARAMS if query.sort == "urgency" else []
        page_where, page_args = where, list(args)
        if after is not None:
            page_where += f" AND ({', '.join(keys)}) > ({', '.join('?' * len(keys))})"
            page_args += key_args + list(after)
        select = f"{SELECT}, {', '.join(keys)}"
        if query.sort == "urgency":
            select += f", {URGENCY}"
        sql = f"{select} FROM tasks t WHERE {page_where} ORDER BY {', '.join(order)} LIMIT ?"
        order_args = key_args if order is keys else []
        # urgency's parameters: its sort key, the score beside it, the keyset, the order
        return self._conn.execute(sql, [*key_args, *key_args, *page_args, *order_args, limit]).fetchall()

    def log(self, change: Change) -> None:
        cursor = self._conn.execute(LOG_INSERT, self._log_row(change))
        if not self._group:
            self._group = int(cursor.lastrowid or 0)
            self._conn.execute("UPDATE changes SET grp = id WHERE id = ?", (self._group,))

    def log_many(self, changes: list[Change]) -> None:
        """Append many entries to the change log, in this transaction's one group."""
        if changes and not self._group:
            self.log(changes[0])
            changes = changes[1:]
        self._conn.executemany(LOG_INSERT, [self._log_row(change) for change in changes])

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
            change.via,
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
        return self._changes(log_sql(queries.UNDOABLE_GROUP), (self._owner, row[0]))

    def mark_undone(self, group: int, upto: int | None = None) -> None:
        self._conn.execute(
            "UPDATE changes SET undone = 1 WHERE owner = ? AND grp = ? AND id <= ?",
            (self._owner, group, queries.ID_ANY if upto is None else upto),
        )

    def group_entries(self, group: int) -> list[Change]:
        return self._changes(log_sql(queries.GROUP), (self._owner, group))

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
        return self._changes(log_sql(queries.CHANGES_SINCE), (self._owner, change_id, limit))

    def history(self, task_id: int | None, limit: int) -> list[Change]:
        if task_id is None:
            return self._changes(log_sql(queries.HISTORY), (self._owner, limit))
        return self._changes(log_sql(queries.TASK_HISTORY), (self._owner, task_id, limit))
