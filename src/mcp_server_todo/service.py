"""The operations on tasks: pure domain logic over a `Store`. No MCP, no SQL.

Every write is one store transaction holding the change and its change-log entries,
so it is atomic, durable once acknowledged, and exactly one step of `undo`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from .dates import parse_due, parse_due_bound, utc_now, zone
from .errors import Conflict, InvalidInput, NotFound
from .model import (
    DEFAULT_PROJECT,
    Change,
    ListQuery,
    Priority,
    Status,
    Task,
    TaskPage,
    clean_id,
    clean_limit,
    clean_notes,
    clean_project,
    clean_query,
    clean_tag,
    clean_tags,
    clean_title,
)
from .store import LOCAL_OWNER, Store, StoreTx

_STATUS_FILTERS = {"pending": Status.pending, "done": Status.done, "deleted": Status.deleted, "all": None}


@dataclass
class Page:
    items: list[Task]
    total: int
    next_cursor: str | None


@dataclass
class Undone:
    """One reverted change: what the operation was, and the task after the revert (None if removed)."""

    op: str
    task_id: int
    title: str
    task: Task | None


def _priority(value: str | None) -> Priority | None:
    if value is None:
        return None
    try:
        return Priority(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"priority {value!r} is not one of none, low, medium, high") from None


class TodoService:
    def __init__(
        self,
        store: Store,
        *,
        owner: str = LOCAL_OWNER,
        tz: tzinfo | None = None,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.store = store
        self.owner = owner
        self.tz = tz or zone()
        self._clock = clock

    # -- reading ------------------------------------------------------------------------

    def get(self, task_id: int) -> Task:
        clean_id(task_id)
        with self.store.read(self.owner) as tx:
            task = tx.get(task_id)
        if task is None:
            raise NotFound(f"no task {task_id}; call list_items to see ids")
        return task

    def list_tasks(
        self,
        *,
        status: str = "pending",
        project: str | None = None,
        tag: str | None = None,
        due_before: str | None = None,
        query: str | None = None,
        parent_id: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        if status not in _STATUS_FILTERS:
            raise InvalidInput(f"status {status!r} is not one of pending, done, deleted, all")
        q = ListQuery(
            status=_STATUS_FILTERS[status],
            project=clean_project(project) if project is not None else None,
            tag=clean_tag(tag) if tag is not None else None,
            due_before=parse_due_bound(due_before, self.tz) if due_before is not None else None,
            text=clean_query(query) if query is not None else None,
            parent_id=clean_id(parent_id, "parent_id") if parent_id is not None else None,
            limit=clean_limit(limit),
        )
        fingerprint = _fingerprint(q)
        if cursor:
            q.after_id = _decode_cursor(cursor, fingerprint)
        with self.store.read(self.owner) as tx:
            page: TaskPage = tx.query(q)
        next_cursor = None if page.next_after_id is None else _encode_cursor(page.next_after_id, fingerprint)
        return Page(items=page.items, total=page.total, next_cursor=next_cursor)

    def history(self, task_id: int | None = None, limit: int = 20) -> list[Change]:
        if task_id is not None:
            clean_id(task_id)
        with self.store.read(self.owner) as tx:
            return tx.history(task_id, clean_limit(limit))

    # -- writing ------------------------------------------------------------------------

    def add(
        self,
        title: str,
        *,
        notes: str | None = None,
        priority: str | None = None,
        due: str | None = None,
        project: str | None = None,
        tags: list[str] | None = None,
        parent_id: int | None = None,
    ) -> Task:
        now = self._clock()
        fields = Task.model_construct(
            id=0,
            title=clean_title(title),
            notes=clean_notes(notes) if notes else "",
            status=Status.pending,
            priority=_priority(priority) or Priority.none,
            due=parse_due(due, self.tz).iso if due else None,
            project=clean_project(project) if project is not None else DEFAULT_PROJECT,
            tags=clean_tags(tags) if tags else [],
            parent_id=clean_id(parent_id, "parent_id") if parent_id is not None else None,
            created_at=now,
            updated_at=now,
            completed_at=None,
        )
        with self.store.write(self.owner) as tx:
            if fields.parent_id is not None:
                self._check_parent(tx, None, fields.parent_id)
            task = fields.model_copy(update={"id": tx.allocate_id()})
            tx.put(task)
            tx.log(Change(op="add", task_id=task.id, before=None, after=task, at=now))
        return task

    def complete(self, task_id: int) -> tuple[Task, bool]:
        """Mark done. Returns the task and whether it changed (False if it was already done)."""
        clean_id(task_id)
        with self.store.write(self.owner) as tx:
            task = self._existing(tx, task_id, verb="complete")
            if task.status is Status.done:
                return task, False
            now = self._clock()
            done = task.model_copy(update={"status": Status.done, "completed_at": now, "updated_at": now})
            tx.put(done)
            tx.log(Change(op="complete", task_id=task_id, before=task, after=done, at=now))
        return done, True

    def update(
        self,
        task_id: int,
        *,
        title: str | None = None,
        notes: str | None = None,
        priority: str | None = None,
        due: str | None = None,
        project: str | None = None,
        tags: list[str] | None = None,
        parent_id: int | None = None,
        status: str | None = None,
    ) -> Task:
        """Change the given fields. `due=""` clears the due date, `parent_id=0` detaches a
        subtask, `status` "pending" reopens a done task or restores a deleted one."""
        clean_id(task_id)
        changes: dict[str, object] = {}
        if title is not None:
            changes["title"] = clean_title(title)
        if notes is not None:
            changes["notes"] = clean_notes(notes)
        if priority is not None:
            changes["priority"] = _priority(priority)
        if due is not None:
            changes["due"] = parse_due(due, self.tz).iso if due.strip() else None
        if project is not None:
            changes["project"] = clean_project(project)
        if tags is not None:
            changes["tags"] = clean_tags(tags)
        if parent_id is not None:
            changes["parent_id"] = None if parent_id == 0 else clean_id(parent_id, "parent_id")
        new_status: Status | None = None
        if status is not None:
            if status not in ("pending", "done"):
                raise InvalidInput(
                    f"status {status!r} cannot be set here; use 'pending' or 'done' (delete_item deletes)"
                )
            new_status = Status(status)
        if not changes and new_status is None:
            raise InvalidInput("nothing to update; pass at least one field to change")
        with self.store.write(self.owner) as tx:
            task = tx.get(task_id)
            if task is None:
                raise NotFound(f"no task {task_id}; call list_items to see ids")
            if task.status is Status.deleted and new_status is None:
                raise Conflict(f"task {task_id} is in the trash; pass status='pending' to restore it (or call undo)")
            if parent_id:
                self._check_parent(tx, task_id, parent_id)
            now = self._clock()
            if new_status is not None and new_status is not task.status:
                changes["status"] = new_status
                changes["completed_at"] = now if new_status is Status.done else None
            if all(getattr(task, key) == value for key, value in changes.items()):
                return task
            changes["updated_at"] = now
            updated = task.model_copy(update=changes)
            op = "restore" if task.status is Status.deleted else "update"
            tx.put(updated)
            tx.log(Change(op=op, task_id=task_id, before=task, after=updated, at=now))
        return updated

    def delete(self, task_id: int) -> Task:
        """Move a task to the trash (restorable with update status='pending' or undo)."""
        clean_id(task_id)
        with self.store.write(self.owner) as tx:
            task = tx.get(task_id)
            if task is None or task.status is Status.deleted:
                state = "is already in the trash" if task else "does not exist"
                raise NotFound(f"task {task_id} {state}; call list_items to see ids")
            now = self._clock()
            deleted = task.model_copy(update={"status": Status.deleted, "updated_at": now})
            tx.put(deleted)
            tx.log(Change(op="delete", task_id=task_id, before=task, after=deleted, at=now))
        return deleted

    def undo(self) -> list[Undone]:
        """Revert the most recent change not yet undone (one whole operation)."""
        with self.store.write(self.owner) as tx:
            group = tx.last_group()
            if not group:
                raise Conflict("nothing to undo: no change has been made yet (or all were undone)")
            now = self._clock()
            undone: list[Undone] = []
            for change in reversed(group):
                current = tx.get(change.task_id)
                if change.before is None:
                    tx.remove(change.task_id)
                else:
                    tx.put(change.before)
                tx.log(Change(op="undo", task_id=change.task_id, before=current, after=change.before, at=now))
                title = (change.after or change.before or current or _GONE).title
                undone.append(Undone(op=change.op, task_id=change.task_id, title=title, task=change.before))
            tx.mark_undone(group[0].group)
        return undone

    # -- rules --------------------------------------------------------------------------

    def _existing(self, tx: StoreTx, task_id: int, *, verb: str) -> Task:
        task = tx.get(task_id)
        if task is None:
            raise NotFound(f"no pending task {task_id}; call list_items to see ids")
        if task.status is Status.deleted:
            raise NotFound(
                f"task {task_id} is in the trash; restore it with update_item(id={task_id}, "
                f"status='pending') before you {verb} it"
            )
        return task

    def _check_parent(self, tx: StoreTx, task_id: int | None, parent_id: int) -> None:
        seen = {task_id}
        current: int | None = parent_id
        while current is not None:
            if current in seen:
                raise InvalidInput(f"task {parent_id} cannot be the parent: that would make a cycle")
            seen.add(current)
            parent = tx.get(current)
            if parent is None or parent.status is Status.deleted:
                raise NotFound(f"no parent task {current}; call list_items to see ids")
            current = parent.parent_id


_GONE = Task.model_construct(title="(unknown)")


def _fingerprint(q: ListQuery) -> str:
    key = repr((q.status, q.project, q.tag, q.due_before, q.text, q.parent_id))
    return hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def _encode_cursor(after_id: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"1:{after_id}:{fingerprint}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, after, expected = raw.split(":")
        after_id = int(after)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this server returned; call list_items without a cursor") from None
    if version != "1" or expected != fingerprint:
        raise InvalidInput("cursor belongs to a different query; pass the same filters as the call that returned it")
    return after_id
