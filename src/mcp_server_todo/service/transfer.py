"""Import and export: files in the formats of formats/ to and from the store, written through
the service's transactions (`sharing.write`), like every other change. No MCP, no SQL.
The engine itself is `importer.py`; the command line's side is `cli/transfer.py`.

An import lands whole or not at all and is one step of `undo`; it commits in short batches,
so other writers never wait for all of it (undo.py); its change-log entries are "add"
and "update" like the service's. Records stream
from the reader and are written as they come (new tasks in batches); only tasks that name
a parent or dependencies are held until the end, when every key they name is known. Each record is
matched to a stored task by its key: the uid the file carries (iCalendar UID, Taskwarrior
uuid, our uid) or, for a format without ids, a key derived from its content (uuid5 of the
format and, for todo.txt, the title and creation date), stored as the new task's uid. So
importing the same file twice adds nothing the second time: a task whose fields are the
same is skipped, one that changed is updated. What a format cannot say (todo.txt has no
notes) is kept from the stored task, and a timestamp given less precisely than stored (a
todo.txt date, iCalendar seconds) keeps the stored value when they agree, as does a due
date-time the file gives in another zone (the same instant).

A malformed line or component is reported with its line number and skipped; with
`strict` the whole import is refused instead. A file whose structure is broken (cut
short, unbalanced) is never imported. A dry run does all the work on a read snapshot and
writes nothing (it takes no write lock).

Export reads one snapshot and writes every task in id order, the trash too where the
format can say "deleted".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import TextIO

from .. import formats
from ..dates import utc_now
from ..errors import InvalidInput
from ..formats import Options
from ..model import ListQuery, Status, Task, clean_project, stored
from ..store import LOCAL_OWNER, Store
from .importer import Import
from .reports import DETAIL_MAX, ImportReport, Outcome, without_id
from .undo import Batches, PreviewTx

__all__ = ["DETAIL_MAX", "ImportReport", "Outcome", "Transfer", "not_utf8"]

EXPORT_PAGE = 1000

Progress = Callable[[int, int], None]
"""`progress(done, total)`: how far a long operation is (the command line draws its bar)."""


def _records(fmt: formats.Format, lines: Iterable[str], options: Options) -> Iterator[formats.Record]:
    """The reader's records, a file that is not UTF-8 text turned into a clear error."""
    try:
        yield from fmt.read(lines, options)
    except UnicodeDecodeError as exc:
        raise not_utf8(exc) from None


def not_utf8(exc: UnicodeDecodeError) -> InvalidInput:
    return InvalidInput(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start}); nothing was imported")


class Transfer:
    """Import and export over one store, for one owner, with dates read in `tz`."""

    def __init__(
        self,
        store: Store,
        *,
        owner: str = LOCAL_OWNER,
        tz: tzinfo = UTC,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self.store = store
        self.owner = owner
        self.tz = tz
        self._clock = clock

    def back_up(self) -> None:
        """The automatic backup at the start of a real (not dry-run) import (SQLite, rotated;
        nothing for PostgreSQL)."""
        from ..store.backup import before_import

        before_import(self.store)

    def options(self, source: str | None = None) -> Options:
        return Options(tz=self.tz, now=datetime.now(UTC), source=source)

    def import_lines(
        self,
        lines: Iterable[str],
        fmt: str,
        *,
        dry_run: bool = False,
        strict: bool = False,
        source: str | None = None,
    ) -> ImportReport:
        """Import a file given as lines (one undo step); `source` is its name, if any."""
        reader = formats.get(fmt)
        if not reader.readable:
            raise InvalidInput(f"{reader.title} files cannot be imported")
        report = ImportReport(format=reader.name, dry_run=dry_run)
        options = self.options(source)
        records = _records(reader, lines, options)
        if dry_run:  # a read snapshot: no write lock, nobody waits (undo.py)
            with self.store.read(self.owner) as snapshot:
                job = Import(PreviewTx(snapshot), reader.name, self.tz, self._clock(), report, strict=strict)
                job.run(records)
            report.items = [item if item.action != "added" else without_id(item) for item in report.items]
            return report
        with Batches(self.store, self.owner) as batches:  # committed in batches, one undo group
            job = Import(batches.tx, reader.name, self.tz, self._clock(), report, strict=strict)
            job.run(records, batches)
        return report

    def export(
        self,
        fmt: str,
        out: TextIO,
        *,
        project: str | None = None,
        trash: bool | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Write the tasks (of `project`, if given) to `out`; returns how many. The trash is
        included where the format can say "deleted" (the dump, iCalendar, Taskwarrior).
        `progress(done, total)` hears of each page of tasks read (`EXPORT_PAGE`)."""
        writer = formats.get(fmt)
        if not writer.writable:
            raise InvalidInput(
                f"{writer.title} is an import-only format; export to one of " + ", ".join(formats.writable_names())
            )
        wanted = clean_project(project) if project is not None else None
        include_trash = writer.keeps_trash if trash is None else trash
        tasks = [task for task in self.tasks(wanted, progress) if include_trash or task.status is not Status.deleted]
        writer.write(tasks, out, self.options())
        return len(tasks)

    def tasks(self, project: str | None = None, progress: Progress | None = None) -> list[Task]:
        """Every task (of `project`), by id, from one snapshot, without computed fields;
        `progress(done, total)` after each page."""
        found: list[Task] = []
        with self.store.read(self.owner) as tx:
            after: list[object] | None = None
            while True:
                query = ListQuery(status=None, project=project, sort="created", limit=EXPORT_PAGE, after=after)
                page = tx.query(query)
                found += [stored(task) for task in page.items]
                if progress is not None:
                    progress(len(found), max(page.total, len(found)))
                if page.next_after is None:
                    return found
                after = page.next_after
