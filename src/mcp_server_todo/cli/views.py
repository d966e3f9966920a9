"""Reading the list: `list` (`ls`), the views `today`, `overdue`, `week` and `upcoming`,
`search`, `projects` (`lsprj`), `tags` and `history` (`log`). Each prints a table for people
or, with --json, JSON lines (one object per line; keys in the README's CLI section).

A list is read page by page (the service's cursor) until the end or `--limit`: nothing is cut
at 500. On a store whose tasks belong to other users, an empty answer names them (`--user`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from .completion import complete_ids, complete_projects, complete_tags
from .context import json_option, settings, store_options

if TYPE_CHECKING:
    from ..model import Task
    from ..service import TodoService

PAGE = 500
STATUSES = click.Choice(["pending", "done", "deleted", "all"])
SORTS = click.Choice(["created", "due", "priority", "urgency"])


class Listed:
    """Tasks read page by page, and how many matched in all (`printed`: already printed as
    JSON lines, page by page, and not kept)."""

    def __init__(self, items: list[Task], total: int, *, printed: bool = False) -> None:
        self.items = items
        self.total = total
        self.printed = printed


def read_all(service: TodoService, limit: int | None = None, *, stream: bool = False, **filters: Any) -> Listed:
    """Every matching task (at most `limit`), following the cursor. With `stream` (--json on a
    list that may be long) each page is printed as it comes, never all of it in memory, and
    the result holds none."""
    from .display import print_json_lines

    items: list[Task] = []
    cursor = None
    read = total = 0
    while True:
        size = PAGE if limit is None else max(1, min(PAGE, limit - read))
        page = service.list_tasks(limit=size, cursor=cursor, **filters)
        read += len(page.items)
        if stream:
            print_json_lines(page.items)
        else:
            items += page.items
        total = page.total
        cursor = page.next_cursor
        if cursor is None or (limit is not None and read >= limit):
            return Listed(items, total, printed=stream)


def show_page(page: Any, *, empty: str = "No tasks.", title: str | None = None) -> None:
    """The tasks as a table or JSON lines; `empty` (or who else has tasks) when there are none."""
    from .display import print_json_lines, print_line, print_tasks

    run = settings()
    if run.json:
        if not getattr(page, "printed", False):
            print_json_lines(page.items)
        return
    look = run.look()
    if not page.items:
        others = run.other_users()
        if others:
            empty = (
                f"No tasks for the local user. This store holds the tasks of {', '.join(others)}: "
                f"add --user {others[0]} to see theirs."
            )
        print_line(empty, look)
        return
    cut = len(page.items) < page.total
    footer = f"({len(page.items):,} of {page.total:,} shown; raise --limit or filter)" if cut else None
    print_tasks(page.items, look, title=title, footer=footer)


def _filters(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--project", "-P", shell_complete=complete_projects, help="only this project"),
            click.option("--tag", "-t", shell_complete=complete_tags, help="only this tag"),
            click.option("--sort", type=SORTS, default="created", help="created (default), due, priority, urgency"),
            click.option("--limit", "-n", type=click.IntRange(min=1), help="show at most this many"),
        ]
    ):
        func = option(func)
    return store_options(json_option(func))


@click.command("list")
@click.option("--status", "-s", type=STATUSES, default="pending", help="pending (default), done, deleted, all")
@click.option("--all", "-a", "every", is_flag=True, help="every status")
@click.option("--due", help="overdue, today, this_week, or a date: due by then")
@click.option("--query", help="words in the title or notes")
@click.option("--parent", type=click.IntRange(min=1), shell_complete=complete_ids, help="subtasks of this task")
@_filters
def list_command(
    status: str,
    every: bool,
    due: str | None,
    query: str | None,
    parent: int | None,
    project: str | None,
    tag: str | None,
    sort: str,
    limit: int | None,
) -> None:
    """List tasks (pending by default), subtasks under their parents; filters combine.

    \b
    Example:
      mcp-server-todo list -P work --sort urgency
      mcp-server-todo ls --due this_week -t errand
      mcp-server-todo list --all --json | jq -r .title
    """
    from ..service import DUE_FILTERS

    window = due if due in DUE_FILTERS else None
    with settings().service() as service:
        page = read_all(
            service,
            limit,
            stream=settings().json,
            status="all" if every else status,
            project=project,
            tag=tag,
            due=window,
            due_before=due if due is not None and window is None else None,
            query=query,
            parent_id=parent,
            sort=sort,
        )
    show_page(page)


def _window_command(name: str, window: str, summary: str, example: str, empty: str) -> click.Command:
    @click.command(name, help=f"{summary}\n\n\b\nExample:\n  {example}")
    @_filters
    def view(project: str | None, tag: str | None, sort: str, limit: int | None) -> None:
        with settings().service() as service:
            found = read_all(service, limit, due=window, project=project, tag=tag, sort=sort)
            if name == "today":  # what is late comes first: it is for today too
                late = read_all(service, limit, due="overdue", project=project, tag=tag, sort=sort)
                seen = {task.id for task in late.items}
                found = Listed(late.items + [t for t in found.items if t.id not in seen], late.total + found.total)
        show_page(found, empty=empty)

    return view


today_command = _window_command(
    "today", "today", "Tasks due today, after the overdue ones.", "mcp-server-todo today", "Nothing due today."
)
overdue_command = _window_command(
    "overdue", "overdue", "Tasks past their due date.", "mcp-server-todo overdue -P work", "Nothing overdue."
)
week_command = _window_command(
    "week", "this_week", "Tasks due this week (Monday to Sunday).", "mcp-server-todo week", "Nothing due this week."
)


@click.command("upcoming")
@click.option("--days", type=click.IntRange(1, 366), default=14, help="how far ahead (default 14 days)")
@_filters
def upcoming_command(days: int, project: str | None, tag: str | None, sort: str, limit: int | None) -> None:
    """Tasks due from now to N days ahead (14 by default), soonest first.

    \b
    Example:
      mcp-server-todo upcoming --days 30
    """
    with settings().service() as service:
        until = (service.today() + timedelta(days=days)).isoformat()
        late = {t.id for t in read_all(service, None, due="overdue", project=project, tag=tag).items}
        order = "due" if sort == "created" else sort  # soonest first unless asked otherwise
        due = read_all(service, None, due_before=until, project=project, tag=tag, sort=order)
    items = [task for task in due.items if task.due and task.id not in late][:limit]
    show_page(Listed(items, len(items)), empty=f"Nothing due in the next {days} days.")


@click.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--status", "-s", type=STATUSES, default="all", help="all (default), pending, done, deleted")
@_filters
def search_command(
    query: tuple[str, ...], status: str, project: str | None, tag: str | None, sort: str, limit: int | None
) -> None:
    """Find tasks by words in their title or notes (every status by default).

    \b
    Example:
      mcp-server-todo search dentist
      mcp-server-todo search "quarterly report" -s pending
    """
    with settings().service() as service:
        found = read_all(
            service,
            limit,
            stream=settings().json,
            status=status,
            query=" ".join(query),
            project=project,
            tag=tag,
            sort=sort,
        )
    show_page(found, empty="No task matches.")


@click.command("projects")
@store_options
@json_option
def projects_command() -> None:
    """List projects with their pending and done counts.

    \b
    Example:
      mcp-server-todo projects
    """
    with settings().service() as service:
        rows = service.projects()
    _rows([{"project": name, "pending": pending, "done": done} for name, pending, done in rows], "No projects.")


@click.command("tags")
@store_options
@json_option
def tags_command() -> None:
    """List tags with their pending counts, most used first.

    \b
    Example:
      mcp-server-todo tags --json
    """
    with settings().service() as service:
        rows = service.tags()
    _rows([{"tag": name, "pending": pending} for name, pending in rows], "No tags.")


@click.command("history")
@click.argument("task_id", metavar="[ID]", type=click.IntRange(min=1), required=False, shell_complete=complete_ids)
@click.option("--limit", "-n", type=click.IntRange(1, 500), default=20, help="how many changes (default 20)")
@store_options
@json_option
def history_command(task_id: int | None, limit: int) -> None:
    """Show the latest changes, newest first (of one task with ID).

    \b
    Example:
      mcp-server-todo history
      mcp-server-todo history 12 -n 50
    """
    from ..render import change_line

    with settings().service() as service:
        if task_id is not None:
            service.get(task_id)  # a task that never existed: not found, not an empty history
        changes = service.history(task_id, limit)
    if settings().json:
        for c in changes:
            task = c.after or c.before
            row = {"change": c.id, "at": c.at, "op": c.op, "id": c.task_id, "title": task.title if task else None}
            click.echo(json.dumps({**row, "by": c.actor, "via": c.via}, ensure_ascii=False))
        return
    _lines([change_line(c) for c in changes], "No changes yet.")


def _rows(rows: list[dict[str, Any]], empty: str) -> None:
    if settings().json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        _lines([], empty)
        return
    keys = list(rows[0])
    cells = [[k.upper() for k in keys]] + [[str(row[k]) for k in keys] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    _lines(["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells], empty)


def _lines(lines: list[str], empty: str) -> None:
    from .display import print_line

    look = settings().look()
    for line in lines or [empty]:
        print_line(line, look)


COMMANDS = [
    list_command,
    today_command,
    overdue_command,
    week_command,
    upcoming_command,
    search_command,
    projects_command,
    tags_command,
    history_command,
]
