"""Undo, and the transactions an import runs in (see transfer.py): reverting a change
(`revert_one`) or a whole group in batches (`revert`), a preview that takes no write lock,
and a real import committed in batches that stays one step of `undo`. Every write goes
through the service's transactions (`sharing.write`).

A preview (dry run) reads one snapshot and keeps what it would write in memory (`PreviewTx`):
no write lock, so nobody waits for it, however big the file. For a new task it keeps only
what later records can ask about (its id, uid, parent, dependencies, status), a few hundred
bytes, not the whole task.

A real import commits every `BATCH_SECONDS` (`Batches`), so another writer (another user,
another process) waits at most about that long, never the whole import. Every batch logs in
the group the first one began, so one `undo` reverts the whole import. If the import fails
half-way (a fatal line, `strict`, a file cut short), the batches already committed are
reverted, with `undo` entries in the log: nothing was imported. An `undo` of a big group
(an import's) reverts in batches too (`revert`). If the process dies
half-way, the committed batches stay; importing the same file again completes the import,
since records are matched by uid (the tasks already there are "unchanged").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType

from ..dates import utc_now
from ..model import Change, ListQuery, Share, Status, Task, TaskPage, stored
from ..store import ReadTx, Store, StoreTx, TaskList
from .sharing import SharedTx, write

__all__ = ["BATCH_PAUSE", "BATCH_SECONDS", "Batches", "PreviewTx", "revert", "revert_group", "revert_one"]

BATCH_SECONDS = 0.5
"""A real import commits at least this often: the longest another writer waits for it."""
BATCH_PAUSE = 0.03
"""After each commit the import waits this long, so a waiting writer gets the lock (a lock
is not fair: the import would otherwise take it back at once)."""

_Kept = tuple[int, str | None, int | None, tuple[int, ...], Status]
"""What a preview keeps of a task it would write: id, uid, parent, dependencies, status."""


class PreviewTx:
    """A read transaction that answers as if the import's writes had happened. Only the
    calls an import makes are faked (`put`, `put_many`, `log`, `log_many`, ids); the rest read
    the snapshot."""

    def __init__(self, tx: ReadTx) -> None:
        self._tx = tx
        self._by_id: dict[int, _Kept] = {}
        self._by_uid: dict[str, int] = {}
        self._next: int | None = None
        self._reserved = 0

    # -- what the preview fakes --

    def get(self, task_id: int) -> Task | None:
        kept = self._by_id.get(task_id)
        return self._tx.get(task_id) if kept is None else _task(kept)

    def descendants(self, task_id: int, limit: int) -> list[Task]:
        """The stored subtasks (an import preview never asks: imports link parents themselves)."""
        return self._tx.descendants(task_id, limit)

    def get_by_uid(self, uid: str) -> Task | None:
        task_id = self._by_uid.get(uid)
        return self._tx.get_by_uid(uid) if task_id is None else _task(self._by_id[task_id])

    def get_by_href(self, href: str) -> list[Task]:
        return self._tx.get_by_href(href)

    def naming(self, text: str) -> list[Task]:
        return self._tx.naming(text)

    def put(self, task: Task) -> None:
        self._by_id[task.id] = (task.id, task.uid, task.parent_id, tuple(task.depends_on), task.status)
        if task.uid:
            self._by_uid[task.uid] = task.id

    def put_many(self, tasks: list[Task]) -> None:
        for task in tasks:
            self.put(task)

    def log(self, change: Change) -> None:
        """Nothing to log: nothing is written."""

    def log_many(self, changes: list[Change]) -> None:
        """Nothing to log: nothing is written."""

    def allocate_id(self) -> int:
        if self._next is None:
            self._next = max(self._tx.next_id(), self._reserved + 1)
        self._next += 1
        return self._next - 1

    def reserve_ids(self, upto: int) -> None:
        self._reserved = max(self._reserved, upto)
        if self._next is not None:
            self._next = max(self._next, upto + 1)

    def next_id(self) -> int:
        return self._next if self._next is not None else max(self._tx.next_id(), self._reserved + 1)

    def remove(self, task_id: int) -> None:
        raise NotImplementedError("an import preview removes nothing")

    # -- read from the snapshot --

    def query(self, query: ListQuery) -> TaskPage:
        return self._tx.query(query)

    def last_group(self) -> list[Change]:
        return self._tx.last_group()

    def mark_undone(self, group: int, upto: int | None = None) -> None:
        """Nothing to mark: nothing is written."""

    def current_group(self) -> int:
        return 0

    def join_group(self, group: int) -> None:
        """Nothing is logged, in any group."""

    def group_entries(self, group: int) -> list[Change]:
        return self._tx.group_entries(group)

    def history(self, task_id: int | None, limit: int) -> list[Change]:
        return self._tx.history(task_id, limit)

    def projects(self) -> list[tuple[str, int, int]]:
        return self._tx.projects()

    def tags(self) -> list[tuple[str, int]]:
        return self._tx.tags()

    def last_change_id(self) -> int:
        return self._tx.last_change_id()

    def changes_since(self, change_id: int, limit: int) -> list[Change]:
        return self._tx.changes_since(change_id, limit)

    def shares_as_owner(self, project: str | None = None) -> list[Share]:
        return self._tx.shares_as_owner(project)

    def shares_as_member(self) -> list[Share]:
        return self._tx.shares_as_member()

    def lists(self) -> list[TaskList]:
        return self._tx.lists()

    def list_undo(self, group: int) -> list[tuple[str, TaskList | None]]:
        return self._tx.list_undo(group)


def _task(kept: _Kept) -> Task:
    """A stand-in for a task the preview would have written: what an import asks of it."""
    task_id, uid, parent_id, depends_on, status = kept
    return Task.model_construct(
        id=task_id,
        title="",
        uid=uid,
        parent_id=parent_id,
        depends_on=list(depends_on),
        status=status,
        ical=None,
        href=None,
    )


class Batches:
    """The write transactions of one real import: `tx` is the current one; `due()` says a
    batch has run long enough, `commit()` commits it and begins the next, in the same undo
    group. Leaving the block commits the last batch, or, on an exception, rolls it back and
    reverts the batches already committed (`revert_group`)."""

    def __init__(self, store: Store, owner: str) -> None:
        self.store = store
        self.owner = owner
        self.group = 0
        self.committed = 0
        self._open: AbstractContextManager[SharedTx] | None = None
        self._started = 0.0
        self.tx: SharedTx = self._begin()

    def _begin(self) -> SharedTx:
        self._open = write(self.store, self.owner)
        tx = self._open.__enter__()
        if self.group:
            tx.join_group(self.group)
        self._started = time.monotonic()
        return tx

    def due(self) -> bool:
        return time.monotonic() - self._started >= BATCH_SECONDS

    def commit(self) -> SharedTx:
        """Commit the current batch; the next one's transaction."""
        self.group = self.tx.current_group() or self.group
        self._end(None, None, None)
        self.committed += 1
        time.sleep(BATCH_PAUSE)
        self.tx = self._begin()
        return self.tx

    def _end(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        current, self._open = self._open, None
        if current is not None:
            current.__exit__(kind, exc, tb)

    def __enter__(self) -> Batches:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self._end(None, None, None)
            return
        self.group = self.tx.current_group() or self.group
        try:
            self._end(kind, exc, tb)
        except BaseException as raised:
            if raised is not exc:
                raise
        if self.committed and self.group:
            revert_group(self.store, self.owner, self.group)


def revert_group(store: Store, owner: str, group: int) -> int:
    """Revert every entry of `group` (a failed import's committed batches); how many."""
    with store.read(owner) as tx:
        entries = tx.group_entries(group)
    if entries:
        revert(store, owner, entries, utc_now())
    return len(entries)


def revert_one(tx: StoreTx, change: Change, now: str) -> Task | None:
    """Put the task back as it was before `change`, logged as an `undo` (the one step both
    `undo` and a big group's revert take per entry); the task as it was just now."""
    current = tx.get(change.task_id)
    if change.before is None:
        tx.remove(change.task_id)
    else:
        tx.put(change.before)
    before = stored(current) if current is not None else None
    tx.log(Change(op="undo", task_id=change.task_id, before=before, after=change.before, at=now))
    return current


def revert(
    store: Store, owner: str, entries: list[Change], now: str, progress: Callable[[int, int], None] | None = None
) -> None:
    """Revert `entries` (one group, oldest first), newest first, logging each as an `undo`
    (as `undo` does) in one undo group; in batches like an import, so a big group (an
    import's) never holds the write lock for long. The group is marked undone with the last
    batch: if the process dies half-way, undo again finishes the revert. `progress(done, total)`
    hears of each batch committed (entries reverted so far, all of them)."""
    group = entries[0].group
    undo_group = 0
    pending = entries[::-1]
    at = 0
    while at < len(pending):
        with write(store, owner) as tx:
            if undo_group:
                tx.join_group(undo_group)
            started, first = time.monotonic(), at
            # at least one entry per batch (never a batch that reverts nothing), then whole
            # hundreds while the batch is young
            while at < len(pending) and (at == first or at % 100 or time.monotonic() - started < BATCH_SECONDS):
                revert_one(tx, pending[at], now)
                at += 1
            undo_group = tx.current_group() or undo_group
            if at == len(pending):
                tx.mark_undone(group, max(entry.id for entry in entries))  # not what was logged since
        if progress is not None:
            progress(at, len(pending))
        if at < len(pending):
            time.sleep(BATCH_PAUSE)
