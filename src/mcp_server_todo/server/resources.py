"""The resources: live views of the list that a client can read, attach and subscribe to.

    todo://tasks/pending   Markdown, one line per pending task (render.task_line), oldest first
    todo://today           Markdown, overdue tasks then tasks due today
    todo://projects        Markdown, every project with its pending and done counts
    todo://tasks/{id}      JSON, one task: the same object the tools return in structuredContent

Lists are Markdown because a model reads them best as the compact lines the tools print.
One task is JSON because it is a record: every field, losslessly (notes with their line
breaks, due_tz, depends_on, timestamps), in the one schema clients already know from the
tools' structured output, so a client can parse it as well as show it.

resources/list holds the three views plus one entry per pending task (the most urgent
`LISTED_TASKS`), so a client can offer tasks for attaching; live.py sends list_changed when
that set changes. Any task, pending or not, can be read through the template.

The three views have static URIs, and a static resource cannot take the request's Context
in this SDK, so `View` reads through `service`, a callable that returns the service of the
running server (see live.Live.service).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.server.mcpserver.resources import Resource
from pydantic import Field

from ..errors import TodoError
from ..model import Task
from ..render import one_line, task_line
from ..service import TodoService
from .context import AppState, Ctx, service_of
from .offload import offload

PENDING = "todo://tasks/pending"
TODAY = "todo://today"
PROJECTS = "todo://projects"
TASK = "todo://tasks/{id}"
TASK_PREFIX = "todo://tasks/"
VIEWS = (PENDING, TODAY, PROJECTS)
LISTED_TASKS = 100
VIEW_MAX = 500
MARKDOWN = "text/markdown"

_T = TypeVar("_T")


def task_uri(task_id: int) -> str:
    return f"{TASK_PREFIX}{task_id}"


# -- rendering ------------------------------------------------------------------------


def _bullets(tasks: list[Task]) -> list[str]:
    return [f"- {task_line(task)}" for task in tasks]


def pending_markdown(service: TodoService) -> str:
    page = service.list_tasks(status="pending", limit=VIEW_MAX)
    if not page.items:
        return "# Pending tasks\n\nNothing pending."
    more = f"; the oldest {len(page.items)} shown, list_items pages through all" if page.total > len(page.items) else ""
    return "\n".join(["# Pending tasks", "", *_bullets(page.items), "", f"({page.total} pending{more})"])


def today_markdown(service: TodoService) -> str:
    day = service.today()
    overdue = service.list_tasks(due="overdue", sort="due", limit=VIEW_MAX).items
    shown = {task.id for task in overdue}
    due_today = [t for t in service.list_tasks(due="today", sort="due", limit=VIEW_MAX).items if t.id not in shown]
    lines = [f"# Today, {day.strftime('%a')} {day.isoformat()}"]
    if overdue:
        lines += ["", "## Overdue", *_bullets(overdue)]
    if due_today:
        lines += ["", "## Due today", *_bullets(due_today)]
    if not overdue and not due_today:
        lines += ["", "Nothing overdue or due today."]
    return "\n".join(lines)


def projects_markdown(service: TodoService) -> str:
    projects = service.projects()
    if not projects:
        return "# Projects\n\nNo projects yet: tasks go to inbox unless given a project."
    rows = [f"- {name}: {pending} pending, {done} done" for name, pending, done in projects]
    return "\n".join(["# Projects", "", *rows])


def task_json(task: Task) -> str:
    return json.dumps(task.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def listed_tasks(service: TodoService) -> list[dict[str, Any]]:
    """resources/list entries (wire form) for the most urgent pending tasks."""
    tasks = service.list_tasks(status="pending", sort="urgency", limit=LISTED_TASKS).items
    return [
        {"uri": task_uri(task.id), "name": f"#{task.id} {one_line(task.title)}"[:120], "mimeType": "application/json"}
        for task in tasks
    ]


# -- registration ---------------------------------------------------------------------


class View(Resource):
    """A static resource rendered from the store on every read."""

    render: Callable[[TodoService], str] = Field(exclude=True)
    service: Callable[[], TodoService] = Field(exclude=True)

    async def read(self) -> str:
        try:
            return await offload(self.service(), self.render)
        except TodoError as exc:  # a storage fault: its one line, not "Error reading resource"
            raise ResourceError(str(exc)) from None


def register(server: MCPServer[AppState], service: Callable[[], TodoService]) -> None:
    views = [
        (PENDING, "pending", "Pending tasks", "Every pending task, one line each with its #id.", pending_markdown),
        (TODAY, "today", "Today", "Overdue tasks and tasks due today.", today_markdown),
        (PROJECTS, "projects", "Projects", "Projects with their pending and done counts.", projects_markdown),
    ]
    for uri, name, title, description, render in views:
        server.add_resource(
            View(
                uri=uri,
                name=name,
                title=title,
                description=description,
                mime_type=MARKDOWN,
                render=render,
                service=service,
            )
        )

    @server.resource(
        TASK,
        name="task",
        title="One task",
        description="One task by id (any status), as JSON with every field.",
        mime_type="application/json",
    )
    async def task(id: str, ctx: Ctx) -> str:
        if not id.isascii() or not id.isdigit():
            raise ResourceNotFoundError(f"no task {id!r}: ids are numbers, as in todo://tasks/12")
        try:
            found = await offload(service_of(ctx), lambda s: s.get(int(id)))
        except TodoError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return task_json(found)
