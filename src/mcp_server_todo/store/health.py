"""A store's health as `doctor` reports it: the `Check` record (level OK/WARN/FAIL, name,
detail, and a hint saying what to do), and `check_store(url)`, the doctor's one call.

`check_store` picks the backend by URL, as `open_store` does: the backend's module
(`sqlite_health`, `pg_health`) checks what it can before opening (a file, a folder), opens
the store (migrating it) and asks the open store's `health()`. A store that is damaged or
unreachable is reported as FAIL checks, never raised: the doctor knows no backend by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from . import Store

Level = Literal["OK", "WARN", "FAIL"]
OK: Level = "OK"
WARN: Level = "WARN"
FAIL: Level = "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of `doctor`: its level, what was checked, what was found, what to do (not OK)."""

    level: Level
    name: str
    detail: str
    hint: str = ""


def task_counts(store: Store) -> Check:
    """How many tasks of each status the local owner has (any backend)."""
    from ..model import ListQuery, Status

    with store.read() as tx:
        counts = {status: tx.query(ListQuery(status=status, limit=1)).total for status in Status}
    return Check(OK, "tasks", ", ".join(f"{count} {status.value}" for status, count in counts.items()))


def check_store(url: str) -> list[Check]:
    """The store at `url`: reachable, opens (and migrates), then its `health()`."""
    if url.startswith(("postgresql://", "postgres://")):
        from .pg_health import check_url as check_postgres

        return check_postgres(url)
    if not url.startswith("sqlite:///"):
        hint = "use --db /absolute/path/todo.db or --db postgresql://USER@HOST/DB"
        return [Check(FAIL, "store", f"{url}: not a sqlite:/// or postgresql:// store", hint)]
    from .sqlite_health import check_url as check_sqlite

    return check_sqlite(url)


__all__ = ["FAIL", "OK", "WARN", "Check", "Level", "check_store", "task_counts"]


def problem(store: Store) -> str | None:
    """What keeps `store` from being read and written right now, in one line (None: nothing),
    without a transaction: a liveness probe (`/healthz`) may call it often (see faults.py)."""
    from .faults import problem as current

    return current(store)
