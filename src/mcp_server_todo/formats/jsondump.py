"""Our own lossless dump: every stored field of every task, ids included.

    {"format":"mcp-server-todo","schema_version":1,"exported_at":"2026-03-01T09:00:00.000Z","tasks":[
    {"id":1,"title":"Buy milk","notes":"","status":"pending",...,"uid":"5f0c..."},
    {"id":2,...}
    ]}

One task per line, so the file streams both ways and diffs well. Importing it into an
empty store reproduces the tasks exactly: ids (new ids start after the highest one),
statuses including the trash, timestamps, links. Into a store that already has tasks, a
task is matched by uid; an id held by another task is not taken over: the task gets a
new id and its parent and dependency links follow it. The change log (history) is not
part of the dump.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from pydantic import ValidationError

from ..model import COMPUTED_FIELDS, HIDDEN_FIELDS, ID_MAX, Task
from . import Format, ImportedTask, Options, Problem, Record, utc_stamp
from ._jsonstream import Header, object_items

FORMAT_NAME = "mcp-server-todo"
SCHEMA_VERSION = 1


def _problem(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "task"
    return f"{where}: {first['msg'].lower()}"


def task_record(value: Any, line: int) -> Record:
    if not isinstance(value, dict):
        return Problem(line, "not a task object; skipped")
    try:
        task = Task.model_validate({k: v for k, v in value.items() if k not in COMPUTED_FIELDS})
    except ValidationError as exc:
        return Problem(line, f"not a task ({_problem(exc)}); skipped")
    for name, number in (
        ("id", task.id),
        ("parent_id", task.parent_id or 1),
        *(("depends_on", d) for d in task.depends_on),
    ):
        if not 1 <= number <= ID_MAX:
            return Problem(line, f"not a task ({name}: {number} is not a task id, 1 to {ID_MAX}); skipped")
    return ImportedTask(
        line=line,
        title=task.title,
        key=task.uid,
        key_source=f"{task.title}\x1f{task.created_at}",
        id=task.id,
        status=task.status,
        notes=task.notes,
        priority=task.priority,
        due=task.due or "",
        due_tz=task.due_tz,
        recur=task.recur or "",
        project=task.project,
        tags=list(task.tags),
        parent=task.parent_id if task.parent_id is not None else "",
        depends=list(task.depends_on),
        reminders=list(task.reminders) if "reminders" in value else None,  # an older dump: keep the stored
        ical=task.ical,  # absent (a task no CalDAV client wrote, or an older dump): keep the stored
        href=task.href,
        created_at=task.created_at,
        updated_at=task.updated_at,
        completed_at=task.completed_at,
    )


def _header(header: Header) -> Problem | None:
    if header.key == "format" and header.value != FORMAT_NAME:
        return Problem(1, f"format is {header.value!r}, not {FORMAT_NAME!r}: not one of our dumps", "fatal")
    if header.key == "schema_version" and not (isinstance(header.value, int) and 1 <= header.value <= SCHEMA_VERSION):
        return Problem(
            1, f"schema_version {header.value!r} is newer than this server reads ({SCHEMA_VERSION}); upgrade", "fatal"
        )
    return None


class JsonDump(Format):
    name = "json"
    title = "JSON (mcp-server-todo dump)"
    extensions = (".json",)
    media_type = "application/json"
    keeps_trash = True

    def read(self, lines: Iterable[str], options: Options) -> Iterator[Record]:
        for found in object_items(lines, "tasks"):
            if isinstance(found, Header):
                problem = _header(found)
                if problem is not None:
                    yield problem
                    return
            elif isinstance(found, Problem):
                yield found
            else:
                yield task_record(found.value, found.line)

    def write(self, tasks: Iterable[Task], out: TextIO, options: Options) -> None:
        head = {
            "format": FORMAT_NAME,
            "schema_version": SCHEMA_VERSION,
            "exported_at": utc_stamp(options.now, millis=True),
        }
        out.write(json.dumps(head, separators=(",", ":"))[:-1] + ',"tasks":[\n')
        for index, task in enumerate(tasks):
            text = task.model_dump_json(exclude=set(COMPUTED_FIELDS))
            hidden = {name: getattr(task, name) for name in HIDDEN_FIELDS if getattr(task, name)}
            if hidden:  # a CalDAV client's VTODO and resource name: a dump restores them
                text = text[:-1] + "," + json.dumps(hidden, ensure_ascii=False, separators=(",", ":"))[1:]
            out.write(("," if index else "") + text + "\n")
        out.write("]}\n")


FORMAT = JsonDump()
