"""The import engine: one import, record by record, in its transaction(s) (see `transfer.py`
for what an import does). It writes through the service's transactions only (a preview's
`PreviewTx`, or the `Batches` of a real import, see `undo.py`), and links tasks by the
service's rules (`rules.py`): one parent check, one cycle check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from .. import formats
from ..dates.reminders import is_relative, parse_reminders
from ..errors import InvalidInput, TodoError
from ..formats import ImportedTask, Problem, Ref
from ..model import (
    DEFAULT_PROJECT,
    Change,
    ListQuery,
    Priority,
    Status,
    Task,
    clean_href,
    clean_notes,
    clean_title,
    stored,
    task_from_store,
)
from ..store import StoreTx
from .import_values import Cleaned, derived_key, merge_stamp, normal_due, same_moment
from .reports import Action, ImportReport, Outcome
from .rules import depends_cycle, parent_cycle
from .undo import Batches

BATCH = 500
"""New tasks written together (in bulk where the store can)."""


@dataclass
class _Held:
    """A task waiting for its links: written at the end, once every key it names is known."""

    task: Task
    before: Task | None
    record: ImportedTask


class Import:
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
        self.clean = Cleaned()

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
            "reminders": self._reminders(record, base, due),
            # a CalDAV client's VTODO (served merged with these fields) and resource name
            "ical": (record.ical or None) if record.ical is not None else (base.ical if base else None),
            "href": clean_href(record.href) if record.href is not None else (base.href if base else None),
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
            if not same_moment(due, new_due):
                due, due_tz = new_due, new_tz
        recur = self.clean.rule(record.recur) if record.recur is not None else (base.recur if base else None)
        if recur and due is None:
            from ..dates.recurrence import first_due

            due = first_due(recur, datetime.now(self.tz).date())
        return due, due_tz, recur

    def _reminders(self, record: ImportedTask, base: Task | None, due: str | None) -> list[str]:
        """The file's reminders, normalized (or the stored ones when it says nothing); one
        relative to a due date the task does not have is left out, and said."""
        found = parse_reminders(record.reminders, self.tz) if record.reminders is not None else None
        kept = found if found is not None else (list(base.reminders) if base else [])
        if due is None and any(is_relative(r) for r in kept):
            record.warnings.append("reminders relative to a due date were left out: the task has none")
            kept = [r for r in kept if not is_relative(r)]
        return kept

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
        return parent_cycle(start, self._parent_of(start, parents), lambda task_id: self._parent_of(task_id, parents))

    def _depends_cycle(self, start: int, first: list[int]) -> bool:
        held = {h.task.id: h.task.depends_on for h in self.held.values()}

        def depends_of(task_id: int) -> list[int]:
            if task_id in held:
                return held[task_id]
            found = self.tx.get(task_id)
            return found.depends_on if found else []

        return depends_cycle(start, first, depends_of)

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
        """Write the new tasks gathered so far, with their change-log entries, in one go (bulk
        statements where the backend has them)."""
        if not self.batch:
            return
        tasks = list(self.batch.values())
        changes = [Change(op="add", task_id=task.id, before=None, after=task, at=self.now) for task in tasks]
        self.tx.put_many(tasks)
        self.tx.log_many(changes)
        if self.empty:
            self.added.update(hash(task.uid) for task in tasks)
        self.batch.clear()

    def _updated(self, record: ImportedTask, old: Task) -> str:
        if record.updated_at is None:
            return self.now
        return merge_stamp(old.updated_at, record.updated_at, "modified date") or self.now
