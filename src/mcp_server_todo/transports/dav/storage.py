"""Radicale's storage plugin over `TodoService`: the principal `/USER/`, one VTODO-only
collection per project (collection.py), one VTODO resource per task.

Reads and writes go through the service (never the store), so a CalDAV write has the same
rules, change log, undo, history and live notifications as an MCP one.

    /                       the root
    /USER/                  the principal (only the logged-in user's; others' are missing)
    /USER/ID/               a project: ID is the name when it is ASCII-safe, else x-<hash>
    /USER/ID/UID.ics        a task (h-<hash>.ics when its UID is not path-safe; names.py)
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from radicale import item as radicale_item
from radicale import storage as radicale_storage

from ...model import DEFAULT_PROJECT
from ...service import TodoService
from .collection import Principal, ProjectCollection
from .names import collection_id

_user: contextvars.ContextVar[str] = contextvars.ContextVar("dav_user", default="")
_write_lock = threading.RLock()


class TodoStorage(radicale_storage.BaseStorage):
    """The storage plugin. `services(owner)` gives that owner's service (set by app.py)."""

    services: Callable[[str], TodoService]

    def _service(self) -> TodoService:
        return type(self).services(_user.get())

    def _projects(self, service: TodoService) -> list[str]:
        """The projects with tasks, and always the default one: a new user's phone can add there."""
        names = [name for name, pending, done in service.projects() if pending or done]
        return names if DEFAULT_PROJECT in names else [DEFAULT_PROJECT, *names]

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
