"""How the human commands show tasks: tables, one task in full, JSON lines, paging.

The command tree (cli/main.py and its command modules) calls only what is defined here; Rich is
imported inside these functions, never at module import, so `serve` and the stdio path never
load it. (A first plain version: the look — colours, due phrases, indentation, wide
characters, the pager — is filled in behind these same signatures.)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..model import Task

ColorChoice = Literal["auto", "always", "never"]


@dataclass(frozen=True)
class Look:
    """How to print: colour or not, the time zone due dates are read in (an IANA name or None:
    the store's default), and whether a pager may be used."""

    color: bool
    tz: str | None = None
    pager: bool = False


def look_for(color: ColorChoice = "auto", tz: str | None = None) -> Look:
    """The look for this run: `--color`, `NO_COLOR`, and whether stdout is a terminal."""
    import os

    tty = sys.stdout.isatty()
    on = (tty and not os.environ.get("NO_COLOR")) if color == "auto" else color == "always"
    return Look(color=bool(on), tz=tz, pager=tty)


def task_json(task: Task) -> dict[str, Any]:
    """One task as the stable JSON object of `--json` (documented in the README's CLI section)."""
    return task.model_dump(mode="json", exclude_none=False)


def print_json_lines(tasks: list[Task]) -> None:
    """`--json`: one task per line."""
    for task in tasks:
        sys.stdout.write(json.dumps(task_json(task), ensure_ascii=False, sort_keys=True) + "\n")


def print_tasks(tasks: list[Task], look: Look, *, title: str | None = None, footer: str | None = None) -> None:
    """A table of tasks (subtasks under their parents when both are listed)."""
    from ..render import table

    text = table(tasks)
    if title:
        text = f"{title}\n{text}"
    if footer:
        text = f"{text}\n{footer}"
    print(text)


def print_task(task: Task, look: Look, *, subtasks: list[Task] | None = None) -> None:
    """One task in full: every field, its notes, reminders and subtasks (`show`)."""
    from ..render import task_line

    print(task_line(task))
    if task.notes:
        print(task.notes)
    for sub in subtasks or []:
        print("  " + task_line(sub))


def print_line(text: str, look: Look, *, style: str | None = None) -> None:
    """One message line on stdout (a summary such as "Completed 3 tasks")."""
    print(text)
