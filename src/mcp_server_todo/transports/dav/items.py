"""A task as the item Radicale serves: its ETag from the row, its text built only when asked.

The ETag is a hash of what the served bytes are made of (`served_text` in vtodo.py): a version
of the mapping, the stored row (every stored field, the client's `ical` and `href` included),
the UIDs of the tasks it links to, and whether each UID the client's own RELATED-TO names is a
task (ical_merge.py keeps a relation to an unknown UID as sent, and replaces one to a known
UID). So it moves exactly when the bytes can, and a listing (PROPFIND getetag, sync-collection)
never serializes a VTODO: the text is built when Radicale asks for it (GET, calendar-data,
a filter), with the same answers the ETag was computed from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from radicale import item as radicale_item
from radicale import storage as radicale_storage

from ...model import COMPUTED_FIELDS, Task
from .names import http_date, uid_of
from .request import current
from .vtodo import served_text

MAPPING_VERSION = "1"
"""Bump when the served text of an unchanged task changes (vtodo.py, formats/ical*.py)."""

_ROW = tuple(name for name in Task.model_fields if name not in COMPUTED_FIELDS)
_RELATED = re.compile(r'^RELATED-TO(?:;(?:[^\r\n:"]|"[^"]*")*)?:(.*)$', re.MULTILINE | re.IGNORECASE)
_UNFOLD = re.compile(r"\r?\n[ \t]")
_UNESCAPE = re.compile(r"\\([\\;,nN])")


def row_basis(task: Task) -> str:
    """The stored row as a string: equal exactly when every stored field is (computed ones aside)."""
    return repr(tuple(getattr(task, name) for name in _ROW))


def client_relations(ical: str | None) -> list[str]:
    """The UIDs the client's RELATED-TO properties name, in its VCALENDAR text."""
    if not ical or "RELATED-TO" not in ical.upper():
        return []
    text = _UNFOLD.sub("", ical)
    return [_UNESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], m[1].strip()) for m in _RELATED.finditer(text)]


def row_etag(task: Task, uids: dict[int, str], known: dict[str, bool]) -> str:
    """The strong ETag of the task as served (module docstring)."""
    links = sorted((i, uids.get(i, "")) for i in {*task.depends_on, task.parent_id} if i is not None)
    basis = repr((MAPPING_VERSION, row_basis(task), links, sorted(known.items())))
    return '"' + hashlib.sha256(basis.encode()).hexdigest() + '"'


class TaskItem(radicale_item.Item):
    """A radicale Item whose text (and parsed form) is built on first use."""

    def __init__(
        self,
        collection: radicale_storage.BaseCollection,
        task: Task,
        href: str,
        uids: dict[int, str],
        known: Callable[[str], bool],
    ) -> None:
        answers = {uid: known(uid) for uid in client_relations(task.ical)}
        # Not Item.__init__, which sanitizes the collection's path again for every item (a
        # fifth of a big listing's time): its fields (radicale 3.9) are set here.
        self.collection, self.href, self.last_modified = collection, href, http_date(task.updated_at)
        self._collection_path = collection.path
        self._text, self._vobject_item, self._time_range = None, None, None
        self._etag, self._uid = row_etag(task, uids, answers), uid_of(task)
        self._name, self._component_name = "VCALENDAR", "VTODO"
        self._task, self._uids, self._answers, self._known = task, uids, answers, known

    def _build(self) -> str:
        """The text, with the same answers about the client's relations as the ETag."""
        answers, known = self._answers, self._known
        return served_text(self._task, self._uids, lambda uid: answers[uid] if uid in answers else known(uid))

    def serialize(self) -> str:
        """The VCALENDAR served. In a REPORT that asks for no calendar data, Radicale still
        serializes every item only to replace the text by the ETag: there, nothing is built."""
        if self._text is None:
            if current().etags_only:
                return ""
            self._text = self._build()
        return self._text

    @property
    def vobject_item(self) -> Any:
        if self._vobject_item is None and self._text is None:
            self._text = self._build()
        return super().vobject_item
