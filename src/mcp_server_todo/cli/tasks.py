"""Task work, one task at a time: `add`, `show` (`info`) and `edit` (`modify`: flags for every
field, or the task as a text form in `$EDITOR`). Bulk changes are in `bulk.py`, reads in
`views.py`. Every command calls the service; nothing here imports it before a command runs.
"""

from __future__ import annotations

from typing import Any

import click

from .completion import complete_ids, complete_projects, complete_tags
from .context import ids_argument, json_option, report, settings, store_options

PRIORITIES = click.Choice(["none", "low", "medium", "high"])


def _depends(value: tuple[str, ...]) -> list[int] | None:
    """`-d 3 -d 4` or `-d 3,4` → [3, 4]."""
    if not value:
        return None
    found: list[int] = []
    for word in ",".join(value).split(","):
        if word.strip():
            try:
                found.append(int(word.strip().lstrip("#")))
            except ValueError:
                raise click.BadParameter(f"{word.strip()!r} is not a task id", param_hint="--depends-on") from None
    return found


@click.command("add")
@click.argument("title", nargs=-1, required=True)
@click.option("--due", help="YYYY-MM-DD, 2026-12-24T17:00, or a phrase: tomorrow 5pm, friday, in 3 days")
@click.option("--priority", "-p", type=PRIORITIES, help="none (default), low, medium or high")
@click.option("--project", "-P", shell_complete=complete_projects, help="its project (default inbox)")
@click.option("--tag", "-t", "tags", multiple=True, shell_complete=complete_tags, help="a tag (repeat for more)")
@click.option("--notes", "-n", help="details, shown by `show`")
@click.option("--recur", "-R", help="repeat: every weekday, every 2 weeks on monday, monthly, yearly...")
@click.option("--parent", type=click.IntRange(min=1), shell_complete=complete_ids, help="make it a subtask of this id")
@click.option(
    "--depends-on", "-d", multiple=True, metavar="ID[,ID]", help="ids it waits for (repeat or comma-separate)"
)
@click.option("--remind", "-r", multiple=True, help="'30 minutes before', 'at due', 'tomorrow 9am' (repeat for more)")
@store_options
@json_option
def add_command(
    title: tuple[str, ...],
    due: str | None,
    priority: str | None,
    project: str | None,
    tags: tuple[str, ...],
    notes: str | None,
    recur: str | None,
    parent: int | None,
    depends_on: tuple[str, ...],
    remind: tuple[str, ...],
) -> None:
    """Add a task.

    \b
    Example:
      mcp-server-todo add Buy milk --due "tomorrow 5pm" -p high -P home -t errand
      mcp-server-todo add "Water the plants" --recur "every 3 days" --remind "at due"
    """
    fields = {
        "title": " ".join(title),
        "notes": notes,
        "priority": priority,
        "due": due,
        "recur": recur,
        "project": project,
        "tags": list(tags) or None,
        "parent_id": parent,
        "depends_on": _depends(depends_on),
        "remind": list(remind) or None,
    }
    with settings().service() as service:
        created = service.add_many([{k: v for k, v in fields.items() if v is not None}])
    report("Added", created)


@click.command("show")
@ids_argument
@store_options
@json_option
def show_command(ids: tuple[int, ...]) -> None:
    """Show tasks in full: every field, the notes, reminders and subtasks.

    \b
    Example:
      mcp-server-todo show 12
      mcp-server-todo show 12 --json | jq .notes
    """
    from .display import print_json_lines, print_task

    run = settings()
    with run.service() as service:
        shown = [
            (task, service.list_tasks(status="all", parent_id=task.id, limit=500).items)
            for task in (service.get(task_id) for task_id in ids)
        ]
    if run.json:
        print_json_lines([task for task, _ in shown])
        return
    look = run.look()
    for index, (task, subtasks) in enumerate(shown):
        if index:
            click.echo()
        print_task(task, look, subtasks=subtasks)


@click.command("edit")
@ids_argument
@click.option("--title", help="a new title")
@click.option("--due", help='a date or phrase; "" clears it (the repeat rule is kept)')
@click.option("--priority", "-p", type=PRIORITIES, help="none, low, medium or high")
@click.option("--project", "-P", shell_complete=complete_projects, help="move to this project")
@click.option("--tag", "-t", "tags", multiple=True, shell_complete=complete_tags, help="replace the tags (repeat)")
@click.option("--no-tags", is_flag=True, help="remove every tag")
@click.option("--notes", "-n", help='new notes; "" clears them')
@click.option("--recur", "-R", help='a repeat rule; "" stops repeating')
@click.option("--parent", type=click.IntRange(min=0), shell_complete=complete_ids, help="a parent id; 0 detaches")
@click.option("--depends-on", "-d", multiple=True, metavar="ID[,ID]", help="replace what it waits for; 0 clears")
@click.option("--remind", "-r", multiple=True, help="replace the reminders (repeat for more)")
@click.option("--no-remind", is_flag=True, help="remove every reminder")
@store_options
@json_option
def edit_command(
    ids: tuple[int, ...],
    title: str | None,
    due: str | None,
    priority: str | None,
    project: str | None,
    tags: tuple[str, ...],
    no_tags: bool,
    notes: str | None,
    recur: str | None,
    parent: int | None,
    depends_on: tuple[str, ...],
    remind: tuple[str, ...],
    no_remind: bool,
) -> None:
    """Change tasks' fields with flags (all the tasks or none), or, with no flags, one task
    as a text form in $EDITOR.

    \b
    Example:
      mcp-server-todo edit 12 --due friday -p high
      mcp-server-todo edit 3 4 5 -P work          # move three tasks
      mcp-server-todo edit 12                     # opens $EDITOR
    """
    waits = _depends(depends_on)
    fields = {
        "title": title,
        "due": due,
        "priority": priority,
        "project": project,
        "tags": [] if no_tags else (list(tags) or None),
        "notes": notes,
        "recur": recur,
        "parent_id": parent,
        "depends_on": [] if waits == [0] else waits,
        "remind": [] if no_remind else (list(remind) or None),
    }
    changes: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    with settings().service() as service:
        if not changes:
            changes = dict(_from_editor(service, ids))
            if not changes:
                click.echo("No change.", err=True)
                return
        updated = service.update_many(list(ids), **changes)
    report("Updated", updated)


def _from_editor(service: object, ids: tuple[int, ...]) -> dict[str, object]:
    from ..errors import InvalidInput
    from ..service import TodoService
    from .editform import changes_from, form_of

    assert isinstance(service, TodoService)
    if len(ids) != 1:
        raise InvalidInput("the editor edits one task; give flags to change several (see `edit --help`)")
    task = service.get(ids[0])
    text = click.edit(form_of(task), extension=".txt", require_save=True)
    return {} if text is None else changes_from(task, text)


COMMANDS = [add_command, show_command, edit_command]
