"""The rules on how tasks link: a parent and dependencies that exist, no cycle of parents or of
dependencies, a task's descendants; and `check_task`, those links plus what its own fields
must agree on (a relative reminder needs a due date). One implementation, used by the task operations
(`tasks.py`) and the import engine (`importer.py`)."""

from __future__ import annotations

from collections.abc import Callable

from ..dates.reminders import check_reminders
from ..errors import InvalidInput, NotFound
from ..model import Status, Task
from ..store import ReadTx, off_the_loop

DESCENDANTS_ON_LOOP = 50
"""A task with more subtasks than this is completed or deleted on a worker thread."""
DESCENDANTS_MAX = 100_000
"""A task with more subtasks (all levels) is not completed or deleted with them in one call."""


def parent_cycle(task_id: int, parent_id: int | None, parent_of: Callable[[int], int | None]) -> bool:
    """Whether giving task `task_id` the parent `parent_id` makes a cycle. `parent_of(id)` is
    the parent of a task (None: it has none, or is unknown); it may raise for a missing task,
    and is asked about each ancestor before the cycle check (existence first)."""
    seen = {task_id}
    current = parent_id
    while current is not None:
        up = parent_of(current)
        if current in seen:
            return True
        seen.add(current)
        current = up
    return False


def depends_cycle(task_id: int, depends_on: list[int], depends_of: Callable[[int], list[int]]) -> bool:
    """Whether task `task_id` depending on `depends_on` makes a cycle; `depends_of(id)` is what
    a task depends on ([] for an unknown task)."""
    frontier, seen = list(depends_on), {task_id}
    while frontier:
        current = frontier.pop()
        if current == task_id:
            return True
        if current in seen:
            continue
        seen.add(current)
        frontier.extend(depends_of(current))
    return False


def check_links(tx: ReadTx, task: Task) -> None:
    """Parent and dependencies exist, are not in the trash, and make no cycle."""
    if task.parent_id is not None:

        def parent_of(current: int) -> int | None:
            # existence first: a new task's own (not yet stored) id is just a missing task
            parent = tx.get(current)
            if parent is None or parent.status is Status.deleted:
                raise NotFound(f"no parent task {current}; call list_items to see ids")
            return parent.parent_id

        if parent_cycle(task.id, task.parent_id, parent_of):
            raise InvalidInput(f"task {task.parent_id} cannot be the parent: that would make a cycle")
    if task.depends_on:
        for dep in task.depends_on:
            if tx.get(dep) is None:
                raise NotFound(f"no task {dep} to depend on; call list_items to see ids")
            if dep == task.id:
                raise InvalidInput(f"task {task.id} cannot depend on itself")

        def depends_of(current: int) -> list[int]:
            found = tx.get(current)
            return found.depends_on if found else []

        if depends_cycle(task.id, task.depends_on, depends_of):
            raise InvalidInput(f"task {task.id} cannot depend on {task.depends_on}: that would make a cycle")


def check_task(tx: ReadTx, task: Task) -> None:
    """What a task about to be stored must satisfy: its fields agree, its links hold."""
    check_reminders(task.reminders, task.due)
    check_links(tx, task)


def existing(tx: ReadTx, task_id: int, *, verb: str) -> Task:
    """The task `task_id`, which must exist and not be in the trash (to `verb` it)."""
    task = tx.get(task_id)
    if task is None:
        raise NotFound(f"no pending task {task_id}; call list_items to see ids")
    if task.status is Status.deleted:
        raise NotFound(
            f"task {task_id} is in the trash; restore it with update_item(id={task_id}, "
            f"status='pending') before you {verb} it"
        )
    return task


def descendants(tx: ReadTx, task_id: int) -> list[Task]:
    """Every subtask of `task_id`, and theirs (one query); a tree bigger than `DESCENDANTS_MAX`
    is refused whole rather than changed in part."""
    found = tx.descendants(task_id, DESCENDANTS_MAX + 1)
    if len(found) > DESCENDANTS_MAX:
        raise InvalidInput(
            f"#{task_id} has more than {DESCENDANTS_MAX:,} subtasks, more than one call changes; "
            "complete or delete some of its subtrees first"
        )
    if len(found) > DESCENDANTS_ON_LOOP:
        off_the_loop()  # then one write per subtask: a big tree takes seconds
    return found
