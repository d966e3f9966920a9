"""The PostgreSQL dialect of the task SQL: the task columns, urgency, sort keys and the
cursor's check, the id filter, the change-log columns and the sharing lock. What both backends
run word for word lives in `store.queries`; full-text search in `store.pg_search`."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInput
from . import queries

_CHANGE_COLUMNS = "id, grp, at, op, task_id, before::text, after::text, actor, via"
_BLOCKED = (
    "(EXISTS (SELECT 1 FROM tasks c WHERE c.owner = t.owner AND c.parent_id = t.id AND c.status = 'pending') "
    "OR (cardinality(t.depends_on) > 0 AND EXISTS (SELECT 1 FROM tasks x "
    "WHERE x.owner = t.owner AND x.id = ANY (t.depends_on) AND x.status = 'pending')))"
)
SELECT = f"SELECT {queries.TASK_COLUMNS}, {queries.OPEN_SUBTASKS}, {_BLOCKED}"
KEYS_AT = queries.COLUMN_COUNT + 2  # the sort keys follow the task columns, the subtask count and the blocked flag
_DUE_KEY = "coalesce(t.due_key, '~')"  # no due date sorts last ("C" collation: bytewise, as in SQLite)
# Urgency exactly as the SQLite store computes it (README "Urgency"): priority + due proximity
# + age - blocked, from columns and the query's `now`, rounded to 4 places.
_DAYS_LEFT = "(extract(epoch FROM (t.due_key::timestamptz - %s::timestamptz)) / 86400)"
URGENCY = (
    "round(((CASE t.priority WHEN 3 THEN 6.0 WHEN 2 THEN 3.9 WHEN 1 THEN 1.8 ELSE 0.0 END)"
    f" + (CASE WHEN t.due_key IS NULL THEN 0.0 WHEN {_DAYS_LEFT} <= -7 THEN 12.0"
    f" WHEN {_DAYS_LEFT} >= 14 THEN 2.4 ELSE 12.0 - ({_DAYS_LEFT} + 7) * 9.6 / 21 END)"
    " + 2.0 * least(greatest(extract(epoch FROM (%s::timestamptz - t.created_at::timestamptz)) / 86400, 0)"
    " / 365.0, 1.0)"
    f" - (CASE WHEN {_BLOCKED} THEN 5.0 ELSE 0.0 END))::numeric, 4)::float8"
)
URGENCY_PARAMS = 4  # the %s in URGENCY, all bound to `now`


def sort_keys(sort: str) -> list[str]:
    """The ORDER BY keys of a listing's sort (its cursor holds their values)."""
    return {
        "created": ["t.id"],
        "due": [_DUE_KEY, "t.id"],
        "priority": ["-t.priority", _DUE_KEY, "t.id"],
        "urgency": ["-" + URGENCY, "t.id"],
    }[sort]


_KEY_TYPES: dict[str, tuple[tuple[type, ...], ...]] = {
    "created": ((int,),),
    "due": ((str,), (int,)),
    "priority": ((int,), (str,), (int,)),
    "urgency": ((int, float), (int,)),
}


def check_after(sort: str, after: list[Any]) -> None:
    """A cursor's sort key must fit the sort (PostgreSQL, unlike SQLite, refuses mixed types)."""
    types = _KEY_TYPES[sort]
    if len(after) != len(types) or not all(
        isinstance(value, kinds) and not isinstance(value, bool) for value, kinds in zip(after, types, strict=True)
    ):
        raise InvalidInput("cursor is not one this server returned; call list_items without a cursor")


def ids_clause(ids: list[int]) -> queries.Clause:
    return "t.id = ANY (?::bigint[])", [list(ids)]


def log_sql(sql: str) -> str:
    """A change-log query of `store.queries` with this dialect's columns and placeholders."""
    return queries.pg(sql.format(columns=_CHANGE_COLUMNS))


# the advisory lock of the writers whose owners share projects (see `PostgresStore.write`)
SHARING_LOCK = "hashtext('mcp-server-todo sharing ' || current_schema())"
