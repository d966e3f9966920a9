"""The SQLite dialect of the task SQL: the task columns, urgency, sort keys, the task upsert,
the change-log and tag inserts, and the full-text (FTS5) query of a search. What both
backends run word for word lives in `store.queries`."""

from __future__ import annotations

import re

from ..model import DueWindow
from . import queries

_CHANGE_COLUMNS = "id, grp, at, op, task_id, before, after, actor, via"
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
SELECT = f"SELECT {queries.TASK_COLUMNS}, {queries.OPEN_SUBTASKS}, {_WAITING}"
KEYS_AT = queries.COLUMN_COUNT + 2  # the sort keys follow the task columns, the subtask count and the waiting flag
_DUE_KEY = "coalesce(t.due_key, '~')"  # no due date sorts last
# Urgency (README "Urgency"): priority + due proximity + age - blocked, all from columns and
# the query's `now`, so every page of one listing sees the same scores.
_DAYS_LEFT = "(julianday(t.due_key) - julianday(?))"
URGENCY = (
    "round((CASE t.priority WHEN 3 THEN 6.0 WHEN 2 THEN 3.9 WHEN 1 THEN 1.8 ELSE 0.0 END)"
    f" + (CASE WHEN t.due_key IS NULL THEN 0.0 WHEN {_DAYS_LEFT} <= -7 THEN 12.0"
    f" WHEN {_DAYS_LEFT} >= 14 THEN 2.4 ELSE 12.0 - ({_DAYS_LEFT} + 7) * 9.6 / 21 END)"
    " + 2.0 * min(max(julianday(?) - julianday(t.created_at), 0) / 365.0, 1.0)"
    f" - (CASE WHEN {_BLOCKED} THEN 5.0 ELSE 0.0 END), 4)"
)
URGENCY_PARAMS = 4  # the ? in URGENCY, all bound to `now`

UPSERT = (
    "INSERT INTO tasks(owner, id, title, notes, status, priority, due, due_tz, due_date, due_utc, due_key, "
    "recur, project, tags, parent_id, depends_on, created_at, updated_at, completed_at, uid, reminders, "
    "ical, href) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (owner, id) DO UPDATE SET title = excluded.title, notes = excluded.notes, "
    "status = excluded.status, priority = excluded.priority, due = excluded.due, due_tz = excluded.due_tz, "
    "due_date = excluded.due_date, due_utc = excluded.due_utc, due_key = excluded.due_key, "
    "recur = excluded.recur, project = excluded.project, tags = excluded.tags, "
    "parent_id = excluded.parent_id, depends_on = excluded.depends_on, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, completed_at = excluded.completed_at, uid = excluded.uid, "
    "reminders = excluded.reminders, ical = excluded.ical, href = excluded.href"
)
LOG_INSERT = (
    "INSERT INTO changes(owner, grp, at, op, task_id, before, after, actor, via) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
TAG_INSERT = "INSERT OR IGNORE INTO task_tags(owner, tag, task_id) VALUES (?, ?, ?)"


def fts_query(text: str) -> str | None:
    """Words of `text` as an FTS5 query: every word must appear, as a word or a prefix."""
    words = queries.distinct_prefixes(re.findall(r"\w+", text))
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words) or None


def sort_keys(sort: str) -> list[str]:
    """The ORDER BY keys of a listing's sort (its cursor holds their values)."""
    return {
        "created": ["t.id"],
        "due": [_DUE_KEY, "t.id"],
        "priority": ["-t.priority", _DUE_KEY, "t.id"],
        "urgency": ["-" + URGENCY, "t.id"],
    }[sort]


def log_sql(sql: str) -> str:
    """A change-log query of `store.queries` with this dialect's columns."""
    return sql.format(columns=_CHANGE_COLUMNS)


def ids_clause(ids: list[int]) -> queries.Clause:
    return f"t.id IN ({', '.join('?' * len(ids))})", list(ids)


def text_clause(text: str) -> queries.Clause:
    match = fts_query(text)
    if match is None:
        return "1 = 0", []
    return "t.rowid IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)", [match]


def due_order_range(window: DueWindow) -> queries.Clause | None:
    """A range of the due order's key (`_DUE_KEY`, indexed by tasks_by_due) that holds every
    task in `window`: a floating date's key is its day's last second, a date-time's its UTC
    instant (`SQLiteTx._row`). Added to the window's own clause, it lets SQLite read today's or
    this week's tasks from the index instead of walking every pending task. None for a window
    open at an end (overdue: most tasks may match, the walk finds a page sooner)."""
    ends = (window.date_from, window.date_to, window.utc_from, window.utc_to)
    if any(end is None for end in ends):
        return None
    low = min(f"{window.date_from}T23:59:59Z", str(window.utc_from))
    high = max(f"{window.date_to}T23:59:59Z", str(window.utc_to))
    return f"{_DUE_KEY} >= ? AND {_DUE_KEY} <= ?", [low, high]
