"""Import and export: files in the formats of formats/ to and from the store. Pure domain
logic over a `Store`: no MCP, no SQL.

An import lands whole or not at all and is one step of `undo`; it commits in short batches,
so other writers never wait for all of it (transfer_tx.py); its change-log entries are "add"
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

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal, TextIO, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import formats
from .dates import parse_due, utc_now
from .errors import InvalidInput, TodoError
from .formats import ImportedTask, Options, Problem, Ref
from .model import (
    DEFAULT_PROJECT,
    Change,
    ListQuery,
    Priority,
    Status,
    Task,
    clean_notes,
    clean_project,
    clean_tags,
    clean_title,
    stored,
    task_from_store,
)
from .render import one_line
from .store import LOCAL_OWNER, Store, StoreTx
from .transfer_tx import Batches, PreviewTx

__all__ = ["DETAIL_MAX", "ImportReport", "Outcome", "Transfer", "progress_lines"]

DETAIL_MAX = 1000
"""Per-item outcomes kept in a report; the counts cover everything."""
EXPORT_PAGE = 1000
BATCH = 500
"""New tasks written together (in bulk where the store can)."""
KEY_NAMESPACE = uuid.UUID("0b5a3f6e-2f8d-4d47-9c7e-5a1d2b3c4e5f")
Action = Literal["added", "updated", "skipped", "problem"]
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one item of the file."""

    line: int
    action: Action
    title: str = ""
    id: int | None = None
    reason: str = ""


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do): counts, and item by item why."""

    format: str
    dry_run: bool
    added: int = 0
    updated: int = 0
    skipped: int = 0
    problems: int = 0
    items: list[Outcome] = field(default_factory=list)
    """The outcome of each item, in file order: the first `DETAIL_MAX` (problems, skips
    and warnings say why in `reason`)."""
    omitted: int = 0
    """Outcomes beyond `DETAIL_MAX`, counted only."""

    def note(self, outcome: Outcome) -> None:
        if outcome.action == "problem":
            self.problems += 1
        else:
            setattr(self, outcome.action, getattr(self, outcome.action) + 1)
        if len(self.items) < DETAIL_MAX:
            self.items.append(outcome)
        else:
            self.omitted += 1

    def summary(self) -> str:
        verb = "Would import" if self.dry_run else "Imported"
        counts = f"{self.added} added, {self.updated} updated, {self.skipped} skipped"
        problems = f", {self.problems} problem{'s' if self.problems != 1 else ''}" if self.problems else ""
        return f"{verb} ({self.format}): {counts}{problems}" + (
            " (dry run: nothing was changed)" if self.dry_run else ""
        )


# ---- values ------------------------------------------------------------------------------


def _zone_name(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"tz {name!r} is not an IANA time zone (like Europe/Paris)") from None
    return name


def normal_due(value: str, zone_name: str | None, tz: tzinfo) -> tuple[str | None, str | None]:
    """A due from a file (ISO date or date-time) as stored: (due, due_tz)."""
    text = value.strip()
    if not text:
        return None, None
    if not text[:4].isdigit():
        raise InvalidInput(f"due {value!r} is not an ISO date (YYYY-MM-DD) or date-time")
    zone = ZoneInfo(_zone_name(zone_name)) if zone_name else tz
    due = parse_due(text, zone)  # a date-time without offset is wall-clock time in its zone
    if due.utc is None or zone_name is None:
        return due.iso, due.tz
    moment = datetime.fromisoformat(due.utc.replace("Z", "+00:00")).astimezone(zone)
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds"), zone_name


def _stamp_parts(value: str) -> tuple[datetime, str]:
    """A timestamp from a file → (UTC moment, precision "day" | "second" | "milli")."""
    text = value.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC), "day"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return moment, "milli" if moment.microsecond else "second"


def _canonical(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def merge_stamp(stored_value: str | None, given: str | None, what: str) -> str | None:
    """The timestamp to keep: the file's, unless it agrees with the stored one at the file's
    precision (then the stored one, which may be more precise). None: not given."""
    if given is None:
        return stored_value
    try:
        moment, precision = _stamp_parts(given)
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+14:00 is before the year 1 in UTC
        raise InvalidInput(f"{what} {given!r} is not a date or ISO timestamp") from None
    if stored_value is not None:
        old = datetime.fromisoformat(stored_value.replace("Z", "+00:00"))
        cut = {"day": old.date() == moment.date(), "second": old.replace(microsecond=0) == moment}
        if cut.get(precision, _canonical(old) == _canonical(moment)):
            return stored_value
    return _canonical(moment)


def _same_moment(stored_due: str | None, given: str | None) -> bool:
    """Both date-times naming the same instant: the file wrote it in another zone or offset
    (iCalendar in UTC, Taskwarrior in the user's zone), and the stored text is kept."""
    if stored_due is None or given is None or len(stored_due) == 10 or len(given) == 10:
        return False
    return datetime.fromisoformat(stored_due) == datetime.fromisoformat(given)


class _Cleaned:
    """Validated values, remembered: a file repeats its projects, tags and rules thousands
    of times. Bounded, so a file of all-different values does not grow it without end."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self.projects: dict[str, str] = {}
        self.tags: dict[tuple[str, ...], list[str]] = {}
        self.rules: dict[str, str | None] = {}

    @staticmethod
    def _remember(memo: dict[_K, _V], key: _K, value: _V) -> _V:
        if len(memo) < _Cleaned.LIMIT:
            memo[key] = value
        return value

    def project(self, value: str) -> str:
        found = self.projects.get(value)
        return found if found is not None else self._remember(self.projects, value, clean_project(value))

    def tag_list(self, values: list[str]) -> list[str]:
        key = tuple(values)
        found = self.tags.get(key)
        if found is None:
            found = self._remember(self.tags, key, clean_tags(values))
        return list(found)

    def rule(self, value: str) -> str | None:
        if not value.strip():
            return None
        if value in self.rules:
            return self.rules[value]
        from .dates.recurrence import parse_recur

        rule: str | None = parse_recur(value)
        return self._remember(self.rules, value, rule)


def derived_key(fmt: str, source: str, occurrence: int) -> str:
    """The stable key of a task in a file without ids: same content, same key."""
    return uuid.uuid5(KEY_NAMESPACE, f"{fmt}\x1e{source}\x1e{occurrence}").hex


# ---- importing ---------------------------------------------------------------------------


@dataclass
class _Held:
    """A task waiting for its links: written at the end, once every key it names is known."""

    task: Task
    before: Task | None
    record: ImportedTask


class _Import:
    """One import, in its transaction(s): a preview's snapshot, or the batches of a real one."""

    def __init__(self, tx: StoreTx, fmt: str, tz: tzinfo, now: str, report: ImportReport, *, strict: bool) -> None:
        self.tx = tx
        self.fmt = fmt
        self.tz = tz
        self.now = now
        self.report = report
        self.strict = strict
        self.touched: set[int] = set()
        self.held: dict[str, _Held] = {}
        self.remap: dict[int, int] = {}
        self.aliases: dict[str, int] = {}
        self.kept_max = 0
        self.next_id: int | None = None
        # into an empty store, a key can only match a task this import added: remember the
        # keys added (as hashes, a few bytes each) and ask the store only about those
        self.empty = tx.query(ListQuery(status=None, limit=1)).total == 0
        self.added: set[int] = set()
        self.batch: dict[str, Task] = {}
        self.clean = _Cleaned()

    def run(self, records: Iterable[formats.Record], batches: Batches | None = None) -> None:
        """Every record, then the held ones; with `batches`, committed whenever one is due."""
        for record in records:
            if isinstance(record, Problem):
                self.problem(record)
            else:
                self.record(record)
            self._commit_if_due(batches)
        self.finish(batches)
        self.report.items.sort(key=lambda item: item.line)  # held tasks were written last

    def _commit_if_due(self, batches: Batches | None) -> None:
        if batches is not None and batches.due():
            self._flush()
            self._reserve()
            self.tx = batches.commit()
            self.next_id = None  # another writer may have taken ids meanwhile: ask again

    def _reserve(self) -> None:
        last = max(self.kept_max, (self.next_id or 1) - 1)
        if last:
            self.tx.reserve_ids(last)

    # -- one record --

    def problem(self, problem: Problem) -> None:
        if problem.severity == "fatal" or (self.strict and problem.severity == "error"):
            suffix = "" if problem.severity == "fatal" else " (--strict)"
            raise InvalidInput(f"line {problem.line}: {problem.message}; nothing was imported{suffix}")
        action: Action = "skipped" if problem.severity == "skip" else "problem"
        self.report.note(Outcome(problem.line, action, reason=problem.message))

    def record(self, record: ImportedTask) -> None:
        try:
            key, existing = self._match(record)
            if existing is not None and existing.status is Status.deleted and record.status is not Status.deleted:
                self._skip(record, existing, f"#{existing.id} is in the trash; restore it to import over it")
                return
            task = self._build(record, key, existing)
        except TodoError as exc:
            self.problem(Problem(record.line, str(exc)))
            return
        record.resolved = task.id
        self.touched.add(task.id)
        if record.id is not None and record.id != task.id:
            self.remap[record.id] = task.id  # the file's links by id follow the task
        if record.alias:
            self.aliases[record.alias] = task.id
        if self._has_links(record):
            self.held[key] = _Held(task, existing, record)
        else:
            self._write(task, existing, record)

    def _match(self, record: ImportedTask) -> tuple[str, Task | None]:
        """The record's key and the stored task it names (None: a new task)."""
        if record.key:
            existing = self._lookup(record.key)
            if existing is not None and existing.id in self.touched:
                raise InvalidInput(f"uid {record.key!r} appears twice in the file; the later one is skipped")
            return record.key, existing
        occurrence = 0
        while True:
            key = derived_key(self.fmt, record.key_source or record.title, occurrence)
            existing = self._lookup(key)
            if existing is None or existing.id not in self.touched:
                return key, existing
            occurrence += 1  # the same line twice in one file: two tasks

    def _lookup(self, key: str) -> Task | None:
        held = self.held.get(key)
        if held is not None:
            return held.task
        if key in self.batch:
            return self.batch[key]
        if self.empty and hash(key) not in self.added:
            return None
        return self.tx.get_by_uid(key)

    def _build(self, record: ImportedTask, key: str, existing: Task | None) -> Task:
        """The task as it will be stored: the file's fields, validated, over the stored ones."""
        base = stored(existing) if existing is not None else None
        status = record.status or (base.status if base else Status.pending)
        due, due_tz, recur = self._schedule(record, base)
        completed = self._completed(record, base, status)
        created = merge_stamp(base.created_at if base else None, record.created_at, "created date")
        if created is None:  # a new task the file gives no creation date: not after its completion
            created = min(self.now, completed) if completed else self.now
        fields: dict[str, Any] = {
            "title": clean_title(record.title),
            "notes": clean_notes(record.notes) if record.notes is not None else (base.notes if base else ""),
            "status": status,
            "priority": record.priority or (base.priority if base else Priority.none),
            "due": due,
            "due_tz": due_tz,
            "recur": recur,
            "project": self._project(record, base),
            "tags": self.clean.tag_list(record.tags) if record.tags is not None else (list(base.tags) if base else []),
            "parent_id": base.parent_id if base and record.parent is None else None,
            "depends_on": list(base.depends_on) if base and record.depends is None else [],
            "created_at": created,
            "updated_at": base.updated_at if base else self.now,
            "completed_at": completed,
            "uid": key,
        }
        task_id = base.id if base else self._new_id(record)  # after validation: no id spent on a bad line
        return task_from_store(
            {"id": task_id, **fields, "due_human": None, "subtasks": 0, "blocked": False, "urgency": None}
        )

    def _schedule(self, record: ImportedTask, base: Task | None) -> tuple[str | None, str | None, str | None]:
        """(due, due_tz, recur): a due naming the stored instant keeps the stored text, and a
        rule without a due starts at its first occurrence (as when a task is added)."""
        due, due_tz = (base.due, base.due_tz) if base else (None, None)
        if record.due is not None:
            new_due, new_tz = normal_due(record.due, record.due_tz, self.tz)
            if not _same_moment(due, new_due):
                due, due_tz = new_due, new_tz
        recur = self.clean.rule(record.recur) if record.recur is not None else (base.recur if base else None)
        if recur and due is None:
            from .dates.recurrence import first_due

            due = first_due(recur, datetime.now(self.tz).date())
        return due, due_tz, recur

    def _completed(self, record: ImportedTask, base: Task | None, status: Status) -> str | None:
        stored_value = base.completed_at if base else None
        if record.completed_at is not None:
            return merge_stamp(stored_value, record.completed_at, "completion date")
        if status is Status.done:
            return stored_value if base is not None and base.status is Status.done else self.now
        return stored_value if status is Status.deleted else None

    def _project(self, record: ImportedTask, base: Task | None) -> str:
        if record.project is not None and record.project.strip():
            return self.clean.project(record.project)
        return base.project if base else DEFAULT_PROJECT

    def _new_id(self, record: ImportedTask) -> int:
        """The id a JSON dump gives, when free; else the next new id. New ids are taken in one
        block: the store's counter gives the first, and `finish` moves it past the last."""
        wanted = record.id
        if wanted is not None and wanted > 0 and wanted not in self.touched and self.tx.get(wanted) is None:
            self.kept_max = max(self.kept_max, wanted)
            return wanted
        if self.next_id is None:
            self.next_id = self.tx.allocate_id()
        while self.next_id in self.touched:
            self.next_id += 1
        new_id = self.next_id
        self.next_id += 1
        return new_id

    def _skip(self, record: ImportedTask, existing: Task, reason: str) -> None:
        self.touched.add(existing.id)
        record.resolved = existing.id
        self.report.note(Outcome(record.line, "skipped", record.title, existing.id, reason))

    # -- links --

    @staticmethod
    def _has_links(record: ImportedTask) -> bool:
        return bool(record.parent) or bool(record.depends)

    def _resolve(self, ref: Ref | ImportedTask) -> int | None:
        if isinstance(ref, ImportedTask):
            return ref.resolved
        if isinstance(ref, int):
            target = self.remap.get(ref, ref)
            return target if target in self.touched or self.tx.get(target) is not None else None
        found = self._lookup(ref)
        if found is None and ref in self.aliases:
            return self.aliases[ref]
        return found.id if found is not None else None

    def finish(self, batches: Batches | None = None) -> None:
        """Resolve the held tasks' links, refuse cycles, and write them (in batches too)."""
        self._flush()
        parents: dict[int, int | None] = {}
        for held in self.held.values():
            parents[held.task.id] = self._link_parent(held)
            self._commit_if_due(batches)  # resolving reads the store: on PostgreSQL, seconds
        for held in self.held.values():
            if held.record.depends is not None:
                self._link_depends(held)
            held.task.parent_id = parents[held.task.id]
            self._commit_if_due(batches)
        for held in self.held.values():
            if held.task.parent_id is not None and self._parent_cycle(held.task.id, parents):
                held.record.warnings.append(f"parent #{held.task.parent_id} would make a cycle; imported without it")
                parents[held.task.id] = held.task.parent_id = None
            self._write(held.task, held.before, held.record)
            self._commit_if_due(batches)
        self._flush()
        self._reserve()

    def _link_parent(self, held: _Held) -> int | None:
        ref = held.record.parent
        if ref is None or ref == "":
            return held.task.parent_id
        parent = self._resolve(ref)
        if parent is None or parent == held.task.id:
            shown = ref.title if isinstance(ref, ImportedTask) else ref
            held.record.warnings.append(f"parent {shown!r} is not in the file or the store; imported without it")
        return parent if parent != held.task.id else None

    def _link_depends(self, held: _Held) -> None:
        found: list[int] = []
        for ref in held.record.depends or []:
            dep = self._resolve(ref)
            if dep is None or dep == held.task.id:
                held.record.warnings.append(f"dependency {ref!r} is not in the file or the store; left out")
            elif dep not in found:
                found.append(dep)
        held.task.depends_on = found
        if found and self._depends_cycle(held.task.id, found):
            held.record.warnings.append("its dependencies would make a cycle; imported without them")
            held.task.depends_on = []

    def _parent_of(self, task_id: int, parents: dict[int, int | None]) -> int | None:
        if task_id in parents:
            return parents[task_id]
        found = self.tx.get(task_id)
        return found.parent_id if found is not None else None

    def _parent_cycle(self, start: int, parents: dict[int, int | None]) -> bool:
        seen = {start}
        current = self._parent_of(start, parents)
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            current = self._parent_of(current, parents)
        return False

    def _depends_cycle(self, start: int, first: list[int]) -> bool:
        held = {h.task.id: h.task.depends_on for h in self.held.values()}
        frontier, seen = list(first), {start}
        while frontier:
            current = frontier.pop()
            if current == start:
                return True
            if current in seen:
                continue
            seen.add(current)
            if current in held:
                frontier.extend(held[current])
            else:
                found = self.tx.get(current)
                frontier.extend(found.depends_on if found else [])
        return False

    # -- writing --

    def _write(self, task: Task, before: Task | None, record: ImportedTask) -> None:
        reason = "; ".join(record.warnings)
        if before is not None:
            old = stored(before)
            if task == old:
                self.report.note(Outcome(record.line, "skipped", task.title, task.id, reason or "unchanged"))
                return
            task.updated_at = self._updated(record, old)
            self.tx.put(task)
            self.tx.log(Change(op="update", task_id=task.id, before=old, after=task, at=self.now))
            self.report.note(Outcome(record.line, "updated", task.title, task.id, reason))
            return
        if record.updated_at is not None:
            task.updated_at = merge_stamp(None, record.updated_at, "modified date") or task.updated_at
        self.batch[task.uid or ""] = task
        if len(self.batch) >= BATCH:
            self._flush()
        self.report.note(Outcome(record.line, "added", task.title, task.id, reason))

    def _flush(self) -> None:
        """Write the new tasks gathered so far, with their change-log entries. A store whose
        transactions offer `put_many` and `log_many` (bulk statements) gets them in one go."""
        if not self.batch:
            return
        tasks = list(self.batch.values())
        changes = [Change(op="add", task_id=task.id, before=None, after=task, at=self.now) for task in tasks]
        put_many = getattr(self.tx, "put_many", None)
        log_many = getattr(self.tx, "log_many", None)
        if put_many is not None and log_many is not None:
            put_many(tasks)
            log_many(changes)
        else:
            for task, change in zip(tasks, changes, strict=True):
                self.tx.put(task)
                self.tx.log(change)
        if self.empty:
            self.added.update(hash(task.uid) for task in tasks)
        self.batch.clear()

    def _updated(self, record: ImportedTask, old: Task) -> str:
        if record.updated_at is None:
            return self.now
        return merge_stamp(old.updated_at, record.updated_at, "modified date") or self.now


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
        if dry_run:  # a read snapshot: no write lock, nobody waits (transfer_tx.py)
            with self.store.read(self.owner) as snapshot:
                job = _Import(PreviewTx(snapshot), reader.name, self.tz, self._clock(), report, strict=strict)
                job.run(records)
            report.items = [item if item.action != "added" else _without_id(item) for item in report.items]
            return report
        with Batches(self.store, self.owner) as batches:  # committed in batches, one undo group
            job = _Import(batches.tx, reader.name, self.tz, self._clock(), report, strict=strict)
            job.run(records, batches)
        return report

    def export(self, fmt: str, out: TextIO, *, project: str | None = None, trash: bool | None = None) -> int:
        """Write the tasks (of `project`, if given) to `out`; returns how many. The trash is
        included where the format can say "deleted" (the dump, iCalendar, Taskwarrior)."""
        writer = formats.get(fmt)
        if not writer.writable:
            raise InvalidInput(
                f"{writer.title} is an import-only format; export to one of " + ", ".join(formats.writable_names())
            )
        wanted = clean_project(project) if project is not None else None
        include_trash = writer.keeps_trash if trash is None else trash
        tasks = [task for task in self.tasks(wanted) if include_trash or task.status is not Status.deleted]
        writer.write(tasks, out, self.options())
        return len(tasks)

    def tasks(self, project: str | None = None) -> list[Task]:
        """Every task (of `project`), by id, from one snapshot, without computed fields."""
        found: list[Task] = []
        with self.store.read(self.owner) as tx:
            after: list[object] | None = None
            while True:
                query = ListQuery(status=None, project=project, sort="created", limit=EXPORT_PAGE, after=after)
                page = tx.query(query)
                found += [stored(task) for task in page.items]
                if page.next_after is None:
                    return found
                after = page.next_after


def _without_id(item: Outcome) -> Outcome:
    """A dry run's added task has no id (the ids it would take were given back)."""
    return Outcome(item.line, item.action, item.title, None, item.reason)


# ---- progress for the command line ------------------------------------------------------


def progress_lines(
    file: Iterable[str], total: int, stream: TextIO | None = None, *, every: float = 0.25
) -> Iterator[str]:
    """The file's lines, with a progress line on `stream` (stderr) when it is a terminal or
    the file is large (over 10 MB): "importing: 45% (1,234,567 lines)", redrawn in place on a
    terminal, every 10 % otherwise. `total` is the size in bytes, 0 if unknown (a pipe);
    characters are counted against it, close enough for a progress line."""
    out = stream if stream is not None else sys.stderr
    tty = out.isatty()
    if not tty and total < 10_000_000:
        yield from file
        return
    done = count = 0
    last = time.monotonic()
    step = 10
    for line in file:
        done += len(line)
        count += 1
        yield line
        percent = min(100, done * 100 // total) if total else None
        now = time.monotonic()
        if tty and now - last >= every:
            out.write("\r" + _progress(percent, count))
            out.flush()
            last = now
        elif not tty and percent is not None and percent >= step:
            out.write(_progress(percent, count) + "\n")
            step = percent - percent % 10 + 10
    if tty:
        out.write("\r" + _progress(100 if total else None, count) + "\n")
        out.flush()


def _progress(percent: int | None, count: int) -> str:
    return f"importing: {percent}% ({count:,} lines)" if percent is not None else f"importing: {count:,} lines"


# ---- the command line: `export` and `import` --------------------------------------------

DETAIL_LINES = 50
"""Outcome lines `import` prints (problems, skips and warnings; the rest are counted)."""
SNIFF_CHARS = 8192


def export_command(db: str | None, tz: str | None, fmt: str, project: str | None, output: str | None) -> int:
    """`mcp-server-todo export`: to `output` (written whole, then moved into place) or stdout."""
    from .config import Config
    from .store import open_store

    config = Config.resolve(db, tz)
    store = open_store(config.store_url)
    try:
        transfer = Transfer(store, tz=config.tz)
        if output is None or output == "-":
            transfer.export(fmt, sys.stdout, project=project)
            return 0
        count = _export_file(transfer, fmt, project, output)
    finally:
        store.close()
    print(f"Exported {count} task{'s' if count != 1 else ''} to {output} ({formats.name_of(fmt)})", file=sys.stderr)
    return 0


def _export_file(transfer: Transfer, fmt: str, project: str | None, output: str) -> int:
    partial = f"{output}.partial-{os.getpid()}"
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            count = transfer.export(fmt, out, project=project)
        os.replace(partial, output)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return count


def import_command(db: str | None, tz: str | None, path: str, fmt: str | None, *, dry_run: bool, strict: bool) -> int:
    """`mcp-server-todo import FILE`: one transaction, a summary and the notable outcomes."""
    from .config import Config
    from .store import backup, open_store

    config = Config.resolve(db, tz)
    with _open_input(path) as file:
        head, lines = _peek(file)
        name = formats.name_of(fmt) if fmt else formats.sniff(head, None if path == "-" else path)
        store = open_store(config.store_url)
        try:
            if not dry_run:
                backup.before_import(store)  # an automatic backup (SQLite), rotated
            transfer = Transfer(store, tz=config.tz)
            report = transfer.import_lines(
                progress_lines(lines, _size(file)),
                name,
                dry_run=dry_run,
                strict=strict,
                source=None if path == "-" else os.path.basename(path),
            )
        finally:
            store.close()
    print(report.summary())
    for line in report_lines(report, DETAIL_LINES):
        print(line)
    return 0


def report_lines(report: ImportReport, limit: int) -> list[str]:
    """The outcomes a reader should see: problems, skips other than "unchanged", warnings."""
    notable = [item for item in report.items if item.action == "problem" or item.reason not in ("", "unchanged")]
    lines = [_outcome_line(item) for item in notable[:limit]]
    more = len(notable) - len(lines) + report.omitted
    if more > 0:
        lines.append(f"(and {more} more)")
    return lines


def _outcome_line(item: Outcome) -> str:
    what = item.action if item.id is None else f"{item.action} #{item.id}"
    title = f" {one_line(item.title)}" if item.title else ""
    return f"line {item.line}: {what}{title}: {item.reason}"


class _open_input:
    """The file to import (or stdin for "-"), text in UTF-8 with or without a BOM."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file: TextIO | None = None

    def __enter__(self) -> TextIO:
        if self.path == "-":
            return sys.stdin
        try:
            self.file = open(self.path, encoding="utf-8-sig")  # closed in __exit__
        except OSError as exc:
            raise InvalidInput(f"cannot read {self.path}: {exc.strerror or exc}") from None
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _peek(file: TextIO) -> tuple[str, Iterator[str]]:
    """The first few kilobytes (to guess the format) and all the lines, without seeking."""
    first: list[str] = []
    size = 0
    try:
        for line in file:
            first.append(line)
            size += len(line)
            if size >= SNIFF_CHARS:
                break
    except UnicodeDecodeError as exc:
        raise not_utf8(exc) from None

    def lines() -> Iterator[str]:
        yield from first
        yield from file

    return "".join(first), lines()


def _size(file: TextIO) -> int:
    try:
        return os.fstat(file.fileno()).st_size
    except (OSError, ValueError):
        return 0
