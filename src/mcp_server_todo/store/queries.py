"""SQL both backends run word for word, written with `?` placeholders; `pg()` gives the
psycopg spelling. Only statements that are the same in both dialects live here: what differs
(date arithmetic, full-text search, upserts, locks) stays in each backend."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..model import (
    COMPUTED_FIELDS,
    HIDDEN_FIELDS,
    Change,
    DueWindow,
    ListQuery,
    Priority,
    Share,
    Status,
    Task,
    task_from_store,
)

Clause = tuple[str, list[Any]]

TASK_COLUMNS = (
    "t.id, t.title, t.notes, t.status, t.priority, t.due, t.due_tz, t.recur, t.project, t.tags, t.parent_id, "
    "t.depends_on, t.created_at, t.updated_at, t.completed_at, t.uid, t.reminders, "
    "t.ical, t.href"
)
"""A task's stored columns, in the order `task_from_row` reads them (each backend decodes tags
and depends_on its own way)."""
OPEN_SUBTASKS = "(SELECT count(*) FROM tasks c WHERE c.owner = t.owner AND c.parent_id = t.id AND c.status = 'pending')"

PROJECTS = (
    "SELECT project, sum(CASE WHEN status = 'pending' THEN n ELSE 0 END), "
    "sum(CASE WHEN status = 'done' THEN n ELSE 0 END) FROM task_counts WHERE owner = ? "
    "GROUP BY project HAVING sum(CASE WHEN status <> 'deleted' THEN n ELSE 0 END) > 0 ORDER BY project"
)
TAGS = (
    "SELECT g.tag, count(*) FROM task_tags g JOIN tasks t ON t.owner = g.owner AND t.id = g.task_id "
    "WHERE g.owner = ? AND t.status = 'pending' GROUP BY g.tag ORDER BY count(*) DESC, g.tag LIMIT 500"
)
LAST_CHANGE_ID = "SELECT max(id) FROM changes WHERE owner = ?"
# the change-log queries take the backend's column list (PostgreSQL casts its jsonb to text)
CHANGES_SINCE = "SELECT {columns} FROM changes WHERE owner = ? AND id > ? ORDER BY id LIMIT ?"
HISTORY = "SELECT {columns} FROM changes WHERE owner = ? ORDER BY id DESC LIMIT ?"
TASK_HISTORY = "SELECT {columns} FROM changes WHERE owner = ? AND task_id = ? ORDER BY id DESC LIMIT ?"
BY_HREF = "{select} FROM tasks t WHERE t.owner = ? AND t.href = ?"
"""The tasks a CalDAV client PUT at this resource name (one per collection it used it in); the
caller sorts them (an ORDER BY would make SQLite walk the owner's tasks by id instead)."""
NAMING = "{select} FROM tasks t WHERE t.owner = ? AND t.ical LIKE ? ESCAPE '\\' AND t.status <> 'deleted'"
"""The live tasks whose client VCALENDAR contains a text (`naming`): a scan of the owner's
tasks, done only when a CalDAV PUT creates a task."""
GROUP = "SELECT {columns} FROM changes WHERE owner = ? AND grp = ? ORDER BY id"
# what undo still has to revert of a group: a group an import kept logging in while an undo
# reverted it is only partly undone (mark_undone `upto`)
ID_ANY = 2**63 - 1
"""Above every change id: `mark_undone` without a bound."""
UNDOABLE_GROUP = "SELECT {columns} FROM changes WHERE owner = ? AND grp = ? AND NOT undone ORDER BY id"


DESCENDANTS = (
    "WITH RECURSIVE sub(id) AS (SELECT id FROM tasks WHERE owner = ? AND parent_id = ? "
    "UNION SELECT c.id FROM tasks c JOIN sub ON c.owner = ? AND c.parent_id = sub.id) "
    "{select} FROM tasks t WHERE t.owner = ? AND t.id IN (SELECT id FROM sub) ORDER BY t.id LIMIT ?"
)
"""A task's subtasks, theirs and so on, in one statement (the index on owner, parent_id)."""


COLUMN_COUNT = 19
"""The backends' task columns (id ... uid, reminders, ical, href); the open-subtask count follows them."""


def task_from_row(
    row: tuple[Any, ...], tags: list[str], depends_on: list[int], reminders: list[str], blocked: bool
) -> Task:
    """A task from a row of the backends' task columns (id ... uid, reminders, open subtasks,
    ...); the columns whose encoding differs per dialect come decoded."""
    return task_from_store(
        {
            "id": row[0],
            "title": row[1],
            "notes": row[2],
            "status": Status(row[3]),
            "priority": Priority.from_rank(row[4]),
            "due": row[5],
            "due_tz": row[6],
            "recur": row[7],
            "project": row[8],
            "tags": tags,
            "parent_id": row[10],
            "depends_on": depends_on,
            "created_at": row[12],
            "updated_at": row[13],
            "completed_at": row[14],
            "uid": row[15],
            "reminders": reminders,
            "ical": row[17],
            "href": row[18],
            "due_human": None,
            "subtasks": int(row[COLUMN_COUNT]),
            "blocked": blocked,
            "urgency": None,
        }
    )


def task_json(task: Task | None) -> str | None:
    """A task as stored in the change log (computed fields left out, the hidden ones kept)."""
    if task is None:
        return None
    values = task.model_dump(mode="json", exclude=set(COMPUTED_FIELDS))
    values.update({name: getattr(task, name) for name in HIDDEN_FIELDS if getattr(task, name) is not None})
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def json_task(text: str | None) -> Task | None:
    return None if text is None else Task.model_validate_json(text)


def change_from_row(row: tuple[Any, ...]) -> Change:
    """A change-log entry from a row of the change-log queries' columns (see `HISTORY`)."""
    return Change(
        id=row[0],
        group=row[1],
        at=row[2],
        op=row[3],
        task_id=row[4],
        before=json_task(row[5]),
        after=json_task(row[6]),
        actor=row[7],
        via=row[8],
    )


def like(text: str) -> str:
    """A LIKE pattern for `text` anywhere (ESCAPE '\\')."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def pg(sql: str) -> str:
    """The psycopg spelling of a statement above (`%s` placeholders)."""
    return sql.replace("?", "%s")


def due_keys(due: str | None) -> tuple[str | None, str | None]:
    """The sortable calendar date and UTC instant of a stored `due` value."""
    if due is None:
        return None, None
    if len(due) == 10:
        return due, None
    from datetime import UTC, datetime

    moment = datetime.fromisoformat(due)
    return due[:10], moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def filters(
    query: ListQuery, owner: str, *, ids: Callable[[list[int]], Clause], text: Callable[[str], Clause]
) -> tuple[str, list[Any], bool]:
    """The WHERE clause of a listing (over `tasks t`, `?` placeholders) with its arguments, and
    whether only status/project filter it (then the trigger-kept `task_counts` give the total
    without a scan). `ids` and `text` give the backend's own spelling of those two filters."""
    where = ["t.owner = ?"]
    args: list[Any] = [owner]
    if query.status is not None:
        where.append("t.status = ?")
        args.append(query.status.value)
    if query.project is not None:
        where.append("t.project = ?")
        args.append(query.project)
    counted_by_triggers = len(where)
    if query.tag is not None:
        where.append("t.id IN (SELECT task_id FROM task_tags WHERE owner = ? AND tag = ?)")
        args.extend([owner, query.tag.casefold()])
    if query.parent_id is not None:
        where.append("t.parent_id = ?")
        args.append(query.parent_id)
    extra: list[Clause] = []
    if query.ids is not None:
        extra.append(ids(query.ids) if query.ids else ("1 = 0", []))
    if query.due_before is not None:
        bound = query.due_before
        if bound.utc is None:
            extra.append(("t.due_date <= ?", [bound.date]))
        else:
            # a floating date is due by the end of its day: before the bound only if a day earlier
            clause = "((t.due_utc IS NOT NULL AND t.due_utc <= ?) OR (t.due_utc IS NULL AND t.due_date < ?))"
            extra.append((clause, [bound.utc, bound.date]))
    if query.window is not None:
        extra.append(window_clause(query.window))
    if query.text is not None:
        extra.append(text(query.text))
    for clause, clause_args in extra:
        where.append(clause)
        args.extend(clause_args)
    return " AND ".join(where), args, len(where) == counted_by_triggers


def window_clause(window: DueWindow) -> Clause:
    """Floating dates in [date_from, date_to], date-times in [utc_from, utc_to)."""
    (floating, args_f), (timed, args_t) = window_parts(window)
    return f"({floating} OR {timed})", args_f + args_t


def window_parts(window: DueWindow) -> tuple[Clause, Clause]:
    """The two halves of `window_clause`, which no task satisfies both of: the floating dates
    (no due_utc) in [date_from, date_to], the date-times in [utc_from, utc_to). A window's
    total is their two counts added, each read from one index (SQLite: `tasks_by_due_date`,
    `tasks_by_due_utc`)."""
    floating = ["t.due_utc IS NULL", "t.due_date IS NOT NULL"]
    timed = ["t.due_utc IS NOT NULL"]
    args_f: list[Any] = []
    args_t: list[Any] = []
    if window.date_from is not None:
        floating.append("t.due_date >= ?")
        args_f.append(window.date_from)
    if window.date_to is not None:
        floating.append("t.due_date <= ?")
        args_f.append(window.date_to)
    if window.utc_from is not None:
        timed.append("t.due_utc >= ?")
        args_t.append(window.utc_from)
    if window.utc_to is not None:
        timed.append("t.due_utc < ?")
        args_t.append(window.utc_to)
    return (f"({' AND '.join(floating)})", args_f), (f"({' AND '.join(timed)})", args_t)


# ---- shared projects (see service/sharing.py) ---------------------------------------

_SHARE_COLUMNS = "owner, project, member, mount, created_at"


class SharingQueries:
    """The sharing primitives of a transaction, the same SQL on both backends. A backend
    provides `_rows`/`_exec` (taking `?` placeholders) and `_owner`."""

    _owner: str
    _group: int
    """This transaction's change-log group (0 until its first entry)."""

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def current_group(self) -> int:
        return self._group

    def join_group(self, group: int) -> None:
        """Log into an earlier transaction's group (the batches of one import or revert)."""
        self._group = group

    def _exec(self, sql: str, args: tuple[Any, ...]) -> int:
        """Run a statement; the number of rows it changed."""
        raise NotImplementedError

    @property
    def owner(self) -> str:
        return self._owner

    def next_id(self) -> int:
        """The id the next new task would get, without taking it (an import preview)."""
        rows = self._rows("SELECT next_id FROM owners WHERE owner = ?", (self._owner,))
        return int(rows[0][0]) if rows else 1

    def has_shares(self) -> bool:
        """Whether this owner shares a project or is a member of one."""
        rows = self._rows(
            "SELECT 1 FROM shares WHERE owner = ? UNION ALL SELECT 1 FROM shares WHERE member = ? LIMIT 1",
            (self._owner, self._owner),
        )
        return bool(rows)

    def shares_as_member(self) -> list[Share]:
        """The projects others share with this owner."""
        sql = f"SELECT {_SHARE_COLUMNS} FROM shares WHERE member = ? ORDER BY mount"
        return [Share(*row) for row in self._rows(sql, (self._owner,))]

    def shares_as_owner(self, project: str | None = None) -> list[Share]:
        """This owner's shares (of one project, or all), by project and member."""
        if project is None:
            sql = f"SELECT {_SHARE_COLUMNS} FROM shares WHERE owner = ? ORDER BY project, member"
            return [Share(*row) for row in self._rows(sql, (self._owner,))]
        sql = f"SELECT {_SHARE_COLUMNS} FROM shares WHERE owner = ? AND project = ? ORDER BY member"
        return [Share(*row) for row in self._rows(sql, (self._owner, project))]

    def add_share(self, share: Share) -> None:
        self._exec(
            f"INSERT INTO shares ({_SHARE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (share.owner, share.project, share.member, share.mount, share.created_at),
        )

    def remove_share(self, project: str, member: str) -> None:
        self._exec("DELETE FROM shares WHERE owner = ? AND project = ? AND member = ?", (self._owner, project, member))

    def project_in_use(self, project: str) -> bool:
        """Whether this owner has tasks (in any state) in `project`."""
        rows = self._rows("SELECT 1 FROM task_counts WHERE owner = ? AND project = ? AND n > 0", (self._owner, project))
        return bool(rows)

    def link_of(self, task_id: int) -> tuple[str, int] | None:
        """The (owner, id) of the task this owner's task `task_id` is a copy of, if it is one."""
        sql = "SELECT origin_owner, origin_id FROM links WHERE owner = ? AND id = ?"
        rows = self._rows(sql, (self._owner, task_id))
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def copies_of(self, task_id: int) -> dict[str, int]:
        """Member -> the id of that member's copy of this owner's task `task_id`."""
        sql = "SELECT owner, id FROM links WHERE origin_owner = ? AND origin_id = ?"
        rows = self._rows(sql, (self._owner, task_id))
        return {str(row[0]): int(row[1]) for row in rows}

    def copies_from(self, origin_owner: str) -> dict[int, int]:
        """Origin id -> this owner's copy id, for every copy of `origin_owner`'s tasks."""
        sql = "SELECT origin_id, id FROM links WHERE owner = ? AND origin_owner = ?"
        rows = self._rows(sql, (self._owner, origin_owner))
        return {int(row[0]): int(row[1]) for row in rows}

    def add_link(self, task_id: int, origin_owner: str, origin_id: int) -> None:
        self._exec(
            "INSERT INTO links (owner, id, origin_owner, origin_id) VALUES (?, ?, ?, ?)",
            (self._owner, task_id, origin_owner, origin_id),
        )

    def remove_link(self, task_id: int) -> None:
        self._exec("DELETE FROM links WHERE owner = ? AND id = ?", (self._owner, task_id))


def distinct_prefixes(words: list[str]) -> list[str]:
    """The search words that narrow a prefix search, in order: a repeated word, or one that
    begins another word ("t" with "task"), matches nothing the longer one does not, and each
    word costs a pass over its matches (model.QUERY_TERMS_MAX bounds how many are left)."""
    folded = [word.lower() for word in words]
    kept: list[str] = []
    for index, word in enumerate(folded):
        if any(
            other.startswith(word) and (other != word or later < index)
            for later, other in enumerate(folded)
            if later != index
        ):
            continue
        kept.append(words[index])
    return kept
