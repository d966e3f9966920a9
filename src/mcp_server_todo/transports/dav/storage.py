"""Radicale's storage plugin over `TodoService`: the principal `/USER/`, one VTODO-only
collection per project, one VTODO resource per task.

Reads and writes go through the service (never the store), so a CalDAV write has the same
rules, change log, undo, history and live notifications as an MCP one.

    /                       the root
    /USER/                  the principal (only the logged-in user's; others' are missing)
    /USER/ID/               a project: ID is the name when it is ASCII-safe, else x-<hash>
    /USER/ID/UID.ics        a task (UID: its iCalendar UID; mcp-server-todo-N when it has none)

ETag: a hash of the bytes served. getctag and the sync token come from the change log.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from icalendar import Calendar
from radicale import item as radicale_item
from radicale import storage as radicale_storage

from ...errors import NotFound, TodoError
from ...formats import Problem
from ...formats.ical import PRODID, todo_component, todo_record
from ...model import Status, Task
from ...service import TodoService

SYNC_PREFIX = "http://mcp-server-todo.invalid/sync/"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_SAFE_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,200}")
_PAGE = 200
_OWN_UID = re.compile(r"mcp-server-todo-([0-9]{1,19})")

_user: contextvars.ContextVar[str] = contextvars.ContextVar("dav_user", default="")
_write_lock = threading.RLock()


def collection_id(project: str) -> str:
    """The ASCII path segment of a project's collection (stable across renames of others)."""
    if _SAFE_ID.fullmatch(project) and not project.startswith("x-"):
        return project
    return "x-" + hashlib.sha256(project.encode()).hexdigest()[:16]


def uid_of(task: Task) -> str:
    return task.uid or f"mcp-server-todo-{task.id}"


def href_of(uid: str) -> str | None:
    """The resource name a task with this UID is served at; None when the UID is not path-safe."""
    return f"{uid}.ics" if _SAFE_UID.fullmatch(uid) else None


def _http_date(stamp: str) -> str:
    return format_datetime(datetime.fromisoformat(stamp.replace("Z", "+00:00")), usegmt=True)


class Principal(radicale_storage.BaseCollection):
    """The root ("") or a user's principal ("USER"): no items, no properties."""

    def __init__(self, path: str) -> None:
        self._path = path

    @property
    def path(self) -> str:
        return self._path

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        return [(href, None) for href in hrefs]

    def get_all(self) -> Iterable[radicale_item.Item]:
        return []

    def get_meta(self, key: str | None = None) -> Any:
        return None if key is not None else {}

    def set_meta(self, props: Mapping[str, str]) -> None:
        raise ValueError("properties of a principal cannot be changed here")

    @property
    def last_modified(self) -> str:
        return format_datetime(datetime.now().astimezone(), usegmt=True)


class ProjectCollection(radicale_storage.BaseCollection):
    """One project as a VTODO-only calendar."""

    def __init__(self, service: TodoService, project: str) -> None:
        self.service = service
        self.project = project
        self._path = f"{service.owner}/{collection_id(project)}"

    @property
    def path(self) -> str:
        return self._path

    # -- reading ----------------------------------------------------------------------

    def _tasks(self) -> Iterator[Task]:
        for status in ("pending", "done"):
            cursor = None
            while True:
                page = self.service.list_tasks(status=status, project=self.project, limit=_PAGE, cursor=cursor)
                yield from page.items
                cursor = page.next_cursor
                if cursor is None:
                    break

    def _task_at(self, href: str) -> Task | None:
        uid = href.removesuffix(".ics")
        if not href.endswith(".ics") or not _SAFE_UID.fullmatch(uid):
            return None
        task = self.service.get_by_uid(uid)
        own = _OWN_UID.fullmatch(uid)
        if task is None and own:
            try:
                task = self.service.get(int(own.group(1)))
            except TodoError:
                return None
            if task.uid:
                return None
        if task is None or task.project != self.project or task.status is Status.deleted:
            return None
        return task

    def _uids(self, tasks: list[Task]) -> dict[int, str]:
        """UIDs of the tasks and of the parents and dependencies they name, wherever these are."""
        uids = {task.id: uid_of(task) for task in tasks}
        for linked in {i for t in tasks for i in [*t.depends_on, t.parent_id] if i is not None} - set(uids):
            try:
                uids[linked] = uid_of(self.service.get(linked))
            except NotFound:
                continue
        return uids

    def _item(self, task: Task, uids: dict[int, str]) -> radicale_item.Item | None:
        uid = uid_of(task)
        href = href_of(uid)
        if href is None:
            return None
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add_component(todo_component(task, uids))
        calendar.add_missing_timezones()
        text = calendar.to_ical().decode("utf-8")
        etag = '"' + hashlib.sha256(text.encode()).hexdigest() + '"'
        return radicale_item.Item(
            collection=self,
            href=href,
            text=text,
            etag=etag,
            uid=uid,
            name="VCALENDAR",
            component_name="VTODO",
            last_modified=_http_date(task.updated_at),
        )

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        found = [(href, self._task_at(href)) for href in dict.fromkeys(hrefs)]
        uids = self._uids([task for _, task in found if task is not None])
        return [(href, None if task is None else self._item(task, uids)) for href, task in found]

    def get_all(self) -> Iterable[radicale_item.Item]:
        tasks = list(self._tasks())
        uids = self._uids(tasks)
        return [item for item in (self._item(task, uids) for task in tasks) if item is not None]

    def has_uid(self, uid: str) -> bool:
        task = self.service.get_by_uid(uid)
        return task is not None and task.project == self.project and task.status is not Status.deleted

    def get_meta(self, key: str | None = None) -> Any:
        meta = {"tag": "VCALENDAR", "C:supported-calendar-component-set": "VTODO", "D:displayname": self.project}
        return meta if key is None else meta.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        raise ValueError("collection properties cannot be changed here yet; rename the project over MCP")

    @property
    def last_modified(self) -> str:
        return format_datetime(datetime.now().astimezone(), usegmt=True)

    @property
    def etag(self) -> str:
        """getctag: moves with every change this owner's log records."""
        stamp = f"{self.service.last_change_id()}/{self._path}"
        return '"' + hashlib.sha256(stamp.encode()).hexdigest()[:32] + '"'

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        """RFC 6578 from the change log: `<prefix><change id>`; deletions and moves out included."""
        last = self.service.last_change_id()
        token = f"{SYNC_PREFIX}{last}"
        if not old_token:
            return token, [item.href for item in self.get_all() if item.href]
        number = old_token.removeprefix(SYNC_PREFIX)
        if not old_token.startswith(SYNC_PREFIX) or not number.isdigit() or int(number) > last:
            raise ValueError("this sync token is not one this collection gave")
        changed: dict[str, None] = {}
        since = int(number)
        while since < last:
            changes = self.service.changes_since(since, _PAGE)
            if not changes:
                break
            for change in changes:
                for task in (change.before, change.after):
                    if task is not None and task.project == self.project:
                        href = href_of(uid_of(task))
                        if href is not None:
                            changed[href] = None
            since = changes[-1].id
        return token, list(changed)

    # -- writing ----------------------------------------------------------------------

    def upload(self, href: str, item: radicale_item.Item) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        """A PUT: create or update the task whose UID the VTODO carries. ValueError is a 400."""
        if item.component_name != "VTODO":
            raise ValueError(f"this collection holds tasks (VTODO) only, not {item.component_name}")
        try:
            components = Calendar.from_ical(item.serialize()).walk("VTODO")
        except ValueError as exc:
            raise ValueError(f"the iCalendar body cannot be read: {exc}") from None
        masters = [c for c in components if "RECURRENCE-ID" not in c] or components
        record = todo_record(masters[0], 1)
        if isinstance(record, Problem):
            raise ValueError(record.message)
        uid = record.key or ""
        if href_of(uid) != href:
            raise ValueError(f"store this task at {uid}.ics (its UID plus .ics); other names are not kept yet")
        fields: dict[str, Any] = {
            "title": record.title,
            "notes": record.notes or "",
            "priority": record.priority.value if record.priority else "none",
            "tags": record.tags or [],
            "due": record.due or "",
            "recur": record.recur or "",
            "project": self.project,
        }
        status = record.status or Status.pending
        existing = self.service.get_by_uid(uid)
        before = None if existing is None or existing.project != self.project else self.get_multi([href])
        try:
            if existing is None:
                if status is Status.deleted:
                    raise ValueError("a new task cannot be CANCELLED")
                fields["recur"] = fields["recur"] or None
                task = self.service.add_many([fields], uids=[uid])[0]
                if status is Status.done:
                    task = self.service.update(task.id, status="done")
            elif status is Status.deleted:
                task = self.service.delete(existing.id)
            else:
                again = existing.status is Status.deleted or status is not existing.status
                task = self.service.update(existing.id, **fields, status=status.value if again else None)
        except TodoError as exc:
            raise ValueError(str(exc)) from None
        replaced = next((found for _, found in before), None) if before is not None else None
        served = self._item(task, self._uids([task]))
        assert served is not None
        return served, replaced

    def delete(self, href: str | None = None) -> None:
        """DELETE of a task: to the trash (restorable with undo). A whole collection: not yet."""
        if href is None:
            raise ValueError("deleting a whole task list is not supported yet")
        task = self._task_at(href)
        if task is None:
            raise radicale_storage.ComponentNotFoundError(href)
        self.service.delete(task.id)


class TodoStorage(radicale_storage.BaseStorage):
    """The storage plugin. `services(owner)` gives that owner's service (set by app.py)."""

    services: Callable[[str], TodoService]

    def _service(self) -> TodoService:
        return type(self).services(_user.get())

    def _projects(self, service: TodoService) -> list[str]:
        return [name for name, pending, done in service.projects() if pending or done]

    def _collection(self, service: TodoService, cid: str) -> ProjectCollection | None:
        project = next((p for p in self._projects(service) if collection_id(p) == cid), None)
        return None if project is None else ProjectCollection(service, project)

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: Callable[[str, str | None], Any] | None = None,
        user_groups: set[str] | None = None,
    ) -> Iterable[Any]:
        parts = [part for part in path.strip("/").split("/") if part]
        user = _user.get()
        if not parts:
            yield Principal("")
            if depth != "0" and user:
                yield Principal(user)
            return
        if parts[0] != user or len(parts) > 3:
            return
        service = self._service()
        if len(parts) == 1:
            yield Principal(user)
            if depth != "0":
                yield from (ProjectCollection(service, p) for p in self._projects(service))
            return
        collection = self._collection(service, parts[1])
        if collection is None:
            return
        if len(parts) == 3:
            item = next(iter(collection.get_multi([parts[2]])))[1]
            if item is not None:
                yield item
            return
        yield collection
        if depth != "0":
            for item in collection.get_all():
                with child_context_manager(path, item.href) if child_context_manager else nullcontext():
                    yield item

    def move(self, item: radicale_item.Item, to_collection: radicale_storage.BaseCollection, to_href: str) -> None:
        raise ValueError("MOVE is not supported yet; PUT the task into the other list")

    def create_collection(
        self,
        href: str,
        items: Iterable[radicale_item.Item] | None = None,
        props: Mapping[str, str] | None = None,
    ) -> Any:
        if href.strip("/") == _user.get() and not props:
            return Principal(_user.get()), {}, []
        raise ValueError("creating task lists over CalDAV is not supported yet; add a task with a project over MCP")

    @contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        """Bind the request's user (its service); writers of this process go one at a time,
        so a PUT's If-Match check and its upload see the same task."""
        token = _user.set(user)
        try:
            if mode == "w":
                with _write_lock:
                    yield
            else:
                yield
        finally:
            _user.reset(token)

    def verify(self) -> bool:
        return True
