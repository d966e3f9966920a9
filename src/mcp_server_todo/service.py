"""The operations on tasks: pure domain logic over a `Store`. No MCP, no SQL.

Every write is one store transaction holding the changes and their change-log entries,
so it is atomic (a bulk call changes all its tasks or none), durable once acknowledged,
and exactly one step of `undo`. Rules that live here:

- completing a recurring task completes this occurrence and creates the next one;
- a parent with open subtasks is completed only together with them (`with_subtasks`);
- deleting a task moves it and its subtasks to the trash; emptying the trash is logged
  too, so even that can be undone;
- ids are never reused (the store's counter only grows);
- a shared project's tasks belong to its owner; members see and change them through copies
  under their own ids, kept in step by the store (`store.sharing`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from types import ModuleType
from typing import Any, cast

from .dates import WindowKind, humanize, parse_due, parse_due_bound, utc_now, window, zone
from .errors import Conflict, InvalidInput, NotFound, TodoError
from .model import (
    DEFAULT_PROJECT,
    ID_MAX,
    SORTS,
    Change,
    Due,
    DueWindow,
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
    clean_user,
    stored,
)
from .store import LOCAL_OWNER, Share, Store, StoreTx, off_the_loop
from .transfer_tx import revert, revert_one

_STATUS_FILTERS = {"pending": Status.pending, "done": Status.done, "deleted": Status.deleted, "all": None}
DUE_FILTERS = ("overdue", "today", "this_week")
_KEY_LENGTHS = {"created": 1, "due": 2, "priority": 3, "urgency": 2}
"""How many values a page's sort key has (the store's keyset), to refuse a forged cursor."""
BULK_MAX = 100
DESCENDANTS_ON_LOOP = 50
"""A task with more subtasks than this is completed or deleted on a worker thread."""
UNDO_AT_ONCE = 1000
"""A bigger group (an import) is reverted in batches: other writers never wait for all of it."""
_FIELDS = ("title", "notes", "priority", "due", "recur", "project", "tags", "parent_id", "depends_on")


@dataclass
class Page:
    items: list[Task]
    total: int
    next_cursor: str | None


@dataclass
class Completed:
    done: list[Task] = field(default_factory=list)
    """Tasks completed by this call (subtasks included)."""
    unchanged: list[Task] = field(default_factory=list)
    """Tasks that were already done."""
    created: list[Task] = field(default_factory=list)
    """Next occurrences of recurring tasks."""


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


def _ids(ids: Iterable[int], what: str = "id") -> list[int]:
    unique = list(dict.fromkeys(clean_id(i, what) for i in ids))
    if not unique:
        raise InvalidInput(f"no {what}s given; pass at least one task id")
    if len(unique) > BULK_MAX:
        raise InvalidInput(f"{len(unique)} ids given; one call handles at most {BULK_MAX}")
    return unique


class TodoService:
    def __init__(
        self,
        store: Store,
        *,
        owner: str = LOCAL_OWNER,
        tz: tzinfo | None = None,
        clock: Callable[[], str] = utc_now,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self.tz = tz or zone()
        self._clock = clock
        self._now = now or (lambda: datetime.now(UTC))

    # -- time -----------------------------------------------------------------------

    def now(self) -> datetime:
        """Now in the user's zone."""
        return self._now().astimezone(self.tz)

    def today(self) -> date:
        return self.now().date()

    def _present(self, tasks: list[Task]) -> list[Task]:
        """Fill the computed, zone-dependent fields for display."""
        now = self.now()
        for task in tasks:
            task.due_human = humanize(task.due, self.tz, now) if task.due else None
        return tasks

    # -- reading ------------------------------------------------------------------------

    def get(self, task_id: int) -> Task:
        clean_id(task_id)
        with self.store.read(self.owner) as tx:
            task = tx.get(task_id)
        if task is None:
            raise NotFound(f"no task {task_id}; call list_items to see ids")
        return self._present([task])[0]

    def list_tasks(
        self,
        *,
        status: str = "pending",
        project: str | None = None,
        tag: str | None = None,
        due_before: str | None = None,
        due: str | None = None,
        query: str | None = None,
        parent_id: int | None = None,
        sort: str = "created",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        if status not in _STATUS_FILTERS:
            raise InvalidInput(f"status {status!r} is not one of pending, done, deleted, all")
        if sort not in SORTS:
            raise InvalidInput(f"sort {sort!r} is not one of {', '.join(SORTS)}")
        if due is not None and due not in DUE_FILTERS:
            raise InvalidInput(f"due {due!r} is not one of {', '.join(DUE_FILTERS)}")
        q = ListQuery(
            status=_STATUS_FILTERS[status],
            project=clean_project(project) if project is not None else None,
            tag=clean_tag(tag) if tag is not None else None,
            due_before=parse_due_bound(due_before, self.tz) if due_before is not None else None,
            text=clean_query(query) if query is not None else None,
            parent_id=clean_id(parent_id, "parent_id") if parent_id is not None else None,
            sort=sort,
            limit=clean_limit(limit),
        )
        fingerprint = _fingerprint(q, due)
        now = self.now()
        if cursor:
            q.after, now_text = _decode_cursor(cursor, fingerprint)
            if len(q.after) != _KEY_LENGTHS[sort] or not isinstance(q.after[-1], int):  # the last is an id
                raise InvalidInput("cursor is not one this server returned; call list_items without a cursor")
            now = datetime.fromisoformat(now_text).astimezone(self.tz)
        if due is not None:
            w = window(cast(WindowKind, due), self.tz, now)
            q.window = DueWindow(w.date_from, w.date_to, w.utc_from, w.utc_to)
        q.now_utc = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        with self.store.read(self.owner) as tx:
            page: TaskPage = tx.query(q)
        next_cursor = None if page.next_after is None else _encode_cursor(page.next_after, now.isoformat(), fingerprint)
        return Page(items=self._present(page.items), total=page.total, next_cursor=next_cursor)

    def history(self, task_id: int | None = None, limit: int = 20) -> list[Change]:
        if task_id is not None:
            clean_id(task_id)
        with self.store.read(self.owner) as tx:
            return tx.history(task_id, clean_limit(limit))

    def projects(self) -> list[tuple[str, int, int]]:
        """(project, pending, done) for every project with tasks, by name."""
        with self.store.read(self.owner) as tx:
            return tx.projects()

    def tags(self) -> list[tuple[str, int]]:
        """(tag, pending tasks) for every tag in use, most used first."""
        with self.store.read(self.owner) as tx:
            return tx.tags()

    def last_change_id(self) -> int:
        with self.store.read(self.owner) as tx:
            return tx.last_change_id()

    def changes_since(self, change_id: int, limit: int = 500) -> list[Change]:
        with self.store.read(self.owner) as tx:
            return tx.changes_since(change_id, limit)

    # -- adding -------------------------------------------------------------------------

    def add(self, title: str, **fields: Any) -> Task:
        return self.add_many([{"title": title, **fields}])[0]

    def add_many(self, items: list[dict[str, Any]]) -> list[Task]:
        """Add tasks in one transaction: all of them or, if any is invalid, none."""
        if not items:
            raise InvalidInput("no tasks given; pass a title (or items, a list of tasks)")
        if len(items) > BULK_MAX:
            raise InvalidInput(f"{len(items)} tasks given; one call adds at most {BULK_MAX}")
        now = self._clock()
        drafts = _each(items, lambda item: self._draft(item, now))
        with self.store.write(self.owner) as tx:
            created: list[Task] = []
            first_id = 0
            for index, draft in enumerate(drafts):
                task_id = tx.allocate_id()
                first_id = first_id or task_id
                task = draft.model_copy(update={"id": task_id})
                # a parent may be an item of this same call, named by its position: parent_id=-1 is item 1
                parent = task.parent_id
                if parent is not None and parent < 0:
                    if -parent > index:
                        raise InvalidInput(f"item {index + 1}: parent_id {parent} must name an earlier item")
                    task.parent_id = first_id - parent - 1
                _prefix(index, len(drafts), lambda task=task: self._check_links(tx, task))  # type: ignore[misc]
                tx.put(task)
                tx.log(Change(op="add", task_id=task.id, before=None, after=task, at=now))
                created.append(task)
        return self._present(created)

    def _draft(self, item: dict[str, Any], now: str) -> Task:
        unknown = set(item) - set(_FIELDS)
        if unknown:
            raise InvalidInput(f"unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(_FIELDS)}")
        if not isinstance(item.get("title"), str):
            raise InvalidInput("title is required (a string)")
        due = self._due(item.get("due"))
        recur = _recurrence().parse_recur(item["recur"]) if item.get("recur") else None
        if recur and due is None:
            due = parse_due(_recurrence().first_due(recur, self.today()), self.tz)
        elif recur and due is not None:
            _recurrence().check_until(recur, due.iso)
        parent = item.get("parent_id")
        return Task.model_construct(
            id=0,
            title=clean_title(item["title"]),
            notes=clean_notes(item["notes"]) if item.get("notes") else "",
            status=Status.pending,
            priority=_priority(item.get("priority")) or Priority.none,
            due=due.iso if due else None,
            due_tz=due.tz if due else None,
            recur=recur,
            project=clean_project(item["project"]) if item.get("project") is not None else DEFAULT_PROJECT,
            tags=clean_tags(item["tags"]) if item.get("tags") else [],
            parent_id=parent if isinstance(parent, int) and parent < 0 else _opt_id(parent, "parent_id"),
            depends_on=_ids(item["depends_on"], "depends_on id") if item.get("depends_on") else [],
            created_at=now,
            updated_at=now,
            completed_at=None,
            uid=uuid.uuid4().hex,
            due_human=None,
            subtasks=0,
            blocked=False,
            urgency=None,
        )

    def _due(self, value: str | None) -> Due | None:
        if value is None or not value.strip():
            return None
        return parse_due(value, self.tz, now=self.now())

    # -- completing ---------------------------------------------------------------------

    def complete(self, task_id: int) -> tuple[Task, bool]:
        """Complete one task; returns it and whether it changed (False if it was already done)."""
        result = self.complete_many([task_id])
        return (result.done or result.unchanged)[0], bool(result.done)

    def complete_many(self, ids: list[int], *, with_subtasks: bool = False) -> Completed:
        task_ids = _ids(ids)
        result = Completed()
        with self.store.write(self.owner) as tx:
            now = self._clock()
            tasks = [self._existing(tx, task_id, verb="complete") for task_id in task_ids]
            chosen = {task.id for task in tasks}
            for task in tasks:
                if task.status is Status.done:
                    result.unchanged.append(task)
                    continue
                open_children = [c for c in self._descendants(tx, task.id) if c.status is Status.pending]
                pending_outside = [c for c in open_children if c.id not in chosen]
                if pending_outside and not with_subtasks:
                    listed = ", ".join(f"#{c.id}" for c in pending_outside[:10])
                    raise Conflict(
                        f"task {task.id} has {len(pending_outside)} open subtask(s) ({listed}); complete them "
                        f"first, or call complete_item again with with_subtasks=true to complete them all"
                    )
                for child in pending_outside:
                    chosen.add(child.id)
                    self._complete_one(tx, child, now, result)
                self._complete_one(tx, task, now, result)
        self._present(result.done + result.unchanged + result.created)
        return result

    def _complete_one(self, tx: StoreTx, task: Task, now: str, result: Completed) -> None:
        done = stored(task).model_copy(update={"status": Status.done, "completed_at": now, "updated_at": now})
        tx.put(done)
        tx.log(Change(op="complete", task_id=task.id, before=stored(task), after=done, at=now))
        result.done.append(done)
        if task.recur:
            off_the_loop()  # a catch-up over missed occurrences is not bounded small
            step = _recurrence().advance(task.recur, task.due or self.today().isoformat(), task.due_tz, self.today())
            if step is not None:
                nxt = stored(task).model_copy(
                    update={
                        "id": tx.allocate_id(),
                        "uid": uuid.uuid4().hex,
                        "due": step.due,
                        "recur": step.rule,
                        "created_at": now,
                        "updated_at": now,
                        "completed_at": None,
                        "status": Status.pending,
                    }
                )
                tx.put(nxt)
                tx.log(Change(op="add", task_id=nxt.id, before=None, after=nxt, at=now))
                result.created.append(nxt)

    # -- updating -----------------------------------------------------------------------

    def update(self, task_id: int, **fields: Any) -> Task:
        return self.update_many([task_id], **fields)[0]

    def update_many(self, ids: list[int], **fields: Any) -> list[Task]:
        """Apply the same change to every task (e.g. move 20 tasks to a project), all or none.
        `due=""` clears the due date (and `recur=""` the rule), `parent_id=0` detaches,
        `status` "pending" reopens a done task or restores one from the trash."""
        task_ids = _ids(ids)
        changes = self._changes(fields)
        status = fields.get("status")
        if status is not None and status not in ("pending", "done"):
            raise InvalidInput(f"status {status!r} cannot be set here; use 'pending' or 'done' (delete_item deletes)")
        if not changes and status is None:
            raise InvalidInput("nothing to update; pass at least one field to change")
        updated: list[Task] = []
        with self.store.write(self.owner) as tx:
            now = self._clock()
            for index, task_id in enumerate(task_ids):
                task = tx.get(task_id)
                if task is None:
                    raise NotFound(f"no task {task_id}; call list_items to see ids")
                task = stored(task)
                if task.status is Status.deleted and status is None:
                    raise Conflict(
                        f"task {task_id} is in the trash; pass status='pending' to restore it (or call undo)"
                    )
                new = dict(changes)
                if status is not None and Status(status) is not task.status:
                    new["status"] = Status(status)
                    new["completed_at"] = now if status == "done" else None
                candidate = task.model_copy(update=new)
                _prefix(index, len(task_ids), lambda c=candidate: self._check_links(tx, c))  # type: ignore[misc]
                if candidate == task:
                    updated.append(task)
                    continue
                candidate.updated_at = now
                op = "restore" if task.status is Status.deleted else "update"
                tx.put(candidate)
                tx.log(Change(op=op, task_id=task_id, before=task, after=candidate, at=now))
                updated.append(candidate)
        return self._present(updated)

    def _changes(self, fields: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if fields.get("title") is not None:
            changes["title"] = clean_title(fields["title"])
        if fields.get("notes") is not None:
            changes["notes"] = clean_notes(fields["notes"])
        if fields.get("priority") is not None:
            changes["priority"] = _priority(fields["priority"])
        if fields.get("due") is not None:
            due = self._due(fields["due"])
            changes["due"] = due.iso if due else None
            changes["due_tz"] = due.tz if due else None
        if fields.get("recur") is not None:
            changes["recur"] = _recurrence().parse_recur(fields["recur"]) if fields["recur"].strip() else None
            if changes["recur"] and changes.get("due"):
                _recurrence().check_until(changes["recur"], changes["due"])
        if fields.get("project") is not None:
            changes["project"] = clean_project(fields["project"])
        if fields.get("tags") is not None:
            changes["tags"] = clean_tags(fields["tags"])
        if fields.get("parent_id") is not None:
            changes["parent_id"] = None if fields["parent_id"] == 0 else clean_id(fields["parent_id"], "parent_id")
        if fields.get("depends_on") is not None:
            changes["depends_on"] = [clean_id(i, "depends_on id") for i in dict.fromkeys(fields["depends_on"])]
        return changes

    # -- deleting -----------------------------------------------------------------------

    def delete(self, task_id: int) -> Task:
        return self.delete_many([task_id])[0]

    def delete_many(self, ids: list[int]) -> list[Task]:
        """Move tasks and their subtasks to the trash (restorable: undo, or status='pending')."""
        task_ids = _ids(ids)
        deleted: list[Task] = []
        with self.store.write(self.owner) as tx:
            now = self._clock()
            seen: set[int] = set()
            for task_id in task_ids:
                task = tx.get(task_id)
                if task is None or task.status is Status.deleted:
                    state = "is already in the trash" if task else "does not exist"
                    raise NotFound(f"task {task_id} {state}; call list_items to see ids")
                for victim in [task, *self._descendants(tx, task_id)]:
                    if victim.id in seen or victim.status is Status.deleted:
                        continue
                    seen.add(victim.id)
                    before = stored(victim)
                    gone = before.model_copy(update={"status": Status.deleted, "updated_at": now})
                    tx.put(gone)
                    tx.log(Change(op="delete", task_id=victim.id, before=before, after=gone, at=now))
                    deleted.append(gone)
        return self._present(deleted)

    def trash_size(self) -> int:
        with self.store.read(self.owner) as tx:
            return tx.query(ListQuery(status=Status.deleted, limit=1)).total

    def empty_trash(self) -> int:
        """Remove every task in the trash for good. Logged, so `undo` still brings them back."""
        with self.store.write(self.owner) as tx:
            now = self._clock()
            count = 0
            while True:
                page = tx.query(ListQuery(status=Status.deleted, limit=500))
                if not page.items:
                    break
                for task in page.items:
                    tx.remove(task.id)
                    tx.log(Change(op="purge", task_id=task.id, before=stored(task), after=None, at=now))
                    count += 1
        return count

    # -- sharing ------------------------------------------------------------------------

    def share_project(self, project: str, user: str) -> tuple[Share, int]:
        """Share my `project` with `user`, who then sees and edits its tasks under their own
        ids, in their project `me/project`. Returns the share and how many tasks it holds."""
        project, user = clean_project(project), clean_user(user)
        with self.store.write(self.owner, sharing=True) as tx:
            return tx.share(project, user, self._clock())

    def unshare_project(self, project: str, user: str) -> int:
        """Stop sharing my `project` with `user`; how many tasks they no longer see."""
        project, user = clean_project(project), clean_user(user)
        with self.store.write(self.owner, sharing=True) as tx:
            removed = tx.unshare(project, user, self._clock())
        if removed is None:
            raise NotFound(f"project {project!r} is not shared with {user}; call list_shares to see who has what")
        return removed

    def shares(self) -> tuple[list[Share], list[Share]]:
        """(the shares of my projects, the projects shared with me)."""
        with self.store.read(self.owner) as tx:
            return tx.shares_as_owner(), tx.shares_as_member()

    # -- undo ---------------------------------------------------------------------------

    def undo(self, steps: int = 1) -> list[Undone]:
        """Revert the most recent `steps` changes not yet undone (each one whole operation)."""
        if not 1 <= steps <= 50:
            raise InvalidInput(f"steps must be between 1 and 50; got {steps}")
        undone: list[Undone] = []
        big: list[Change] = []
        with self.store.write(self.owner) as tx:
            now = self._clock()
            for _ in range(steps):
                group = tx.last_group()
                if not group:
                    if undone:
                        break
                    raise Conflict("nothing to undo: no change has been made yet (or all were undone)")
                if len(group) > UNDO_AT_ONCE:
                    big = group  # an import's: reverted in batches, after this transaction
                    break
                for change in reversed(group):
                    current = revert_one(tx, change, now)
                    title = (change.after or change.before or current or _GONE).title
                    undone.append(Undone(op=change.op, task_id=change.task_id, title=title, task=change.before))
                tx.mark_undone(group[0].group)
        if big:
            revert(self.store, self.owner, big, now)
            for change in reversed(big):
                title = (change.after or change.before or _GONE).title
                undone.append(Undone(op=change.op, task_id=change.task_id, title=title, task=change.before))
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

    def _descendants(self, tx: StoreTx, task_id: int) -> list[Task]:
        found: list[Task] = []
        frontier = [task_id]
        while frontier and len(found) < 10_000:
            children = tx.query(ListQuery(status=None, parent_id=frontier.pop(), limit=500)).items
            found.extend(children)
            if len(found) > DESCENDANTS_ON_LOOP:
                off_the_loop()  # a query per subtask: a big tree takes seconds
            frontier.extend(child.id for child in children)
        return found

    def _check_links(self, tx: StoreTx, task: Task) -> None:
        """Parent and dependencies exist, are not in the trash, and make no cycle."""
        if task.parent_id is not None:
            seen = {task.id}
            current: int | None = task.parent_id
            while current is not None:
                # existence first: a new task's own (not yet stored) id is just a missing task
                parent = tx.get(current)
                if parent is None or parent.status is Status.deleted:
                    raise NotFound(f"no parent task {current}; call list_items to see ids")
                if current in seen:
                    raise InvalidInput(f"task {task.parent_id} cannot be the parent: that would make a cycle")
                seen.add(current)
                current = parent.parent_id
        if task.depends_on:
            for dep in task.depends_on:
                if tx.get(dep) is None:
                    raise NotFound(f"no task {dep} to depend on; call list_items to see ids")
                if dep == task.id:
                    raise InvalidInput(f"task {task.id} cannot depend on itself")
            frontier, seen_deps = list(task.depends_on), {task.id}
            while frontier:
                dep_id = frontier.pop()
                if dep_id == task.id:
                    raise InvalidInput(f"task {task.id} cannot depend on {task.depends_on}: that would make a cycle")
                if dep_id in seen_deps:
                    continue
                seen_deps.add(dep_id)
                dep_task = tx.get(dep_id)
                frontier.extend(dep_task.depends_on if dep_task else [])


_GONE = Task.model_construct(title="(unknown)")


def _recurrence() -> ModuleType:
    """The recurrence module, imported on first use (dateutil costs start-up time)."""
    from .dates import recurrence

    return recurrence


def _opt_id(value: Any, what: str) -> int | None:
    return None if value is None else clean_id(value, what)


def _each(items: list[dict[str, Any]], fn: Callable[[dict[str, Any]], Task]) -> list[Task]:
    """Apply `fn` to every item; if any fail, one error naming each failed item."""
    results: list[Task] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            results.append(fn(item))
        except TodoError as exc:
            problems.append(f"item {index + 1}: {exc}" if len(items) > 1 else str(exc))
    if problems:
        raise InvalidInput("; ".join(problems) + ("; nothing was added" if len(items) > 1 else ""))
    return results


def _prefix(index: int, count: int, check: Callable[[], None]) -> None:
    """Run a check, naming the item in its error when the call has several."""
    try:
        check()
    except TodoError as exc:
        if count == 1:
            raise
        raise type(exc)(f"item {index + 1}: {exc}; nothing was changed") from exc


def _fingerprint(q: ListQuery, due: str | None) -> str:
    key = repr((q.status, q.project, q.tag, q.due_before, due, q.text, q.parent_id, q.sort))
    return hashlib.blake2s(key.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()


def _encode_cursor(after: list[Any], now: str, fingerprint: str) -> str:
    raw = json.dumps([2, after, now, fingerprint], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_CURSOR_NOW_MIN = datetime(1900, 1, 1, tzinfo=UTC)
_CURSOR_NOW_MAX = datetime(9000, 1, 1, tzinfo=UTC)


def _key_value_ok(value: Any) -> bool:
    """A sort key value as a page returns it: an id or priority within SQL's bigint, a finite
    urgency, a short due key (a forged 10**30 or NaN must not reach the store)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -ID_MAX <= value <= ID_MAX
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < 1e12
    return isinstance(value, str) and len(value) <= 40


def _decode_cursor(cursor: str, fingerprint: str) -> tuple[list[Any], str]:
    try:
        version, after, now, expected = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(now)
        # the query's "now", with an offset, far enough inside Python's range for the week and
        # day windows around it in any zone (a cursor this server made holds the time of a call)
        if moment.tzinfo is None or not _CURSOR_NOW_MIN <= moment <= _CURSOR_NOW_MAX:
            raise ValueError(now)
        if version != 2 or not isinstance(after, list) or not all(_key_value_ok(v) for v in after):
            raise ValueError(cursor)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidInput("cursor is not one this server returned; call list_items without a cursor") from None
    if expected != fingerprint:
        raise InvalidInput("cursor belongs to a different query; pass the same filters as the call that returned it")
    return after, now
