"""SQL both backends run word for word, written with `?` placeholders; `pg()` gives the
psycopg spelling. Only statements that are the same in both dialects live here: what differs
(date arithmetic, full-text search, upserts, locks) stays in each backend."""

from __future__ import annotations

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
GROUP = "SELECT {columns} FROM changes WHERE owner = ? AND grp = ? ORDER BY id"


def pg(sql: str) -> str:
    """The psycopg spelling of a statement above (`%s` placeholders)."""
    return sql.replace("?", "%s")
