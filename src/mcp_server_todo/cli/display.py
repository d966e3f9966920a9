"""How the human commands show tasks: tables, one task in full, JSON lines, paging.

The command tree (cli/main.py and its command modules) calls only what is defined here; Rich is
imported inside these functions, never at module import, so `serve` and the stdio path never
load it.

* `look_for(color, tz)`: colour when stdout is a terminal and `NO_COLOR` is unset (`--color
  always|never` wins over both); never an ANSI code when piped (unless `--color always`).
* `print_tasks`: a table (laid out by `layout.py`). Due dates as people read them ("today 15:00", "tomorrow", "in 3
  days", "3 days overdue"), an overdue task marked `!` (also without colour) and red, priority
  colours, subtasks indented under their parents, wide characters (CJK, emoji) aligned by
  their cell width. On a terminal, output longer than the screen goes through `$PAGER`
  (default `less`, with `LESS=FRX` unless `LESS` is set).
* `print_task`: one task in full (every field, the notes, its subtasks) for `show`.
* `print_json_lines` / `task_json`: `--json`, one JSON object per line, the keys of
  `JSON_KEYS` in that order (docs/cli-json.md).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ..model import Task

ColorChoice = Literal["auto", "always", "never"]

JSON_KEYS = (
    "id",
    "title",
    "notes",
    "status",
    "priority",
    "due",
    "due_tz",
    "due_human",
    "recur",
    "project",
    "tags",
    "parent_id",
    "subtasks",
    "depends_on",
    "blocked",
    "reminders",
    "urgency",
    "uid",
    "created_at",
    "updated_at",
    "completed_at",
)
"""The keys of every `--json` line, in order: the Task fields minus the internal ones (a CalDAV
client's own VTODO and resource name). docs/cli-json.md says what each holds."""


@dataclass(frozen=True)
class Look:
    """How to print: colour or not, the time zone due dates are read in (an IANA name or None:
    the store's default), and whether a pager may be used."""

    color: bool
    tz: str | None = None
    pager: bool = False


def look_for(color: ColorChoice = "auto", tz: str | None = None) -> Look:
    """The look for this run: `--color`, `NO_COLOR` (any non-empty value), and whether stdout
    is a terminal (`TERM=dumb` counts as no colour)."""
    tty = sys.stdout.isatty()
    if color == "auto":
        on = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    else:
        on = color == "always"
    return Look(color=bool(on), tz=tz, pager=tty)


def task_json(task: Task) -> dict[str, Any]:
    """One task as the stable JSON object of `--json` (the keys of `JSON_KEYS`, in order)."""
    data = task.model_dump(mode="json")
    return {key: data.get(key) for key in JSON_KEYS}


def print_json_lines(tasks: list[Task]) -> None:
    """`--json`: one task per line, UTF-8 (no ASCII escapes)."""
    sys.stdout.writelines(json.dumps(task_json(task), ensure_ascii=False) + "\n" for task in tasks)
    sys.stdout.flush()


def print_tasks(tasks: list[Task], look: Look, *, title: str | None = None, footer: str | None = None) -> None:
    """A table of tasks (subtasks indented under their parents when both are listed); "No
    tasks." when there are none. `title` and `footer` are lines above and below it. Laid out
    by cli/layout.py, not Rich's Table (the start-up budget of `list`)."""
    from . import layout, task_cells

    lines: list[str] = []
    if title:
        lines.append(layout.paint([(title, "bold")], look.color))
    if not tasks:
        lines.append("No tasks.")
    else:
        zone = task_cells.zone_of(look.tz)
        nested = task_cells.nested(tasks)
        rows = [(task_cells.row(task, depth, zone), task_cells.row_style(task)) for task, depth in nested]
        lines += layout.table(task_cells.HEADER, rows, color=look.color, width=_width())
    if footer:
        lines.append(layout.paint([(footer, "dim")], look.color))
    _show("".join(line + "\n" for line in lines), look)


def print_task(task: Task, look: Look, *, subtasks: list[Task] | None = None) -> None:
    """One task in full: every field, its notes, reminders and subtasks (`show`)."""
    from rich.table import Table
    from rich.text import Text

    from . import task_cells

    zone = task_cells.zone_of(look.tz)
    heading = Text.assemble((f"#{task.id} ", "bold"), (task_cells.one_line(task.title), "bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in task_cells.fields(task, zone):
        grid.add_row(name, value if isinstance(value, str) else Text.assemble(*value))
    parts: list[RenderableType] = [heading, grid]
    if task.notes:
        parts += [Text(""), Text("Notes:", style="dim"), Text(task.notes)]
    if subtasks:
        parts += [Text(""), Text("Subtasks:", style="dim")]
        for sub in subtasks:
            parts.append(Text.assemble("  ", *task_cells.summary(sub, zone)))
    _emit(parts, look)


def print_line(text: str, look: Look, *, style: str | None = None) -> None:
    """One message line on stdout (a summary such as "Completed 3 tasks"), in `style` (a Rich
    style such as "green" or "bold red") when colour is on; never read as markup."""
    if not look.color or not style:
        print(text, flush=True)
        return
    from rich.text import Text

    _emit([Text(text, style=style)], look)


# -- output -------------------------------------------------------------------------------------


def _width() -> int | None:
    """The terminal's width when stdout is one; None (no folding) when piped."""
    import shutil

    return shutil.get_terminal_size().columns if _is_tty(sys.stdout) else None


def console(look: Look, file: Any = None) -> Console:
    """A Rich console for `look`, writing to `file` (default stdout): no ANSI code at all
    without colour; as wide as the terminal, and no wrapping when stdout is not one (a script
    reads whole lines)."""
    from rich.console import Console

    return Console(
        file=file if file is not None else sys.stdout,
        width=_width() or 10_000,
        color_system="standard" if look.color else None,
        force_terminal=look.color,
        no_color=not look.color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
    )


def render(parts: list[RenderableType], look: Look) -> str:
    """The text `parts` print as under `look` (each line's trailing blanks removed)."""
    import io

    buffer = io.StringIO()
    writer = console(look, buffer)
    for part in parts:
        writer.print(part)
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _emit(parts: list[RenderableType], look: Look) -> None:
    _show(render(parts, look), look)


def _show(text: str, look: Look) -> None:
    """`text` on stdout, through the pager when `look` allows it and it is taller than the screen."""
    if look.pager and _is_tty(sys.stdout) and text.count("\n") >= _screen_rows():
        page(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _screen_rows() -> int:
    import shutil

    return shutil.get_terminal_size().lines - 1  # the shell's prompt keeps a line


def page(text: str) -> None:
    """Show `text` through `$PAGER` (default `less`; `LESS` defaults to FRX: colours, and no
    pager when it fits after all); straight to stdout when the pager cannot run."""
    import shlex
    import subprocess

    command = shlex.split(os.environ.get("PAGER", "").strip() or "less")
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    try:
        encoding = sys.stdout.encoding or "utf-8"
        subprocess.run(command, input=text, encoding=encoding, errors="replace", env=env, check=False)
    except OSError:
        sys.stdout.write(text)
        sys.stdout.flush()
    except KeyboardInterrupt:
        pass
