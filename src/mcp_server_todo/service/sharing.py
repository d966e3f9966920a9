"""Shared projects: the service's fan-out over plain store transactions, for every backend.

An owner shares a project with a member. The member then sees its tasks among their own,
under their own short ids, in a project named `owner/project` (the *mount*), and can list,
search, edit, complete, delete and add tasks there like in any of their projects.

How: every member holds a copy of each task of the project, a plain row of the member's own,
linked to the owner's task in `links`. So every read of a member (listing, sorting, paging,
search, counts, resources, history) works exactly as for their own tasks, with no query
across owners, and the per-owner isolation of the store (row-level security on PostgreSQL)
stays as it is. Writes fan out, all in the writer's one transaction, so copies never drift:

- a write to the owner's task rewrites every member's copy;
- a member's write to a copy is applied to the owner's task, then fanned out again;
- a task a member adds to a mount is the owner's task (the owner owns the project);
- sharing copies the project's tasks to the member; unsharing removes the copies;
- a member emptying their trash removes only their copies (the owner's trash keeps the tasks).

Each log touched by someone else's write gets an entry naming the `actor`: the owner's and
the other members' history show who did what, their watchers notify their subscribers, and
their `undo` leaves such entries alone (they are the actor's to undo). Links outlive copies,
so ids are never reused and a member who is added again gets the same ids back.

`SharedTx` wraps a backend's plain write transaction (the store's `WriteTx`: its raw sharing
primitives, `links`, `shares`, each owner's rows); `write()` opens one. Every write of the service
goes through it: the service is the only caller of a store transaction's write methods. With no
share involving its owner (the common case) it passes every call straight through.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import Conflict, InvalidInput
from ..model import PROJECT_MAX, Change, ListQuery, Share, Status, Task, TaskPage
from ..store import LOCAL_OWNER, Store, TaskList, WriteTx
from .copies import copy_of


@contextmanager
def write(
    store: Store, owner: str = LOCAL_OWNER, *, sharing: bool = False, via: str | None = None
) -> Iterator[SharedTx]:
    """A write transaction of `store` for `owner` that keeps shared projects in step: the one
    way the service writes. `sharing=True` for one that shares or unshares a project; `via`
    marks every change it logs with the way it came in ("caldav")."""
    with store.write(owner, sharing=sharing) as raw:
        yield SharedTx(raw, active=raw.has_shares(), via=via)


Echo = tuple[str, int, Task | None, Task | None]
"""(owner, task id, before, after): a write in another owner's namespace, logged there."""


class SharedTx:
    """A write transaction that keeps shared projects in step (see the module docstring)."""

    def __init__(self, raw: WriteTx, *, active: bool, via: str | None = None) -> None:
        self.raw = raw
        self.via = via
        self.me = raw.owner
        self.active = active
        """Whether any share involves this owner (else every call passes straight through)."""
        self._views: dict[str, WriteTx] = {raw.owner: raw}
        self._mounts: dict[str, Share] | None = None
        self._echoes: dict[int, list[Echo]] = {}

    # -- passed through -----------------------------------------------------------------

    def get(self, task_id: int) -> Task | None:
        return self.raw.get(task_id)

    def get_by_uid(self, uid: str) -> Task | None:
        return self.raw.get_by_uid(uid)

    def get_by_href(self, href: str) -> list[Task]:
        return self.raw.get_by_href(href)

    def naming(self, text: str) -> list[Task]:
        return self.raw.naming(text)

    def descendants(self, task_id: int, limit: int) -> list[Task]:
        return self.raw.descendants(task_id, limit)

    def reserve_ids(self, upto: int) -> None:
        self.raw.reserve_ids(upto)

    def allocate_id(self) -> int:
        return self.raw.allocate_id()

    def query(self, query: ListQuery) -> TaskPage:
        return self.raw.query(query)

    def last_group(self) -> list[Change]:
        return self.raw.last_group()

    def mark_undone(self, group: int, upto: int | None = None) -> None:
        """Mark `group` undone, and put back the list rows it changed (a rename, a deleted list)."""
        from .lists import restore_lists  # lists.py writes through this module

        self.raw.mark_undone(group, upto)
        restore_lists(self.raw, group)

    def current_group(self) -> int:
        return self.raw.current_group()

    def join_group(self, group: int) -> None:
        self.raw.join_group(group)

    def group_entries(self, group: int) -> list[Change]:
        return self.raw.group_entries(group)

    def next_id(self) -> int:
        return self.raw.next_id()

    def history(self, task_id: int | None, limit: int) -> list[Change]:
        return self.raw.history(task_id, limit)

    def projects(self) -> list[tuple[str, int, int]]:
        return self.raw.projects()

    def tags(self) -> list[tuple[str, int]]:
        return self.raw.tags()

    def last_change_id(self) -> int:
        return self.raw.last_change_id()

    def changes_since(self, change_id: int, limit: int) -> list[Change]:
        return self.raw.changes_since(change_id, limit)

    def shares_as_owner(self, project: str | None = None) -> list[Share]:
        return self.raw.shares_as_owner(project)

    def shares_as_member(self) -> list[Share]:
        return self.raw.shares_as_member()

    def lists(self) -> list[TaskList]:
        return self.raw.lists()

    def list_undo(self, group: int) -> list[tuple[str, TaskList | None]]:
        return self.raw.list_undo(group)

    # -- writes -------------------------------------------------------------------------

    def put(self, task: Task) -> None:
        if not self.active:
            self.raw.put(task)
            return
        link = self.raw.link_of(task.id)
        mount = self._mounts_now().get(task.project)
        if link is None and mount is None:  # a task of mine, maybe in a project I share
            previous = self.raw.get(task.id)
            self.raw.put(task)
            self._fan_out(self.me, task, previous, key=task.id)
            return
        if link is None:
            assert mount is not None
            if self.raw.get(task.id) is not None:
                raise Conflict(
                    f"task {task.id} is yours and cannot move into {mount.mount}, which {mount.owner} owns; "
                    f"add a new task there instead"
                )
            link = (mount.owner, self._view(mount.owner).allocate_id())
            self.raw.add_link(task.id, *link)
        origin_owner, origin_id = link
        if mount is None or mount.owner != origin_owner:
            raise Conflict(
                f"task {task.id} belongs to {origin_owner}, who shares its project with you; it can only move "
                f"to another project {origin_owner} shares with you"
            )
        owner = self._view(origin_owner)
        previous = owner.get(origin_id)
        origin = self._to_origin(task, mount, origin_id, previous)
        owner.put(origin)
        self._echo(task.id, (origin_owner, origin_id, previous, origin))
        self._fan_out(origin_owner, origin, previous, key=task.id, uid=task.uid)

    def put_many(self, tasks: list[Task]) -> None:
        """Many new tasks at once (an import): the backend's bulk statements when it has them."""
        if not self.active:
            self.raw.put_many(tasks)
            return
        for task in tasks:
            self.put(task)

    def remove(self, task_id: int) -> None:
        if not self.active:
            self.raw.remove(task_id)
            return
        link = self.raw.link_of(task_id)
        if link is None:
            self.raw.remove(task_id)
            self._drop_copies(self.me, task_id, key=task_id)
            return
        copy = self.raw.get(task_id)
        if copy is None:
            return  # a copy already gone: nothing of this member's to remove
        if copy.status is Status.deleted:
            # a member empties their trash: their copy goes, the owner's trash keeps the task
            self.raw.remove(task_id)
            return
        origin_owner, origin_id = link
        owner = self._view(origin_owner)
        previous = owner.get(origin_id)
        if previous is not None:
            owner.remove(origin_id)
            self._echo(task_id, (origin_owner, origin_id, previous, None))
        self._drop_copies(origin_owner, origin_id, key=task_id)

    def log(self, change: Change) -> None:
        change.via = change.via or self.via
        self.raw.log(change)
        for owner, task_id, before, after in self._echoes.pop(change.task_id, ()):
            echo = Change(op=change.op, task_id=task_id, before=before, after=after, at=change.at, actor=self.me)
            echo.via = change.via
            self._view(owner).log(echo)

    def log_many(self, changes: list[Change]) -> None:
        if not self.active:
            for change in changes:
                change.via = change.via or self.via
            self.raw.log_many(changes)
            return
        for change in changes:
            self.log(change)

    # -- sharing ------------------------------------------------------------------------

    def share(self, project: str, member: str, at: str) -> tuple[Share, int]:
        """Share my `project` with `member` (idempotent); returns the share and how many tasks
        the member now sees in it."""
        if member == self.me:
            raise InvalidInput("that is you; name another user to share the project with")
        mine = self._mounts_now().get(project)
        if mine is not None:
            raise Conflict(f"{project} belongs to {mine.owner}; only {mine.owner} can share it")
        self.raw.lock_sharing()
        self.active = True
        for share in self.raw.shares_as_owner(project):
            if share.member == member:
                return share, len(self._project_tasks(project))
        view = self._view(member)
        share = Share(self.me, project, member, self._mount_name(view, project), at)
        self.raw.add_share(share)
        tasks = self._project_tasks(project)
        ids = view.copies_from(self.me)
        for task in tasks:  # links first, so that copies find their parents
            if task.id not in ids:
                ids[task.id] = view.allocate_id()
                view.add_link(ids[task.id], self.me, task.id)
        for task in tasks:
            copy = copy_of(task, share, ids[task.id], ids.get)
            view.put(copy)
            view.log(Change(op="share", task_id=copy.id, before=None, after=copy, at=at, actor=self.me))
        return share, len(tasks)

    def unshare(self, project: str, member: str, at: str) -> int | None:
        """Stop sharing my `project` with `member`; the number of copies removed, or None if
        the project was not shared with them."""
        self.raw.lock_sharing()
        share = next((s for s in self.raw.shares_as_owner(project) if s.member == member), None)
        if share is None:
            return None
        self.raw.remove_share(project, member)
        view = self._view(member)
        gone: list[int] = []
        for copy_id in view.copies_from(self.me).values():
            copy = view.get(copy_id)
            if copy is not None and copy.project == share.mount:
                view.remove(copy_id)
                view.log(Change(op="unshare", task_id=copy_id, before=copy, after=None, at=at, actor=self.me))
                gone.append(copy_id)
        view.forget(gone)  # the member's undo never brings back a task they no longer see
        return len(gone)

    # -- the fan-out --------------------------------------------------------------------

    def _fan_out(
        self, origin_owner: str, origin: Task, previous: Task | None, *, key: int, uid: str | None = None
    ) -> None:
        """Rewrite every member's copy of `origin` (owned by `origin_owner`, just written);
        remove the copies of members who no longer see its project. A copy keeps its UID; my
        new one gets `uid`, the one I gave my task (copies.py)."""
        owner = self._view(origin_owner)
        shares = {s.member: s for s in owner.shares_as_owner(origin.project)}
        left: set[str] = set()
        if previous is not None and previous.project != origin.project:
            left = {s.member for s in owner.shares_as_owner(previous.project)} - set(shares)
        if not shares and not left:
            return
        copies = owner.copies_of(origin.id)
        for member, share in shares.items():
            view = self._view(member)
            copy_id = copies.get(member)
            before = view.get(copy_id) if copy_id is not None else None
            if copy_id is None:
                copy_id = view.allocate_id()
                view.add_link(copy_id, origin_owner, origin.id)

            def ids(task_id: int, member: str = member) -> int | None:
                return owner.copies_of(task_id).get(member)

            kept = before.uid if before is not None else uid if member == self.me else None
            copy = copy_of(origin, share, copy_id, ids, kept)
            view.put(copy)
            if member != self.me:
                self._echo(key, (member, copy_id, before, copy))
        for member in left:
            copy_id = copies.get(member)
            view = self._view(member)
            before = view.get(copy_id) if copy_id is not None else None
            if copy_id is not None and before is not None:
                self._drop(view, copy_id, before, key)

    def _drop_copies(self, origin_owner: str, origin_id: int, *, key: int) -> None:
        for member, copy_id in self._view(origin_owner).copies_of(origin_id).items():
            view = self._view(member)
            before = view.get(copy_id)
            if before is not None:
                self._drop(view, copy_id, before, key)

    def _drop(self, view: WriteTx, copy_id: int, before: Task, key: int) -> None:
        """Remove a member's copy. When someone else removes it, the member's own log entries
        about it can no longer be undone: that would bring the task back, or move it back into
        the project, behind the back of whoever took it out."""
        view.remove(copy_id)
        if view.owner != self.me:
            view.forget([copy_id])
            self._echo(key, (view.owner, copy_id, before, None))

    def _to_origin(self, task: Task, mount: Share, origin_id: int, previous: Task | None) -> Task:
        """My copy `task` as the owner's task: their id, uid, project and links."""

        def back(task_id: int, what: str) -> int:
            link = self.raw.link_of(task_id)
            if link is None or link[0] != mount.owner:
                raise InvalidInput(
                    f"task {task_id} is not in a project {mount.owner} shares with you, so it cannot be the "
                    f"{what} of a task in {mount.mount}"
                )
            return link[1]

        return task.model_copy(
            update={
                "id": origin_id,
                "uid": previous.uid if previous is not None else self._free_uid(mount.owner, task.uid),
                "project": mount.project,
                "parent_id": None if task.parent_id is None else back(task.parent_id, "parent"),
                "depends_on": [back(d, "dependency") for d in task.depends_on],
            }
        )

    # -- helpers ------------------------------------------------------------------------

    def _view(self, owner: str) -> WriteTx:
        view = self._views.get(owner)
        if view is None:
            view = self._views[owner] = self.raw.as_owner(owner)
        return view

    def _free_uid(self, owner: str, uid: str | None) -> str | None:
        """`uid` for `owner`'s new task, unless one of theirs has it (any project, the trash too):
        then a fresh one, so that a member learns nothing of the owner's other tasks."""
        return uid if not uid or self._view(owner).get_by_uid(uid) is None else uuid.uuid4().hex

    def _mounts_now(self) -> dict[str, Share]:
        if self._mounts is None:
            self._mounts = {share.mount: share for share in self.raw.shares_as_member()}
        return self._mounts

    def _echo(self, key: int, echo: Echo) -> None:
        self._echoes.setdefault(key, []).append(echo)

    def _project_tasks(self, project: str) -> list[Task]:
        """Every task of my `project`, the trash included, by id."""
        tasks: list[Task] = []
        after: list[int | float | str] | None = None
        while True:
            page = self.raw.query(ListQuery(status=None, project=project, limit=500, after=after))
            tasks.extend(page.items)
            if page.next_after is None:
                return tasks
            after = page.next_after

    def _mount_name(self, view: WriteTx, project: str) -> str:
        """How `view`'s owner sees my project: `me/project`, unless they use that name already."""
        base = f"{self.me}/{project}"[:PROJECT_MAX]
        taken = {share.mount for share in view.shares_as_member()}
        name, n = base, 2
        while name in taken or view.project_in_use(name):
            suffix = f" ({n})"
            name, n = base[: PROJECT_MAX - len(suffix)] + suffix, n + 1
        return name


__all__ = ["SharedTx", "write"]
