"""Storage behind one interface.

A `Store` hands out transactions; a transaction (`StoreTx`) reads and writes tasks and
the change log of one owner. Every write operation of the service runs in exactly one
write transaction, so a change and its log entry commit together or not at all, and one
transaction is one step of `undo`.

Stores are chosen by URL: `sqlite:///absolute/path.db` (the default) and, later,
`postgresql://...`. Backends are imported only when used.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from ..errors import InvalidInput
from ..model import Change, ListQuery, Task, TaskPage

LOCAL_OWNER = "local"


class StoreTx(Protocol):
    """One transaction for one owner."""

    def get(self, task_id: int) -> Task | None: ...

    def allocate_id(self) -> int:
        """A new task id for this owner; ids are never reused, even after undo."""
        ...

    def put(self, task: Task) -> None:
        """Insert or replace the task with `task.id`."""
        ...

    def remove(self, task_id: int) -> None:
        """Remove the task row (undo of an add)."""
        ...

    def query(self, query: ListQuery) -> TaskPage: ...

    def log(self, change: Change) -> None:
        """Append to the change log; all entries of one transaction form one group."""
        ...

    def last_group(self) -> list[Change]:
        """The most recent group of changes not yet undone (undo entries excluded), oldest first."""
        ...

    def mark_undone(self, group: int) -> None: ...

    def history(self, task_id: int | None, limit: int) -> list[Change]: ...


class Store(Protocol):
    url: str

    def read(self, owner: str = LOCAL_OWNER) -> AbstractContextManager[StoreTx]: ...

    def write(self, owner: str = LOCAL_OWNER) -> AbstractContextManager[StoreTx]: ...

    def schema_version(self) -> int: ...

    def close(self) -> None: ...


def sqlite_url(path: str | Path) -> str:
    return "sqlite:///" + Path(path).expanduser().resolve().as_posix().lstrip("/")


def sqlite_path(url: str) -> Path:
    rest = url.removeprefix("sqlite:///")
    return Path(rest if re.match(r"^[A-Za-z]:", rest) else "/" + rest.lstrip("/"))


def open_store(url: str) -> Store:
    """Open (and migrate) the store at `url`."""
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        raise InvalidInput("PostgreSQL stores are not available in this version; use sqlite:///PATH")
    raise InvalidInput(f"unknown store URL {url!r}; use sqlite:///ABSOLUTE/PATH.db")
