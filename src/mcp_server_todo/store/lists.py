"""Task lists as rows (`lists`): a project that exists without tasks, with a stable path (the
CalDAV collection's URL segment, kept through renames) and its display properties (colour,
order, description). The same SQL on both backends (`?` placeholders; a backend provides
`_rows`/`_exec` and `_owner`, as for `queries.SharingQueries`).

`list_undo` keeps, per change-log group, each list row as it was before that group: the
service restores them when it undoes the group (a rename, a deleted list). Plain rows: the
rules (name clashes, the default project) are the service's (`service.lists`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ListQueries", "TaskList"]


@dataclass(frozen=True)
class TaskList:
    """A list row: `name` is its project's name, `path` its stable URL segment, `props` the
    client's display properties by their CalDAV keys (`ICAL:calendar-color`...)."""

    path: str
    name: str
    props: dict[str, str] = field(default_factory=dict)
    created_at: str = ""

    def to_json(self) -> str:
        return json.dumps({"path": self.path, "name": self.name, "props": self.props, "created_at": self.created_at})

    @staticmethod
    def from_json(text: str) -> TaskList:
        data = json.loads(text)
        return TaskList(data["path"], data["name"], dict(data["props"]), data["created_at"])


_COLUMNS = "path, name, props, created_at"


def _list(row: tuple[Any, ...]) -> TaskList:
    return TaskList(row[0], row[1], json.loads(row[2]), row[3])


class ListQueries:
    """The list rows of a transaction's owner (see the module docstring)."""

    _owner: str

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _exec(self, sql: str, args: tuple[Any, ...]) -> int:
        raise NotImplementedError

    def lists(self) -> list[TaskList]:
        """This owner's list rows, by name."""
        return [
            _list(row)
            for row in self._rows(f"SELECT {_COLUMNS} FROM lists WHERE owner = ? ORDER BY name", (self._owner,))
        ]

    def put_list(self, task_list: TaskList) -> None:
        """Insert or replace the list row at `task_list.path`."""
        self._exec(
            f"INSERT INTO lists (owner, {_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner, path) "
            "DO UPDATE SET name = excluded.name, props = excluded.props",
            (self._owner, task_list.path, task_list.name, json.dumps(task_list.props), task_list.created_at),
        )

    def remove_list(self, path: str) -> None:
        self._exec("DELETE FROM lists WHERE owner = ? AND path = ?", (self._owner, path))

    def log_list(self, group: int, path: str, before: TaskList | None) -> None:
        """Keep the row at `path` as it was before change-log `group` (None: there was none);
        the first one kept for a group and path stays."""
        self._exec(
            "INSERT INTO list_undo (owner, grp, path, before) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (self._owner, group, path, None if before is None else before.to_json()),
        )

    def list_undo(self, group: int) -> list[tuple[str, TaskList | None]]:
        """(path, the row before `group`) for every list row `group` changed."""
        rows = self._rows(
            "SELECT path, before FROM list_undo WHERE owner = ? AND grp = ? ORDER BY path", (self._owner, group)
        )
        return [(row[0], None if row[1] is None else TaskList.from_json(row[1])) for row in rows]
