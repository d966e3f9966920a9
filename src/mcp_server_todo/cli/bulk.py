"""Changes to many tasks at once, each all-or-nothing (one transaction, one step of `undo`):
`done`, `reopen`, `delete` (`rm`), `restore`, `trash` (list, empty) and `undo [N]`. Each
says what it did in one summary line, listing a few tasks at most (`context.report`).
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import TYPE_CHECKING

import click

from .completion import complete_trash
from .context import count, ids_argument, json_option, report, say, settings, store_options

if TYPE_CHECKING:
    from ..service import Undone


@click.command("done")
@ids_argument
@click.option("--with-subtasks", is_flag=True, help="also complete the tasks' open subtasks")
@store_options
@json_option
def done_command(ids: tuple[int, ...], with_subtasks: bool) -> None:
    """Complete tasks by id: all of them, or none if one is missing. A recurring task gets its
    next occurrence.

    \b
    Example:
      mcp-server-todo done 3 7 12
      mcp-server-todo done 5 --with-subtasks
    """
    with settings().service() as service:
        result = service.complete_many(list(ids), with_subtasks=with_subtasks)
    if settings().json:
        report("", result.done + result.unchanged + result.created)
        return
    if result.done:
        report("Completed", result.done)
    if result.unchanged:
        report("Already done:", result.unchanged)
    if result.created:
        report("Next:", result.created)


@click.command("reopen")
@ids_argument
@store_options
@json_option
def reopen_command(ids: tuple[int, ...]) -> None:
    """Mark done tasks pending again.

    \b
    Example:
      mcp-server-todo reopen 12
    """
    from ..errors import Conflict
    from ..model import Status

    with settings().service() as service:
        tasks = [service.get(task_id) for task_id in ids]
        for task in tasks:
            if task.status is Status.deleted:
                raise Conflict(f"task {task.id} is in the trash; run `mcp-server-todo restore {task.id}`")
        done = [task.id for task in tasks if task.status is Status.done]
        reopened = service.update_many(done, status="pending") if done else []
    if settings().json:
        report("", reopened + [task for task in tasks if task.status is Status.pending])
        return
    if reopened:
        report("Reopened", reopened)
    pending = [task for task in tasks if task.status is Status.pending]
    if pending:
        report("Already pending:", pending)


@click.command("delete")
@ids_argument
@store_options
@json_option
def delete_command(ids: tuple[int, ...]) -> None:
    """Move tasks and their subtasks to the trash (`restore` or `undo` brings them back).

    \b
    Example:
      mcp-server-todo delete 4 5
      mcp-server-todo rm 4
    """
    with settings().service() as service:
        report("Moved to the trash:", service.delete_many(list(ids)))


@click.command("restore")
@click.argument("targets", metavar="ID...|BACKUP", nargs=-1, required=True, shell_complete=complete_trash)
@store_options
@json_option
def restore_command(targets: tuple[str, ...]) -> int:
    """Bring tasks back from the trash (ids), or replace the SQLite store by a BACKUP file
    (checked first; the current store is backed up before). A bare number is an id: name a
    backup file called 3 as ./3.

    \b
    Example:
      mcp-server-todo restore 4 5
      mcp-server-todo restore ~/.local/share/mcp-server-todo/backups/todo-2026-12-06.db
    """
    from ..errors import InvalidInput

    if all(target.isdigit() for target in targets):
        _restore_tasks([int(target) for target in targets])
        return 0
    if len(targets) != 1:
        raise InvalidInput("restore takes task ids or one backup file, not both")
    from .admin import _call

    return _call("backup", "restore_command", path=targets[0])


def _restore_tasks(ids: list[int]) -> None:
    from ..errors import NotFound
    from ..model import Status

    with settings().service() as service:
        for task_id in ids:
            if service.get(task_id).status is not Status.deleted:
                raise NotFound(f"task {task_id} is not in the trash; run `mcp-server-todo trash` to see what is")
        report("Restored", service.update_many(ids, status="pending"))


@click.group("trash", invoke_without_command=True)
@store_options
@json_option
@click.pass_context
def trash_command(ctx: click.Context) -> None:
    """List the trash, or empty it for good (`trash empty --yes`; `undo` still brings it back).

    \b
    Example:
      mcp-server-todo trash
      mcp-server-todo trash empty --yes
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(trash_list)


@trash_command.command("list")
@store_options
@json_option
def trash_list() -> None:
    """List the tasks in the trash.

    \b
    Example:
      mcp-server-todo trash list --json
    """
    from .views import show_page

    with settings().service() as service:
        page = service.list_tasks(status="deleted", limit=500)
    show_page(page, empty="The trash is empty.")


@trash_command.command("empty")
@click.option("--yes", "-y", is_flag=True, help="do not ask")
@store_options
def trash_empty(yes: bool) -> None:
    """Remove every task in the trash for good (one `undo` still brings them back).

    \b
    Example:
      mcp-server-todo trash empty --yes
    """
    from ..errors import InvalidInput

    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInput("trash empty removes tasks for good; add --yes")
        click.confirm("Remove every task in the trash for good?", abort=True)
    with settings().service() as service:
        removed = service.empty_trash()
    say(f"Emptied the trash: {count(removed, 'task')} removed" if removed else "The trash was empty.")


@click.command("undo")
@click.argument("steps", type=click.IntRange(1, 50), default=1, required=False)
@store_options
@json_option
def undo_command(steps: int) -> None:
    """Revert the most recent change (or the last N), even one made from an MCP client. A bulk
    change or a whole import is one change.

    \b
    Example:
      mcp-server-todo undo
      mcp-server-todo undo 3
    """
    import json

    from .progress import progress_bar

    with settings().service() as service, progress_bar("Undoing", quiet=settings().quiet) as report:
        undone = service.undo(steps, progress=report)  # a bar only for an import's group, in batches
    if settings().json:
        for u in undone:
            status = u.task.status.value if u.task else None
            click.echo(json.dumps({"op": u.op, "id": u.task_id, "title": u.title, "status": status}))
        return
    for line in undo_lines(undone):
        say(line)


IMPORT_SIZE = 100
"""An undone group of more adds and updates than one command makes (BULK_MAX) was an import."""


def undo_lines(undone: list[Undone]) -> list[str]:
    """A line per change for a few; for many, one: "Undid the import of 200,000 tasks"."""
    from ..render import one_line
    from .context import SHOWN

    if len(undone) <= SHOWN:
        return [f"Undid {u.op} of #{u.task_id} {one_line(u.title)}" for u in undone]
    ops = Counter(u.op for u in undone)
    tasks = count(len({u.task_id for u in undone}), "task")
    if set(ops) <= {"add", "update"} and len(undone) > IMPORT_SIZE:
        return [f"Undid the import of {tasks}"]
    kinds = ", ".join(f"{n:,} {op}" for op, n in ops.most_common())
    return [f"Undid {count(len(undone), 'change')} to {tasks} ({kinds})"]


COMMANDS = [done_command, reopen_command, delete_command, restore_command, trash_command, undo_command]
