"""Radicale's storage plugin over `TodoService`: the principal `/USER/`, one VTODO-only
collection per task list (collection.py), one VTODO resource per task.

Reads and writes go through the service (never the store), so a CalDAV write has the same
rules, change log, undo, history and live notifications as an MCP one.

    /                       the root
    /USER/                  the principal (only the logged-in user's; others' are missing)
    /USER/ID/               a task list: a list row's stable path (made by MKCALENDAR, or kept
                            by a PROPPATCH), else the project's name when it is ASCII-safe, else
                            x-<hash> (names.py)
    /USER/ID/UID.ics        a task (h-<hash>.ics when its UID is not path-safe; names.py)

The lists of a home: the list rows (`service.lists`), the projects with tasks, the projects
shared with the user (their mounts `owner/project`, even empty), and always the default one.
MKCALENDAR makes a list row; PROPPATCH and DELETE of a collection are collection.py's; MOVE
of a task into another list is a project change. A service refusal answers 409 in MKCALENDAR
(a name clash), 403 in PROPPATCH and MOVE (a clash, a list that keeps its name: Radicale has
no 409 there), 403 for a component set other than VTODO, 400 for bad input.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from radicale import item as radicale_item
from radicale import storage as radicale_storage

from ...errors import TodoError
from ...model import DEFAULT_PROJECT
from ...service import TodoService
from ...service.lists import create_list, task_lists
from .collection import Principal, ProjectCollection, refusal, refused
from .names import collection_id, href_of, uid_of

_user: contextvars.ContextVar[str] = contextvars.ContextVar("dav_user", default="")
_write_lock = threading.RLock()


class TodoStorage(radicale_storage.BaseStorage):
    """The storage plugin. `services(owner)` gives that owner's service (set by app.py)."""

    services: Callable[[str], TodoService]

    def _service(self) -> TodoService:
        """The request's user's service, its writes logged via caldav (the HTTP app's factory
        makes them so; another factory's are converted here, the one way in)."""
        service = type(self).services(_user.get())
        return service if service.via == "caldav" else service.via_caldav()

    def _lists(self, service: TodoService) -> dict[str, tuple[str, dict[str, str]]]:
        """Path id -> (project, properties) for every list of the home (module docstring)."""
        found = {row.path: (row.name, row.props) for row in task_lists(service)}
        named = {name for name, _ in found.values()}
        mounts = [share.mount for share in service.shares()[1]]
        for name in [DEFAULT_PROJECT, *(name for name, _, _ in service.projects()), *mounts]:
            if name not in named:
                named.add(name)
                cid = collection_id(name)
                found[_hashed(name) if cid in found else cid] = (name, {})
        return found

    def _collection(self, service: TodoService, cid: str) -> ProjectCollection | None:
        name, props = self._lists(service).get(cid, ("", {}))
        return ProjectCollection(service, name, cid=cid, props=props) if name else None

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
                lists = self._lists(service).items()
                yield from (ProjectCollection(service, name, cid=cid, props=props) for cid, (name, props) in lists)
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
        """MOVE of a task into another list of the home: the task's project changes."""
        source, uid = item.collection, item.uid
        if not isinstance(source, ProjectCollection) or not isinstance(to_collection, ProjectCollection):
            raise refused("only tasks move, from one task list to another")
        task = source.service.get_by_uid(uid or "")
        if task is None or href_of(uid_of(task)) != to_href:
            raise refused(f"move this task to {href_of(uid or '')} (its UID plus .ics) in the other list")
        try:
            source.service.update(task.id, project=to_collection.project)
        except TodoError as exc:
            raise refusal(exc) from None

    def create_collection(
        self,
        href: str,
        items: Iterable[radicale_item.Item] | None = None,
        props: Mapping[str, str] | None = None,
    ) -> Any:
        """The user's principal (Radicale makes it on first login), or MKCALENDAR (or an
        extended MKCOL of a calendar, as DAVx5 sends): a new list."""
        parts = [part for part in href.strip("/").split("/") if part]
        if parts == [_user.get()] and not props:
            return Principal(_user.get()), {}, []
        if len(parts) != 2 or parts[0] != _user.get() or items or (props or {}).get("tag") != "VCALENDAR":
            raise refused("only task lists (calendars) are made here, in your own home", forbidden=True)
        if not _PATH_ID.fullmatch(parts[1]):
            raise refused("a task list's path is letters, digits, '.', '_', '-' (not starting with 'x-')")
        kept = ProjectCollection.kept_props(props or {})
        try:
            made = create_list(self._service(), parts[1], (props or {}).get("D:displayname") or parts[1], kept)
        except TodoError as exc:
            raise refusal(exc, making=True) from None
        return ProjectCollection(self._service(), made.name, cid=made.path, props=made.props)

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


_PATH_ID = re.compile(r"(?!x-)[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A path id a client may choose in MKCALENDAR (`x-` is ours: hashed names)."""


def _hashed(name: str) -> str:
    """The path id of a project whose plain id is a list row's (a list renamed away from it)."""
    return "x-" + hashlib.sha256(name.encode()).hexdigest()[:16]
