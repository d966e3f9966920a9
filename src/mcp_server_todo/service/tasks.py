"""The operations on tasks (add, complete, update, delete, trash, share, undo): pure domain
logic over a `Store`. No MCP, no SQL.

Every write is one store transaction holding the changes and their change-log entries,
so it is atomic (a bulk call changes all its tasks or none), durable once acknowledged,
and exactly one step of `undo`. Rules that live here:

- completing a recurring task completes this occurrence and creates the next one;
- a parent with open subtasks is completed only together with them (`with_subtasks`);
- deleting a task moves it and its subtasks to the trash; emptying the trash is logged
  too, so even that can be undone;
- ids are never reused (the store's counter only grows);
- a shared project's tasks belong to its owner; members see and change them through copies
  under their own ids, kept in step by the service's fan-out (`sharing.py`).

The service is the only writer: every write, the import engine's too (`transfer.py`), goes
through `sharing.write`, and nothing else calls a store transaction's write methods.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ..dates import parse_due
from ..dates.reminders import parse_reminders
from ..errors import Conflict, InvalidInput, NotFound, Stale
from ..model import (
    DEFAULT_PROJECT,
    Change,
    Due,
    ListQuery,
    Priority,
    Share,
    Status,
    Task,
    clean_href,
    clean_id,
    clean_notes,
    clean_project,
    clean_tags,
    clean_title,
    clean_user,
    stored,
    task_from_store,
)
from ..store import StoreTx
from .inputs import (
    BULK_MAX,
    CLIENT_FIELDS,
    FIELDS,
    check_item,
    clean_ids,
    each_item,
    opt_id,
    parse_priority,
    recurrence_module,
    zone_kept,
)
from .occurrences import next_occurrence, stepped
from .reads import TaskReads
from .results import Completed, Undone
from .rules import check_task, descendants, existing
from .sharing import write
from .undo import revert, revert_one

if TYPE_CHECKING:
    from collections.abc import Callable

    from .transfer import Transfer

UNDO_AT_ONCE = 1000
"""A bigger group (an import) is reverted in batches: other writers never wait for all of it."""


class TodoService(TaskReads):
    """The operations on tasks (see the module docstring); reads are `TaskReads`'."""

    def transfer(self) -> Transfer:
        """The import/export engine for this service's store, owner, zone and clock."""
        from .transfer import Transfer

        return Transfer(self.store, owner=self.owner, tz=self.tz, clock=self._clock)

    # -- adding -------------------------------------------------------------------------

    def add(self, title: str, **fields: Any) -> Task:
        return self.add_many([{"title": title, **fields}])[0]

    def add_many(self, items: list[dict[str, Any]], *, uids: list[str] | None = None) -> list[Task]:
        """Add tasks in one transaction: all of them or, if any is invalid, none. `uids`, one per
        item, keeps identities a client chose (a CalDAV client's UID) instead of new ones."""
        if uids is not None and len(uids) != len(items):
            raise InvalidInput("give one uid per item")
        if not items:
            raise InvalidInput("no tasks given; pass a title (or items, a list of tasks)")
        if len(items) > BULK_MAX:
            raise InvalidInput(f"{len(items)} tasks given; one call adds at most {BULK_MAX}")
        now = self._clock()
        drafts = each_item(items, lambda item: self._draft(item, now))
        with write(self.store, self.owner, via=self.via) as tx:
            created: list[Task] = []
            first_id = 0
            for index, draft in enumerate(drafts):
                task_id = tx.allocate_id()
                first_id = first_id or task_id
                task = draft  # made for this call alone (`_draft`): numbered in place
                task.id = task_id
                if uids is not None:
                    task.uid = uids[index]
                # a parent may be an item of this same call, named by its position: parent_id=-1 is item 1
                parent = task.parent_id
                if parent is not None and parent < 0:
                    if -parent > index:
                        raise InvalidInput(f"item {index + 1}: parent_id {parent} must name an earlier item")
                    task.parent_id = first_id - parent - 1
                check_item(index, len(drafts), lambda task=task: check_task(tx, task))  # type: ignore[misc]
                tx.put(task)
                tx.log(Change(op="add", task_id=task.id, before=None, after=task, at=now))
                created.append(task)
        return self._present(created)

    def _draft(self, item: dict[str, Any], now: str) -> Task:
        unknown = set(item) - set(FIELDS) - set(CLIENT_FIELDS)
        if unknown:
            raise InvalidInput(f"unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(FIELDS)}")
        if not isinstance(item.get("title"), str):
            raise InvalidInput("title is required (a string)")
        due = self._due(item.get("due"))
        recur = recurrence_module().parse_recur(item["recur"]) if item.get("recur") else None
        if recur and due is None:
            due = parse_due(recurrence_module().first_due(recur, self.today()), self.tz)
        elif recur and due is not None:
            recurrence_module().check_until(recur, due.iso)
        parent = item.get("parent_id")
        done = item.get("status") == "done"
        if item.get("status") not in (None, "pending", "done"):
            raise InvalidInput(f"status {item['status']!r} cannot be set on a new task; use 'pending' or 'done'")
        return task_from_store(  # every field, cleaned above: no defaults to look up
            {
                "id": 0,
                "title": clean_title(item["title"]),
                "notes": clean_notes(item["notes"]) if item.get("notes") else "",
                "status": Status.done if done else Status.pending,
                "priority": parse_priority(item.get("priority")) or Priority.none,
                "due": due.iso if due else None,
                "due_tz": zone_kept(due, item.get("due_tz")),
                "recur": recur,
                "project": clean_project(item["project"]) if item.get("project") is not None else DEFAULT_PROJECT,
                "tags": clean_tags(item["tags"]) if item.get("tags") else [],
                "parent_id": parent if isinstance(parent, int) and parent < 0 else opt_id(parent, "parent_id"),
                "depends_on": clean_ids(item["depends_on"], "depends_on id") if item.get("depends_on") else [],
                "created_at": now,
                "updated_at": now,
                "completed_at": now if done else None,
                "uid": uuid.uuid4().hex,
                "reminders": parse_reminders(item["remind"], self.tz, now=self.now()) if item.get("remind") else [],
                "ical": item.get("ical") or None,
                "href": clean_href(item.get("href") or ""),
                "due_human": None,
                "subtasks": 0,
                "blocked": False,
                "urgency": None,
            }
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
        task_ids = clean_ids(ids)
        result = Completed()
        with write(self.store, self.owner, via=self.via) as tx:
            now = self._clock()
            tasks = [existing(tx, task_id, verb="complete") for task_id in task_ids]
            chosen = {task.id for task in tasks}
            for task in tasks:
                if task.status is Status.done:
                    result.unchanged.append(task)
                    continue
                open_children = [c for c in descendants(tx, task.id) if c.status is Status.pending]
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
        before = stored(task)
        done = before.model_copy(update={"status": Status.done, "completed_at": now, "updated_at": now})
        tx.put(done)
        tx.log(Change(op="complete", task_id=task.id, before=before, after=done, at=now))
        result.done.append(done)
        if task.recur:
            nxt = next_occurrence(tx, task, now, self.today())
            if nxt is not None:
                result.created.append(nxt)

    # -- updating -----------------------------------------------------------------------

    def update(self, task_id: int, *, expect: Callable[[Task], bool] | None = None, **fields: Any) -> Task:
        return self.update_many([task_id], expect=expect, **fields)[0]

    def update_many(self, ids: list[int], *, expect: Callable[[Task], bool] | None = None, **fields: Any) -> list[Task]:
        """Apply the same change to every task (e.g. move 20 tasks to a project), all or none.
        `due=""` clears the due date (and `recur=""` the rule), `parent_id=0` detaches,
        `status` "pending" reopens a done task or restores one from the trash. `expect`, given
        each stored task as this transaction reads it, False: `Stale`, nothing changed (a
        CalDAV If-Match checked against every writer)."""
        task_ids = clean_ids(ids)
        changes = self._changes(fields)
        status = fields.get("status")
        if status is not None and status not in ("pending", "done"):
            raise InvalidInput(f"status {status!r} cannot be set here; use 'pending' or 'done' (delete_item deletes)")
        if not changes and status is None:
            raise InvalidInput("nothing to update; pass at least one field to change")
        updated: list[Task] = []
        with write(self.store, self.owner, via=self.via) as tx:
            now = self._clock()
            for index, task_id in enumerate(task_ids):
                task = tx.get(task_id)
                if task is None:
                    raise NotFound(f"no task {task_id}; call list_items to see ids")
                task = stored(task)
                if expect is not None and not expect(task):
                    raise Stale(f"task {task_id} changed since it was read; read it again")
                if task.status is Status.deleted and status is None:
                    raise Conflict(
                        f"task {task_id} is in the trash; pass status='pending' to restore it (or call undo)"
                    )
                new = dict(changes)
                if status is not None and Status(status) is not task.status:
                    new["status"] = Status(status)
                    new["completed_at"] = now if status == "done" else None
                candidate = task.model_copy(update=new)
                check_item(index, len(task_ids), lambda c=candidate: check_task(tx, c))  # type: ignore[misc]
                if candidate == task:
                    updated.append(task)
                    continue
                candidate.updated_at = now
                op = "restore" if task.status is Status.deleted else "update"
                tx.put(candidate)
                tx.log(Change(op=op, task_id=task_id, before=task, after=candidate, at=now))
                updated.append(candidate)
                stepped(tx, task, candidate, now, self.today(), self.via)
        return self._present(updated)

    def _changes(self, fields: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if fields.get("title") is not None:
            changes["title"] = clean_title(fields["title"])
        if fields.get("notes") is not None:
            changes["notes"] = clean_notes(fields["notes"])
        if fields.get("priority") is not None:
            changes["priority"] = parse_priority(fields["priority"])
        if fields.get("due") is not None:
            due = self._due(fields["due"])
            changes["due"] = due.iso if due else None
            changes["due_tz"] = zone_kept(due, fields.get("due_tz"))
        if fields.get("ical") is not None:
            changes["ical"] = fields["ical"] or None
        if fields.get("href") is not None:
            changes["href"] = clean_href(fields["href"])
        if fields.get("recur") is not None:
            changes["recur"] = recurrence_module().parse_recur(fields["recur"]) if fields["recur"].strip() else None
            if changes["recur"] and changes.get("due"):
                recurrence_module().check_until(changes["recur"], changes["due"])
        if fields.get("project") is not None:
            changes["project"] = clean_project(fields["project"])
        if fields.get("tags") is not None:
            changes["tags"] = clean_tags(fields["tags"])
        if fields.get("parent_id") is not None:
            changes["parent_id"] = None if fields["parent_id"] == 0 else clean_id(fields["parent_id"], "parent_id")
        if fields.get("depends_on") is not None:
            changes["depends_on"] = [clean_id(i, "depends_on id") for i in dict.fromkeys(fields["depends_on"])]
        if fields.get("remind") is not None:
            changes["reminders"] = parse_reminders(fields["remind"], self.tz, now=self.now())
        return changes

    # -- deleting -----------------------------------------------------------------------

    def delete(self, task_id: int, *, expect: Callable[[Task], bool] | None = None) -> Task:
        return self.delete_many([task_id], expect=expect)[0]

    def delete_many(self, ids: list[int], *, expect: Callable[[Task], bool] | None = None) -> list[Task]:
        """Move tasks and their subtasks to the trash (restorable: undo, or status='pending');
        `expect` as for `update_many`."""
        task_ids = clean_ids(ids)
        deleted: list[Task] = []
        with write(self.store, self.owner, via=self.via) as tx:
            now = self._clock()
            seen: set[int] = set()
            for task_id in task_ids:
                task = tx.get(task_id)
                if task is None or task.status is Status.deleted:
                    state = "is already in the trash" if task else "does not exist"
                    raise NotFound(f"task {task_id} {state}; call list_items to see ids")
                if expect is not None and not expect(task):
                    raise Stale(f"task {task_id} changed since it was read; read it again")
                for victim in [task, *descendants(tx, task_id)]:
                    if victim.id in seen or victim.status is Status.deleted:
                        continue
                    seen.add(victim.id)
                    before = stored(victim)
                    gone = before.model_copy(update={"status": Status.deleted, "updated_at": now})
                    tx.put(gone)
                    tx.log(Change(op="delete", task_id=victim.id, before=before, after=gone, at=now))
                    deleted.append(gone)
        return self._present(deleted)

    def empty_trash(self) -> int:
        """Remove every task in the trash for good. Logged, so `undo` still brings them back."""
        with write(self.store, self.owner, via=self.via) as tx:
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
        with write(self.store, self.owner, sharing=True, via=self.via) as tx:
            return tx.share(project, user, self._clock())

    def unshare_project(self, project: str, user: str) -> int:
        """Stop sharing my `project` with `user`; how many tasks they no longer see."""
        project, user = clean_project(project), clean_user(user)
        with write(self.store, self.owner, sharing=True, via=self.via) as tx:
            removed = tx.unshare(project, user, self._clock())
        if removed is None:
            raise NotFound(f"project {project!r} is not shared with {user}; call list_shares to see who has what")
        return removed

    # -- undo ---------------------------------------------------------------------------

    def undo(self, steps: int = 1, *, progress: Callable[[int, int], None] | None = None) -> list[Undone]:
        """Revert the most recent `steps` changes not yet undone (each one whole operation).
        A group too big for one transaction (an import's) is reverted in batches, each one
        reported to `progress(done, total)` if given."""
        if not 1 <= steps <= 50:
            raise InvalidInput(f"steps must be between 1 and 50; got {steps}")
        undone: list[Undone] = []
        big: list[Change] = []
        with write(self.store, self.owner, via=self.via) as tx:
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
            revert(self.store, self.owner, big, now, progress)
            for change in reversed(big):
                title = (change.after or change.before or _GONE).title
                undone.append(Undone(op=change.op, task_id=change.task_id, title=title, task=change.before))
        return undone


_GONE = Task.model_construct(title="(unknown)")
