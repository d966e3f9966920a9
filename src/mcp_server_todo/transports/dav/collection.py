"""The collections Radicale sees: the root and a user's principal (`Principal`), and a project
as a VTODO-only calendar (`ProjectCollection`) whose items are its tasks, read and written
through `TodoService` (a service whose writes are logged `via caldav`). A task is served at
the name its client PUT it at (`Task.href`), else at `UID.ics` (names.py).

A list's properties (PROPPATCH), its rename and its DELETE go through `service.lists`.

ETag: from the row (items.py), the text built only when asked. getctag and the sync token
come from the change log, so changes from MCP, the CLI or an import move them too. A PUT's or
DELETE's If-Match is checked again inside the service's write transaction (request.py: 412)."""

from __future__ import annotations

import errno
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from radicale import item as radicale_item
from radicale import pathutils
from radicale import storage as radicale_storage

from ...errors import Conflict, NotFound, Stale, TodoError
from ...formats import ImportedTask
from ...model import Status, Task
from ...service import TodoService
from ...service.lists import delete_list, update_list
from ...service.relations import link_waiting
from .items import TaskItem, row_basis
from .names import HASHED, collection_id, href_of, uid_of
from .request import current
from .vtodo import read_body, task_fields

SYNC_PREFIX = "http://mcp-server-todo.invalid/sync/"
PROPS_MAX = 16384
Props = Mapping[str, str]
EMPTY: Props = {}
_OURS = {"tag", "D:displayname", "C:supported-calendar-component-set"}
_PAGE = 200


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
    """One task list (a project) as a VTODO-only calendar, at its path id `cid` (storage.py
    chooses it), with the display properties `props` its list row keeps."""

    def __init__(self, service: TodoService, project: str, *, cid: str | None = None, props: Props = EMPTY) -> None:
        self.service = service
        self.project = project
        self.cid = cid or collection_id(project)
        self.props = dict(props)
        self._listed: list[Task] | None = None  # the rows a full sync just read (get_multi reuses them)
        self._path = f"{service.owner}/{self.cid}"

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
        """The task served at `href` in this collection (not trashed), or None: one a client
        PUT at that name, else the one whose UID it is (`UID.ics`) if no client named it."""
        for task in self.service.get_by_href(href):
            if task.project == self.project and task.status is not Status.deleted:
                return task
        if not href.endswith(".ics"):
            return None
        uid = href.removesuffix(".ics")
        if HASHED.fullmatch(uid):  # a UID that is not path-safe: rare (imports), so a scan
            return next((task for task in self._tasks() if self._href(task) == href), None)
        named = self.service.get_by_uid(uid)
        if named is None or named.project != self.project or named.status is Status.deleted or named.href:
            return None
        return named

    def _listing(self) -> Iterator[str]:
        """A full sync's hrefs, read as they are asked for (a PROPFIND asks for none); kept
        once all are read, for the REPORT's get_multi of the same names."""
        tasks = []
        for task in self._tasks():
            tasks.append(task)
            yield self._href(task)
        self._listed = tasks

    def _by_href(self) -> dict[str, Task]:
        """Every task of the list by the name it is served at (`_task_at`'s choice: a name a
        client chose wins over another task's `UID.ics`)."""
        tasks, self._listed = self._listed or list(self._tasks()), None
        index = {self._href(task): task for task in tasks if not task.href}
        index.update((task.href, task) for task in tasks if task.href)
        return index

    @staticmethod
    def _href(task: Task) -> str:
        """Where the task is served: the name its client PUT it at, else `UID.ics`."""
        return task.href or href_of(uid_of(task))

    def _known(self, uid: str) -> bool:
        return self.service.get_by_uid(uid) is not None

    def _uids(self, tasks: list[Task]) -> dict[int, str]:
        """UIDs of the tasks and of the parents and dependencies they name, wherever these are."""
        uids = {task.id: uid_of(task) for task in tasks}
        for linked in {i for t in tasks for i in [*t.depends_on, t.parent_id] if i is not None} - set(uids):
            try:
                uids[linked] = uid_of(self.service.get(linked))
            except NotFound:
                continue
        return uids

    def _item(self, task: Task, uids: dict[int, str]) -> radicale_item.Item:
        return TaskItem(self, task, self._href(task), uids, self._known)

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, radicale_item.Item | None]]:
        """The items at `hrefs`: looked up one by one, or, for many (a full sync-collection, a
        big multiget), from one read of the list's rows."""
        wanted = list(dict.fromkeys(hrefs))
        if len(wanted) > _PAGE:
            index = self._by_href()
            found = [(href, index[href] if href in index else self._task_at(href)) for href in wanted]
        else:
            found = [(href, self._task_at(href)) for href in wanted]
        uids = self._uids([task for _, task in found if task is not None])
        return [(href, None if task is None else self._item(task, uids)) for href, task in found]

    def get_all(self) -> Iterable[radicale_item.Item]:
        tasks = list(self._tasks())
        uids = self._uids(tasks)
        return [self._item(task, uids) for task in tasks]

    def has_uid(self, uid: str) -> bool:
        task = self.service.get_by_uid(uid)
        return task is not None and task.project == self.project and task.status is not Status.deleted

    def get_meta(self, key: str | None = None) -> Any:
        meta = {**self.props, "tag": "VCALENDAR", "C:supported-calendar-component-set": "VTODO"}
        meta["D:displayname"] = self.project
        return meta if key is None else meta.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        """PROPPATCH (Radicale passes every property): the display properties are kept, and a
        new displayname renames the list (its tasks move; one undo) at the same path."""
        try:
            kept = update_list(
                self.service, self.cid, self.project, props.get("D:displayname") or self.project, self.kept_props(props)
            )
        except TodoError as exc:
            raise refusal(exc) from None
        self.project, self.props = kept.name, kept.props

    @staticmethod
    def kept_props(props: Props) -> dict[str, str]:
        """What a list row keeps of a client's properties: all but the ones we answer ourselves
        (the tag, the name, the component set, which must be VTODO)."""
        components = props.get("C:supported-calendar-component-set", "VTODO")
        if {part.strip().upper() for part in components.split(",")} != {"VTODO"}:
            raise refused(f"task lists hold VTODO only, not {components}", forbidden=True)
        kept = {key: value for key, value in props.items() if key not in _OURS}
        if len(json.dumps(kept)) > PROPS_MAX:
            raise refused(f"a task list's properties are limited to {PROPS_MAX} characters")
        return kept

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
            return token, self._listing()
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
                        changed[self._href(task)] = None
            since = changes[-1].id
        return token, list(changed)

    # -- writing ----------------------------------------------------------------------

    def upload(self, href: str, item: radicale_item.Item) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        """A PUT: create or update the task whose UID the VTODO carries, at the name the client
        chose, keeping its VCALENDAR (vtodo.py). One PUT is one change (one undo). ValueError is a
        400 with its text as the answer's body (request.py); another component than VTODO is 403
        `C:supported-calendar-component`; a UID the store already holds (a race with another
        process) is 409, or 412 under If-None-Match: *."""
        if item.component_name != "VTODO":
            current().refusal_xml = UNSUPPORTED
            raise refused(f"this collection holds tasks (VTODO) only, not {item.component_name}", forbidden=True)
        try:
            return self._upload(href, item)
        except ValueError as exc:
            if not current().refusal:
                current().refusal = str(exc)
            raise
        except Exception as exc:
            if not unique_violation(exc):
                raise
            reason = f"{href}: another request stored a task with this UID meanwhile; sync, then try again"
            if current().if_none_match == "*":
                current().stale = f"{href}: a task with this UID exists already (If-None-Match: *)"
            else:
                current().conflict = reason
            raise ValueError(reason) from None

    def _upload(self, href: str, item: radicale_item.Item) -> tuple[radicale_item.Item, radicale_item.Item | None]:
        text = item.serialize()
        record = read_body(text)
        uid = record.key or ""
        fields, status = task_fields(record, self.project)
        fields["ical"] = text
        fields["href"] = "" if href == href_of(uid) else href
        existing = self.service.get_by_uid(uid)
        at_href = self._task_at(href)
        if at_href is not None and at_href.uid != uid:
            raise ValueError(f"{href} holds the task with UID {uid_of(at_href)}; a PUT cannot change a UID")
        before = None if existing is None or existing.project != self.project else self.get_multi([href])
        parent, depends = self._links(record)
        try:
            expect = self._precondition(at_href)
            if existing is None:
                if status is Status.deleted:
                    raise ValueError("a new task cannot be CANCELLED")
                fields["recur"] = fields["recur"] or None
                fields["parent_id"], fields["depends_on"] = parent, depends
                fields["status"] = status.value
                task = self.service.add_many([fields], uids=[uid])[0]
                link_waiting(self.service, task)
            elif status is Status.deleted:
                task = self.service.delete(existing.id, expect=expect)
            else:
                again = existing.status is Status.deleted or status is not existing.status
                fields["parent_id"], fields["depends_on"] = parent or 0, depends
                status_set = status.value if again else None
                task = self.service.update(existing.id, expect=expect, **fields, status=status_set)
        except TodoError as exc:
            if isinstance(exc, Stale):
                current().stale = f"{href}: {exc}"
            if unique_violation(exc):
                raise  # upload: 409 (412 under If-None-Match: *)
            raise ValueError(str(exc)) from None
        replaced = next((found for _, found in before), None) if before is not None else None
        return self._item(task, self._uids([task])), replaced

    def _precondition(self, task: Task | None) -> Callable[[Task], bool] | None:
        """The request's If-Match / If-None-Match, checked again against the task at the href
        as it is now (an MCP write may have landed since Radicale checked them; then a 412),
        and the row the write transaction must still find (`TodoService.update`'s `expect`)."""
        state, stale = current(), ""
        if state.if_none_match == "*" and task is not None:
            stale = "this name holds a task already (If-None-Match: *)"
        elif state.if_match and task is None:
            stale = "no task at this name any more (If-Match)"
        elif state.if_match and state.if_match != "*" and task is not None:
            etag = self._item(task, self._uids([task])).etag
            if etag not in (tag.strip() for tag in state.if_match.split(",")):
                stale = "the task changed since your If-Match"
        if stale:
            raise Stale(stale)
        if not state.if_match or task is None:
            return None
        basis = row_basis(task)
        return lambda row: row_basis(row) == basis

    def _links(self, record: ImportedTask) -> tuple[int | None, list[int]]:
        """The ids of the parent and dependencies RELATED-TO names by UID; a UID no task has is
        left to the client's VTODO (kept, served back), not an error."""
        parent = self.service.get_by_uid(str(record.parent)) if record.parent else None
        found = [self.service.get_by_uid(str(uid)) for uid in record.depends or []]
        return (parent.id if parent else None), [task.id for task in found if task is not None]

    def delete(self, href: str | None = None) -> None:
        """DELETE of a task: to the trash (restorable with undo). Of the whole list: its tasks
        to the trash and the list gone, one undo brings both back (the default list stays)."""
        if href is None:
            delete_list(self.service, self.cid, self.project)
            return
        task = self._task_at(href)
        if task is None:
            raise radicale_storage.ComponentNotFoundError(href)
        try:
            self.service.delete(task.id, expect=self._precondition(task))
        except Stale as exc:  # nothing deleted; request.py answers 412 (Radicale has no way to)
            current().stale = f"{href}: {exc}"


UNSUPPORTED = (
    '<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<C:supported-calendar-component/></D:error>"
)
"""RFC 4791 §5.3.2.1's precondition: the body of a 403 PUT of another component than VTODO."""


def unique_violation(exc: BaseException | None) -> bool:
    """Whether the store refused a write for a unique key: SQLite's or psycopg's IntegrityError
    (by the DB-API name, so this module imports neither driver), raised as is or as the cause
    of the store's `StorageError`."""
    seen = 0
    while exc is not None and seen < 8:
        if any(kind.__name__ in ("IntegrityError", "UniqueViolation") for kind in type(exc).__mro__):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def refusal(exc: TodoError, *, making: bool = False) -> ValueError:
    """A service refusal as Radicale answers it (it reads an errno in the message): a
    `Conflict` is 409 when making a list (MKCALENDAR), else 403; bad input is 400. The text
    is the answer's body (request.py)."""
    current().refusal = str(exc)
    if isinstance(exc, Conflict):
        return pathutils.CollidingPathError(str(exc)) if making else ValueError(f"[Errno {errno.EACCES}] {exc}")
    return ValueError(str(exc))


def refused(reason: str, *, forbidden: bool = False) -> ValueError:
    """Our refusal of a request as Radicale answers it: 403 (`forbidden`) or 400, with
    `reason` as the answer's body (request.py)."""
    current().refusal = reason
    return ValueError(f"[Errno {errno.EACCES}] {reason}" if forbidden else reason)
