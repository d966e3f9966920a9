"""The PostgreSQL store's transaction (`PostgresTx`): reading, writing and the change log of
one owner, on a pooled connection `PostgresStore` has begun (see `store.postgres`)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from ..dates import utc_now
from ..errors import StorageError
from ..model import Change, ListQuery, Task, TaskPage
from . import queries
from .lists import ListQueries
from .pg_migrations import OWNER_SETTING
from .pg_search import search_words, text_clause
from .pg_sql import (
    KEYS_AT,
    SELECT,
    SHARING_LOCK,
    URGENCY,
    URGENCY_PARAMS,
    check_after,
    ids_clause,
    log_sql,
    sort_keys,
)


def _row_to_task(row: tuple[Any, ...]) -> Task:
    return queries.task_from_row(row, list(row[9]), list(row[11]), list(row[16]), bool(row[20]))


class PostgresTx(queries.SharingQueries, ListQueries):
    """One transaction of one owner on one pooled connection."""

    def __init__(self, conn: psycopg.Connection, owner: str, *, write: bool, seen_as: list[str] | None = None) -> None:
        self.conn = conn
        """The transaction's connection (for diagnostics and tests; the policies bind it to the owner)."""
        self._owner = owner
        self._write = write
        self._lock = " FOR UPDATE OF t" if write else ""
        self._group = 0
        self._seen_as = seen_as if seen_as is not None else [owner]
        """The owner the connection's `todo.owner` names now (shared by the views of one transaction)."""
        self.shared: bool | None = None
        """Whether a share involves this owner, as `PostgresStore.write` found at BEGIN (under
        the sharing lock when true); None: not known, `has_shares` asks."""

    def has_shares(self) -> bool:
        return self.shared if self.shared is not None else super().has_shares()

    def as_owner(self, owner: str) -> PostgresTx:
        """The same transaction, seeing `owner`'s tasks (sharing writes a member's copies): each
        statement of the view first switches `todo.owner`, so the policies still bind every one."""
        return PostgresTx(self.conn, owner, write=self._write, seen_as=self._seen_as)

    def _x(self, query: str, args: tuple[Any, ...] | list[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        if self._seen_as[0] != self._owner:
            self.conn.execute("SELECT set_config(%s, %s, true)", (OWNER_SETTING, self._owner))
            self._seen_as[0] = self._owner
        return self.conn.execute(query, args)

    def _one(self, query: str, args: tuple[Any, ...] | list[Any]) -> tuple[Any, ...] | None:
        return self._x(query, args).fetchone()

    def _all(self, query: str, args: tuple[Any, ...] | list[Any]) -> list[tuple[Any, ...]]:
        return self._x(query, args).fetchall()

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._all(queries.pg(sql), args)

    def _exec(self, sql: str, args: tuple[Any, ...]) -> int:
        return self._x(queries.pg(sql), args).rowcount

    def lock_sharing(self) -> None:
        """Make sure the sharing lock is held (see `PostgresStore.write`); a transaction that
        shares or unshares takes it at BEGIN (`write(sharing=True)`), so this does not wait."""
        self._x(f"SELECT pg_advisory_xact_lock({SHARING_LOCK})")

    def forget(self, task_ids: list[int]) -> None:
        """Mark the log entries about these tasks as not undoable (copies that are gone)."""
        self._x("UPDATE changes SET undone = true WHERE owner = %s AND task_id = ANY(%s)", (self._owner, task_ids))

    def put_many(self, tasks: list[Task]) -> None:
        """Many tasks (an import's batch), one statement each."""
        for task in tasks:
            self.put(task)

    def log_many(self, changes: list[Change]) -> None:
        for change in changes:
            self.log(change)

    def get(self, task_id: int) -> Task | None:
        row = self._one(f"{SELECT} FROM tasks t WHERE t.owner = %s AND t.id = %s{self._lock}", (self._owner, task_id))
        return None if row is None else _row_to_task(row)

    def descendants(self, task_id: int, limit: int) -> list[Task]:
        sql = queries.DESCENDANTS.format(select=SELECT)
        return [_row_to_task(row) for row in self._rows(sql, (self._owner, task_id, self._owner, self._owner, limit))]

    def get_by_uid(self, uid: str) -> Task | None:
        row = self._one(f"{SELECT} FROM tasks t WHERE t.owner = %s AND t.uid = %s{self._lock}", (self._owner, uid))
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
        self._x("UPDATE owners SET next_id = greatest(next_id, %s) WHERE owner = %s", (upto + 1, self._owner))

    def allocate_id(self) -> int:
        # an upsert: a member's copy may be the first task of an owner who never wrote
        row = self._x(
            "INSERT INTO owners AS o (owner, next_id) VALUES (%s, 2) "
            "ON CONFLICT (owner) DO UPDATE SET next_id = o.next_id + 1 RETURNING o.next_id - 1",
            (self._owner,),
        ).fetchone()
        if row is None:
            raise StorageError("ids can only be allocated in a write transaction")
        return int(row[0])

    def put(self, task: Task) -> None:
        due_date, due_utc = queries.due_keys(task.due)
        due_key = due_utc or (f"{due_date}T23:59:59Z" if due_date else None)
        self._x(
            "INSERT INTO tasks (owner, id, uid, title, notes, status, priority, due, due_tz, due_date, due_utc, "
            "due_key, recur, project, tags, parent_id, depends_on, created_at, updated_at, completed_at, search, "
            "reminders, ical, href) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::text[], %s, "
            "%s::bigint[], %s, %s, %s, array_to_tsvector(%s::text[]), %s::text[], %s, %s) "
            "ON CONFLICT (owner, id) DO UPDATE SET uid = excluded.uid, title = excluded.title, "
            "notes = excluded.notes, status = excluded.status, priority = excluded.priority, due = excluded.due, "
            "due_tz = excluded.due_tz, due_date = excluded.due_date, due_utc = excluded.due_utc, "
            "due_key = excluded.due_key, recur = excluded.recur, project = excluded.project, tags = excluded.tags, "
            "parent_id = excluded.parent_id, depends_on = excluded.depends_on, created_at = excluded.created_at, "
            "updated_at = excluded.updated_at, completed_at = excluded.completed_at, search = excluded.search, "
            "reminders = excluded.reminders, ical = excluded.ical, href = excluded.href",
            (
                self._owner,
                task.id,
                task.uid or uuid.uuid4().hex,
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
                list(task.tags),
                task.parent_id,
                list(task.depends_on),
                task.created_at,
                task.updated_at,
                task.completed_at,
                sorted(set(search_words(task.title) + search_words(task.notes))),
                list(task.reminders),
                task.ical,
                task.href,
            ),
        )
        self._x("DELETE FROM task_tags WHERE owner = %s AND task_id = %s", (self._owner, task.id))
        if task.tags:
            self._x(
                "INSERT INTO task_tags (owner, tag, task_id) SELECT %s, tag, %s FROM unnest(%s::text[]) AS tag "
                "ON CONFLICT DO NOTHING",
                (self._owner, task.id, [tag.casefold() for tag in task.tags]),
            )

    def remove(self, task_id: int) -> None:
        self._x("DELETE FROM task_tags WHERE owner = %s AND task_id = %s", (self._owner, task_id))
        self._x("DELETE FROM tasks WHERE owner = %s AND id = %s", (self._owner, task_id))

    def query(self, query: ListQuery) -> TaskPage:
        clause, args, counted_by_trigger = queries.filters(query, self._owner, ids=ids_clause, text=text_clause)
        clause = queries.pg(clause)
        if counted_by_trigger:
            # only status/project filters: the trigger-kept counts answer without a scan
            row = self._one(f"SELECT coalesce(sum(n), 0) FROM task_counts t WHERE {clause}", args)
        else:
            row = self._one(f"SELECT count(*) FROM tasks t WHERE {clause}", args)
        total = int(row[0]) if row is not None else 0

        now = query.now_utc or None
        keys = sort_keys(query.sort)
        key_args = [now] * URGENCY_PARAMS if query.sort == "urgency" else []
        page_where, page_args = clause, list(args)
        if query.after is not None:
            check_after(query.sort, query.after)
            page_where += f" AND ({', '.join(keys)}) > ({', '.join(['%s'] * len(keys))})"
            page_args += key_args + list(query.after)
        select = f"{SELECT}, {', '.join(keys)}"
        if query.sort == "urgency":
            select += f", {URGENCY}"
        limit = query.limit + 1
        rows = self._all(
            f"{select} FROM tasks t WHERE {page_where} ORDER BY {', '.join(keys)} LIMIT %s",
            [*key_args, *([now] * URGENCY_PARAMS if query.sort == "urgency" else []), *page_args, *key_args, limit],
        )
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

    def log(self, change: Change) -> None:
        values = (
            self._owner,
            change.at or utc_now(),
            change.op,
            change.task_id,
            queries.task_json(change.before),
            queries.task_json(change.after),
            change.actor,
            change.via,
        )
        if self._group:
            self._x(
                "INSERT INTO changes (owner, grp, at, op, task_id, before, after, actor, via) "
                "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s)",
                (values[0], self._group, *values[1:]),
            )
            return
        # the first entry of the transaction names the group by its own id
        row = self._x(
            "INSERT INTO changes (id, grp, owner, at, op, task_id, before, after, actor, via) "
            "SELECT n, n, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s FROM (SELECT nextval('changes_id_seq') AS n) s "
            "RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        self._group = int(row[0])

    def _changes(self, query: str, args: tuple[Any, ...]) -> list[Change]:
        return [queries.change_from_row(row) for row in self._all(query, args)]

    def last_group(self) -> list[Change]:
        # the group of the newest entry (see SQLiteTx.last_group)
        row = self._x(
            "SELECT grp FROM changes WHERE owner = %s AND NOT undone AND op <> 'undo' AND actor IS NULL "
            "ORDER BY id DESC LIMIT 1",
            (self._owner,),
        ).fetchone()
        if row is None or row[0] is None:
            return []
        return self._changes(log_sql(queries.UNDOABLE_GROUP), (self._owner, row[0]))

    def mark_undone(self, group: int, upto: int | None = None) -> None:
        self._x(
            "UPDATE changes SET undone = true WHERE owner = %s AND grp = %s AND id <= %s",
            (self._owner, group, queries.ID_ANY if upto is None else upto),
        )

    def group_entries(self, group: int) -> list[Change]:
        return self._changes(log_sql(queries.GROUP), (self._owner, group))

    def projects(self) -> list[tuple[str, int, int]]:
        rows = self._x(queries.pg(queries.PROJECTS), (self._owner,)).fetchall()
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def tags(self) -> list[tuple[str, int]]:
        rows = self._x(queries.pg(queries.TAGS), (self._owner,)).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def last_change_id(self) -> int:
        row = self._x(queries.pg(queries.LAST_CHANGE_ID), (self._owner,)).fetchone()
        return int(row[0] or 0) if row is not None else 0

    def changes_since(self, change_id: int, limit: int) -> list[Change]:
        return self._changes(log_sql(queries.CHANGES_SINCE), (self._owner, change_id, limit))

    def history(self, task_id: int | None, limit: int) -> list[Change]:
        if task_id is None:
            return self._changes(log_sql(queries.HISTORY), (self._owner, limit))
        return self._changes(log_sql(queries.TASK_HISTORY), (self._owner, task_id, limit))
