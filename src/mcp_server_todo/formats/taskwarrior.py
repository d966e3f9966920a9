"""Taskwarrior's `task export` JSON (taskwarrior.org/docs/design/task), read and written back
in the same shape: an array with one task object per line.

    uuid         the key (our uid is a uuid in hex; written back with its dashes)
    description  title                  annotations  notes (one annotation per line)
    status       pending / waiting → pending, completed → done, deleted → trash;
                 "recurring" is a recurrence template: skipped, its instances are imported
    entry, modified, end   created_at, updated_at, completed_at
    due          Taskwarrior keeps UTC date-times; a due at midnight in the user's zone is
                 read as a date (that is how `due:tomorrow` is stored), others as a
                 date-time in the user's zone
    priority     H high, M medium, L low
    project, tags, depends (an array of uuids, or the older comma-separated string)
    recur        daily, weekly, weekdays, biweekly, monthly, quarterly, yearly, 3d, 2w,
                 P1M... (a period in Taskwarrior's units) → RRULE and back

Taskwarrior keeps attributes it does not know (UDAs) through its own edits, so what its
fields cannot say travels in four of ours: "mcp_uid" (a uid that is not a uuid, such as one
from an iCalendar file; the task's uuid is then a name-based one), "mcp_parent" (the
parent's uuid: Taskwarrior's own "parent" is a recurrence link), "mcp_rrule" (a rule no
period says, such as FREQ=MONTHLY;BYMONTHDAY=15; a "recur" set in Taskwarrior wins) and
"mcp_remind" (the reminders, comma-separated: "-PT30M,2026-12-07T08:00:00Z"; absent, the
stored ones are kept).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time, tzinfo
from typing import Any, TextIO

from ..dates import is_iso_date
from ..model import Priority, Status, Task
from . import Format, ImportedTask, Options, Problem, Record, utc_stamp
from ._jsonstream import array_items

UID_ATTRIBUTE = "mcp_uid"
PARENT_ATTRIBUTE = "mcp_parent"
RULE_ATTRIBUTE = "mcp_rrule"
REMIND_ATTRIBUTE = "mcp_remind"
_NAMESPACE = uuid.UUID("6f1d8c1e-3a52-4c6b-9d4e-7a0b2f5e8c31")
_STATUS = {"pending": Status.pending, "waiting": Status.pending, "completed": Status.done, "deleted": Status.deleted}
_WRITE_STATUS = {Status.pending: "pending", Status.done: "completed", Status.deleted: "deleted"}
_PRIORITY = {"H": Priority.high, "M": Priority.medium, "L": Priority.low}
_WRITE_PRIORITY = {v: k for k, v in _PRIORITY.items()}
_WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
_NAMED = {
    "daily": ("DAILY", 1),
    "day": ("DAILY", 1),
    "weekly": ("WEEKLY", 1),
    "sennight": ("WEEKLY", 1),
    "biweekly": ("WEEKLY", 2),
    "fortnight": ("WEEKLY", 2),
    "monthly": ("MONTHLY", 1),
    "bimonthly": ("MONTHLY", 2),
    "quarterly": ("MONTHLY", 3),
    "semiannual": ("MONTHLY", 6),
    "annual": ("YEARLY", 1),
    "yearly": ("YEARLY", 1),
    "biannual": ("YEARLY", 2),
    "biyearly": ("YEARLY", 2),
}
_UNITS = {
    ("d", "day", "days"): ("DAILY", 1),
    ("w", "wk", "wks", "week", "weeks"): ("WEEKLY", 1),
    ("mo", "mos", "mth", "mths", "mnths", "month", "months"): ("MONTHLY", 1),
    ("q", "qtr", "qtrs", "qrtrs", "quarter", "quarters"): ("MONTHLY", 3),
    ("y", "yr", "yrs", "year", "years"): ("YEARLY", 1),
}
_ISO = {"D": ("DAILY", 1), "W": ("WEEKLY", 1), "M": ("MONTHLY", 1), "Y": ("YEARLY", 1)}
_WRITE_UNIT = {
    "DAILY": ("daily", "d"),
    "WEEKLY": ("weekly", "w"),
    "MONTHLY": ("monthly", "mo"),
    "YEARLY": ("yearly", "y"),
}


def _rule(freq: str, interval: int) -> str:
    return f"FREQ={freq}" + (f";INTERVAL={interval}" if interval > 1 else "")


def recur_to_rule(value: str) -> str | None:
    """A Taskwarrior period ("weekly", "2w", "P1M") → RRULE body; None if none fits."""
    text = value.strip().lower()
    if text == "weekdays":
        return _WEEKDAYS
    if text in _NAMED:
        return _rule(*_NAMED[text])
    iso = re.fullmatch(r"p(\d+)([dwmy])", text)
    if iso:
        freq, step = _ISO[iso.group(2).upper()]
        return _rule(freq, int(iso.group(1)) * step)
    match = re.fullmatch(r"(\d*)\s*([a-z]+)", text)
    if match:
        count = int(match.group(1) or 1)
        for names, (freq, step) in _UNITS.items():
            if match.group(2) in names and count >= 1:
                return _rule(freq, count * step)
    return None


def rule_to_recur(rule: str) -> str | None:
    """A stored RRULE body → Taskwarrior's period, if one says the same."""
    if rule == _WEEKDAYS:
        return "weekdays"
    match = re.fullmatch(r"FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(?:;INTERVAL=(\d+))?", rule)
    if not match:
        return None
    named, unit = _WRITE_UNIT[match.group(1)]
    return named if match.group(2) is None else f"{match.group(2)}{unit}"


# ---- dates ----------------------------------------------------------------------------


def parse_date(value: Any) -> datetime:
    """Taskwarrior's 20120110T231200Z (ISO 8601 variants accepted too), as aware UTC."""
    text = str(value).strip()
    if re.fullmatch(r"\d{8}T\d{6}Z", text):
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _due(value: Any, tz: tzinfo) -> tuple[str, str | None]:
    local = parse_date(value).astimezone(tz)
    if local.time() == time(0, 0):
        return local.date().isoformat(), None
    spec = "minutes" if local.second == 0 else "seconds"
    return local.isoformat(timespec=spec), getattr(tz, "key", None)


def _due_out(task: Task, tz: tzinfo) -> str:
    assert task.due is not None
    if is_iso_date(task.due):
        return format_date(datetime.fromisoformat(task.due).replace(tzinfo=tz))
    return format_date(datetime.fromisoformat(task.due))


# ---- reading ---------------------------------------------------------------------------


def _key(value: Any) -> str:
    text = str(value).strip()
    try:
        return uuid.UUID(text).hex
    except ValueError:
        return text


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value] if isinstance(value, list) else [str(value)]


def _stamp(data: dict[str, Any], name: str) -> str | None:
    return utc_stamp(parse_date(data[name])) if data.get(name) else None


def task_record(data: Any, line: int, options: Options) -> Record:
    if not isinstance(data, dict):
        return Problem(line, "not a task object")
    status = str(data.get("status", "pending"))
    if status == "recurring":
        return Problem(line, "a Taskwarrior recurrence template: its instances are imported instead", "skip")
    if status not in _STATUS:
        return Problem(line, f"status {status!r} is not one of pending, waiting, completed, deleted; skipped")
    title = str(data.get("description") or "").strip()
    if not title:
        return Problem(line, "a task without a description; skipped")
    try:
        return _record(data, line, title, _STATUS[status], options)
    except (ValueError, TypeError) as exc:
        return Problem(line, f"a date does not parse ({exc}); skipped")


def _record(data: dict[str, Any], line: int, title: str, status: Status, options: Options) -> ImportedTask:
    tw_key = _key(data["uuid"]) if data.get("uuid") else None
    key = data.get(UID_ATTRIBUTE) or tw_key
    notes = [str(a.get("description", "")) if isinstance(a, dict) else str(a) for a in data.get("annotations") or []]
    task = ImportedTask(
        line=line,
        title=title,
        key=str(key) if key else None,
        alias=tw_key if data.get(UID_ATTRIBUTE) else None,
        status=status,
        notes="\n".join(notes),
        priority=_PRIORITY.get(str(data.get("priority", "")).upper(), Priority.none),
        due="",
        recur="",
        project=str(data["project"]) if data.get("project") else None,
        tags=_list(data.get("tags")),
        depends=[_key(dep) for dep in _list(data.get("depends"))],
        created_at=_stamp(data, "entry"),
        updated_at=_stamp(data, "modified"),
        completed_at=_stamp(data, "end") if status is not Status.pending else None,
    )
    task.key_source = f"{title}\x1f{task.created_at or ''}"
    task.parent = _key(data[PARENT_ATTRIBUTE]) if data.get(PARENT_ATTRIBUTE) else ""
    if data.get("due"):
        task.due, task.due_tz = _due(data["due"], options.tz)
    if data.get("recur"):
        rule = recur_to_rule(str(data["recur"]))
        if rule is None:
            task.warnings.append(f"recur {data['recur']!r} is not a period this server can repeat; left out")
        task.recur = rule or ""
    elif data.get(RULE_ATTRIBUTE):
        task.recur = str(data[RULE_ATTRIBUTE])
    if REMIND_ATTRIBUTE in data:
        task.reminders = _list(data[REMIND_ATTRIBUTE])
    return task


# ---- writing ---------------------------------------------------------------------------


def _uuid(uid: str | None, task_id: int) -> tuple[str, bool]:
    """The task's uuid for Taskwarrior, and whether it is our uid itself (else name-based)."""
    if uid:
        try:
            parsed = uuid.UUID(hex=uid)
            return str(parsed), parsed.hex == uid
        except ValueError:
            pass
    return str(uuid.uuid5(_NAMESPACE, uid or f"task-{task_id}")), False


def task_object(task: Task, uuids: dict[int, str], options: Options) -> dict[str, Any]:
    tw_uuid, same = _uuid(task.uid, task.id)
    data: dict[str, Any] = {
        "id": task.id if task.status is Status.pending else 0,
        "description": task.title,
        "entry": format_date(parse_date(task.created_at)),
        "modified": format_date(parse_date(task.updated_at)),
        "status": _WRITE_STATUS[task.status],
        "uuid": tw_uuid,
    }
    if task.completed_at and task.status is not Status.pending:
        data["end"] = format_date(parse_date(task.completed_at))
    if task.due:
        data["due"] = _due_out(task, options.tz)
    if task.priority in _WRITE_PRIORITY:
        data["priority"] = _WRITE_PRIORITY[task.priority]
    data["project"] = task.project
    if task.tags:
        data["tags"] = list(task.tags)
    deps = [uuids[dep] for dep in task.depends_on if dep in uuids]
    if deps:
        data["depends"] = deps
    if task.notes:
        # a value may not hold a line break: one annotation per line of notes
        data["annotations"] = [{"entry": data["modified"], "description": line} for line in task.notes.split("\n")]
    if task.recur:
        period = rule_to_recur(task.recur)
        data["recur" if period else RULE_ATTRIBUTE] = period or task.recur
    if not same and task.uid:
        data[UID_ATTRIBUTE] = task.uid
    if task.parent_id in uuids:
        data[PARENT_ATTRIBUTE] = uuids[task.parent_id]
    if task.reminders:
        data[REMIND_ATTRIBUTE] = ",".join(task.reminders)
    return data


class Taskwarrior(Format):
    name = "taskwarrior"
    title = "Taskwarrior JSON"
    extensions = (".json",)
    media_type = "application/json"
    keeps_trash = True

    def read(self, lines: Iterable[str], options: Options) -> Iterator[Record]:
        for found in array_items(lines):
            yield found if isinstance(found, Problem) else task_record(found.value, found.line, options)

    def write(self, tasks: Iterable[Task], out: TextIO, options: Options) -> None:
        listed = list(tasks)
        uuids = {task.id: _uuid(task.uid, task.id)[0] for task in listed}
        out.write("[\n")
        for index, task in enumerate(listed):
            text = json.dumps(task_object(task, uuids, options), ensure_ascii=False, separators=(",", ":"))
            out.write(("," if index else "") + text + "\n")
        out.write("]\n")


FORMAT = Taskwarrior()
