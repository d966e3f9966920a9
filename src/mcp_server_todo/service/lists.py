"""Task lists: a project that exists without tasks (a list made on a phone), with a stable path
and display properties, stored as a row (`store.lists`). Every write goes through
`sharing.write`, like the tasks' own.

Rules that live here:

- a list's name is a project name; two lists never share a name (`Conflict`), and a new
  list never takes the name of a project that has tasks or that someone shares with you;
- renaming a list moves its tasks (the trash included) to the new name in one transaction:
  one step of `undo`, which also brings the old name back. The default project, a project
  you share, and a project shared with you are not renamed (`Conflict`);
- deleting a list moves its tasks to the trash and drops its row in one transaction: one
  `undo` brings both back. The default project's list stays (it is always there): deleting
  it only empties it into the trash;
- a change with no task to move or trash (an empty list renamed or deleted, any list made,
  a colour set) writes no change-log entry, so it is not a step of `undo`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Conflict
from ..model import DEFAULT_PROJECT, Change, ListQuery, Status, Task, clean_project, stored
from ..store import TaskList, WriteTx
from .sharing import SharedTx, write
from .tasks import TodoService

__all__ = ["create_list", "delete_list", "restore_lists", "task_lists", "update_list"]


def task_lists(service: TodoService) -> list[TaskList]:
    """The owner's list rows, by name (projects with tasks but no row are not among them)."""
    with service.store.read(service.owner) as tx:
        return tx.lists()


def create_list(service: TodoService, path: str, name: str, props: Mapping[str, str]) -> TaskList:
    """A new, empty list named `name` at `path`."""
    name = clean_project(name)
    with write(service.store, service.owner) as tx:
        rows = tx.raw.lists()
        if any(row.path == path for row in rows):
            raise Conflict(f"there is a list at {path} already")
        _check_free(tx, rows, name)
        task_list = TaskList(path, name, dict(props), service._clock())
        tx.raw.put_list(task_list)
    return task_list


def update_list(service: TodoService, path: str, current: str, name: str, props: Mapping[str, str]) -> TaskList:
    """Set the properties of the list at `path` (the project `current`; a row is made if it has
    none yet) and rename it to `name` (its tasks move)."""
    name = clean_project(name)
    with write(service.store, service.owner) as tx:
        rows = tx.raw.lists()
        before = next((row for row in rows if row.path == path), None)
        now = service._clock()
        if name != current:
            _check_renamable(tx, current)
            _check_free(tx, rows, name)
            for task in _tasks(tx, current):
                moved = task.model_copy(update={"project": name, "updated_at": now})
                tx.put(moved)
                tx.log(Change(op="update", task_id=task.id, before=task, after=moved, at=now))
        task_list = TaskList(path, name, dict(props), before.created_at if before else now)
        tx.raw.put_list(task_list)
        if tx.current_group():
            tx.raw.log_list(tx.current_group(), path, before)
    return task_list


def delete_list(service: TodoService, path: str, name: str) -> int:
    """Trash every task of the list `name` at `path` and drop its row (the default project's
    row stays); how many tasks went to the trash."""
    with write(service.store, service.owner) as tx:
        before = next((row for row in tx.raw.lists() if row.path == path), None)
        now = service._clock()
        trashed = 0
        for task in _tasks(tx, name):
            if task.status is Status.deleted:
                continue
            gone = task.model_copy(update={"status": Status.deleted, "updated_at": now})
            tx.put(gone)
            tx.log(Change(op="delete", task_id=task.id, before=task, after=gone, at=now))
            trashed += 1
        if before is not None and name != DEFAULT_PROJECT:
            tx.raw.remove_list(path)
            if tx.current_group():
                tx.raw.log_list(tx.current_group(), path, before)
    return trashed


def restore_lists(tx: WriteTx, group: int) -> None:
    """Put back the list rows as they were before change-log `group` (which is being undone)."""
    for path, before in tx.list_undo(group):
        if before is None:
            tx.remove_list(path)
            continue
        clash = next((row for row in tx.lists() if row.name == before.name and row.path != path), None)
        if clash is not None:
            raise Conflict(f"a list named {before.name!r} exists again; rename or delete it, then undo")
        tx.put_list(before)


def _tasks(tx: SharedTx, project: str) -> list[Task]:
    """Every task of `project`, the trash included, as stored."""
    tasks: list[Task] = []
    after: list[int | float | str] | None = None
    while True:
        page = tx.query(ListQuery(status=None, project=project, limit=500, after=after))
        tasks.extend(stored(task) for task in page.items)
        if page.next_after is None:
            return tasks
        after = page.next_after


def _check_free(tx: SharedTx, rows: list[TaskList], name: str) -> None:
    if any(share.mount == name for share in tx.shares_as_member()):
        raise Conflict(f"{name!r} is a project shared with you; pick another name")
    if any(row.name == name for row in rows) or tx.raw.project_in_use(name):
        raise Conflict(f"a list named {name!r} exists already; pick another name, or rename or delete that one")


def _check_renamable(tx: SharedTx, name: str) -> None:
    if name == DEFAULT_PROJECT:
        raise Conflict(f"{DEFAULT_PROJECT!r} is the default list (tasks without a project go there); it keeps its name")
    if any(share.mount == name for share in tx.shares_as_member()):
        raise Conflict(f"{name!r} is shared with you; only its owner can rename it")
    if tx.shares_as_owner(name):
        raise Conflict(f"{name!r} is shared; unshare it (unshare_project) before renaming it")
