"""Reading tasks: one task, a filtered and sorted page (with its cursor, `cursor.py`), the
history, projects, tags, the trash's size and the shares; and the service's sense of time
(the user's zone, now, and the computed fields shown with a task). No MCP, no SQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Self, cast

from ..dates import WindowKind, humanize, parse_due_bound, utc_now, window, zone
from ..errors import InvalidInput, NotFound
from ..model import (
    SORTS,
    Change,
    DueWindow,
    ListQuery,
    Share,
    Status,
    Task,
    TaskPage,
    clean_id,
    clean_limit,
    clean_project,
    clean_query,
    clean_tag,
)
from ..store import LOCAL_OWNER, Store
from .cursor import KEY_LENGTHS, decode_cursor, encode_cursor, query_fingerprint

_STATUS_FILTERS = {"pending": Status.pending, "done": Status.done, "deleted": Status.deleted, "all": None}
DUE_FILTERS = ("overdue", "today", "this_week")


@dataclass
class Page:
    items: list[Task]
    total: int
    next_cursor: str | None


class TaskReads:
    """The service's reading half: who and when (owner, zone, clock), and every read, each in
    one read snapshot. `TodoService` adds the writes."""

    def __init__(
        self,
        store: Store,
        *,
        owner: str = LOCAL_OWNER,
        tz: tzinfo | None = None,
        clock: Callable[[], str] = utc_now,
        now: Callable[[], datetime] | None = None,
        via: str | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self.via = via
        """How this service's writes come in, when not over MCP or the CLI ("caldav"); logged."""
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

    def get_by_uid(self, uid: str) -> Task | None:
        """The task with this UID (trashed ones too), or None."""
        with self.store.read(self.owner) as tx:
            task = tx.get_by_uid(uid)
        return None if task is None else self._present([task])[0]

    def via_caldav(self) -> Self:
        """The same service, its writes logged as coming in over CalDAV."""
        return type(self)(self.store, owner=self.owner, tz=self.tz, clock=self._clock, now=self._now, via="caldav")

    def get_by_href(self, href: str) -> list[Task]:
        """The tasks a CalDAV client PUT at this resource name (trashed ones too), by id."""
        with self.store.read(self.owner) as tx:
            return self._present(tx.get_by_href(href))

    def naming(self, text: str) -> list[Task]:
        """The live tasks whose client VCALENDAR contains `text` (CalDAV: relations waiting for
        a UID), by id."""
        with self.store.read(self.owner) as tx:
            return self._present(tx.naming(text))

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
        fingerprint = query_fingerprint(q, due)
        now = self.now()
        if cursor:
            q.after, now_text = decode_cursor(cursor, fingerprint)
            if len(q.after) != KEY_LENGTHS[sort] or not isinstance(q.after[-1], int):  # the last is an id
                raise InvalidInput("cursor is not one this server returned; call list_items without a cursor")
            now = datetime.fromisoformat(now_text).astimezone(self.tz)
        if due is not None:
            w = window(cast(WindowKind, due), self.tz, now)
            q.window = DueWindow(w.date_from, w.date_to, w.utc_from, w.utc_to)
        q.now_utc = now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        with self.store.read(self.owner) as tx:
            page: TaskPage = tx.query(q)
        next_cursor = None if page.next_after is None else encode_cursor(page.next_after, now.isoformat(), fingerprint)
        return Page(items=self._present(page.items), total=page.total, next_cursor=next_cursor)

    def history(self, task_id: int | None = None, limit: int = 20) -> list[Change]:
        if task_id is not None:
            clean_id(task_id)
        with self.store.read(self.owner) as tx:
            return tx.history(task_id, clean_limit(limit))

    def projects(self) -> list[tuple[str, int, int]]:
        """(project, pending, done) for every project with tasks, and every list made without
        tasks (0, 0: a list made on a phone, `service.lists`), by name."""
        with self.store.read(self.owner) as tx:
            counted = tx.projects()
            named = {name for name, _, _ in counted}
            return sorted(counted + [(row.name, 0, 0) for row in tx.lists() if row.name not in named])

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

    def trash_size(self) -> int:
        with self.store.read(self.owner) as tx:
            return tx.query(ListQuery(status=Status.deleted, limit=1)).total

    def shares(self) -> tuple[list[Share], list[Share]]:
        """(the shares of my projects, the projects shared with me)."""
        with self.store.read(self.owner) as tx:
            return tx.shares_as_owner(), tx.shares_as_member()
