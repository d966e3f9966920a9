"""The human commands on the task store: `add`, `list` (`ls`), `done` and `undo`.

None of them loads the MCP SDK: they call the service directly and print one line per task.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..service import TodoService


@contextmanager
def _service(db: str | None, tz: str | None) -> Iterator[TodoService]:
    from ..config import Config
    from ..service import TodoService
    from ..store import open_store

    config = Config.resolve(db, tz)
    store = open_store(config.store_url)
    try:
        yield TodoService(store, tz=config.tz)
    finally:
        store.close()


def add_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..render import task_line

    with _service(db, tz) as service:
        task = service.add(
            " ".join(args.title),
            notes=args.notes,
            priority=args.priority,
            due=args.due,
            project=args.project,
            tags=args.tags,
            parent_id=args.parent,
            remind=args.remind,
        )
        print(f"Added {task_line(task)}")
    return 0


def list_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from .display import look_for, print_tasks

    with _service(db, tz) as service:
        page = service.list_tasks(
            status=args.status,
            project=args.project,
            tag=args.tag,
            query=args.query,
            due_before=args.due_before,
            limit=args.limit,
        )
        more = f"({len(page.items)} of {page.total} shown; use --limit or filters)" if page.next_cursor else None
        print_tasks(page.items, look_for("auto", tz), footer=more)
    return 0


def done_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..render import task_line

    with _service(db, tz) as service:
        for task_id in args.ids:
            task, changed = service.complete(task_id)
            print(("Completed " if changed else "Already done: ") + task_line(task))
    return 0


def undo_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..render import one_line

    with _service(db, tz) as service:
        for undone in service.undo():
            print(f"Undid {undone.op} of #{undone.task_id} {one_line(undone.title)}")
    return 0
