"""The prompts: plan_my_day, weekly_review, triage_inbox. Each pulls the tasks it is about into
the message, one compact line each (render.task_line, with its #id), under short instructions,
so the model can start at once and answer with tool calls on those ids.

Also the one completion handler of the server: project names, tags and task ids, for any
prompt argument or resource-template variable of that name (project, tag, id).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)
from pydantic import Field

from ..errors import TodoError
from ..model import Priority, Status, Task
from ..render import task_line
from ..service import TodoService
from .context import AppState, Ctx, service_of
from .offload import offload
from .resources import TASK

SECTION_MAX = 50
COMPLETION_MAX = 100

ProjectArg = Annotated[str | None, Field(description="Only this project (default: all).")]
TagArg = Annotated[str | None, Field(description="Only tasks with this tag.")]


def _section(title: str, tasks: list[Task], total: int | None = None) -> list[str]:
    if not tasks:
        return []
    shown = tasks[:SECTION_MAX]
    more = (total if total is not None else len(tasks)) - len(shown)
    return ["", f"## {title}", *(task_line(t) for t in shown), *([f"(+{more} more)"] if more > 0 else [])]


def _opt(value: str | None) -> str | None:
    """Clients send "" for an optional argument left empty."""
    if value is None or not value.strip():
        return None
    return value.strip()


async def _render(ctx: Ctx, build: Callable[[TodoService], str]) -> str:
    try:
        return await offload(service_of(ctx), build)
    except TodoError as exc:
        raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None


def _scope(project: str | None, tag: str | None) -> str:
    parts = [f"project {project}" if project else "", f"tag #{tag}" if tag else ""]
    return " in " + " and ".join(p for p in parts if p) if project or tag else ""


def plan_text(service: TodoService, project: str | None, tag: str | None) -> str:
    day = service.today()
    overdue = service.list_tasks(due="overdue", sort="due", project=project, tag=tag, limit=200)
    today = service.list_tasks(due="today", sort="due", project=project, tag=tag, limit=200)
    shown = {t.id for t in overdue.items}
    due_today = [t for t in today.items if t.id not in shown]
    shown |= {t.id for t in due_today}
    by_priority = service.list_tasks(sort="priority", project=project, tag=tag, limit=200)
    high = [t for t in by_priority.items if t.priority is Priority.high and t.id not in shown]
    shown |= {t.id for t in high}
    urgent = service.list_tasks(sort="urgency", project=project, tag=tag, limit=len(shown) + 10)
    next_up = [t for t in urgent.items if t.id not in shown][:10]
    lines = [
        f"Help me plan my day, {day.strftime('%A')} {day.isoformat()}{_scope(project, tag)}. Below are my "
        "overdue tasks, tasks due today, high-priority tasks and the next most urgent ones, one per line with "
        "its #id. Suggest a realistic order for today: the few things to do first, what fits in between, and "
        "what to reschedule or drop. Change nothing until I agree; then use complete_item or update_item "
        "(due, priority) with the #ids.",
        *_section("Overdue", overdue.items, overdue.total),
        *_section("Due today", due_today),
        *_section("High priority", high),
        *_section("Next by urgency", next_up),
    ]
    if len(lines) == 1:
        lines += ["", f"Nothing is pending{_scope(project, tag)}: ask me what I want to get done today."]
    lines += ["", f"({by_priority.total} pending in all; list_items shows the rest.)"]
    return "\n".join(lines)


def review_text(service: TodoService, project: str | None) -> str:
    now = service.now()
    since = (now - timedelta(days=7)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    done: dict[int, Task] = {}
    for change in service.history(None, 500):
        if change.at < since:
            break
        if change.op == "complete" and change.task_id not in done:
            try:
                task = service.get(change.task_id)
            except TodoError:
                continue
            if task.status is Status.done and (project is None or task.project == project):
                done[task.id] = task
    overdue = service.list_tasks(due="overdue", sort="due", project=project, limit=200)
    week = service.list_tasks(due="this_week", sort="due", project=project, limit=200)
    shown = {t.id for t in overdue.items}
    this_week = [t for t in week.items if t.id not in shown]
    pending = service.list_tasks(project=project, limit=1).total
    lines = [
        f"Let's do my weekly review{_scope(project, None)} (today is {now.date().isoformat()}). First sum up "
        "what I finished in the last 7 days. Then go through what is overdue or due this week: for each, "
        "suggest keep, reschedule (a new due date) or drop. End with up to 3 priorities for next week. "
        "Change nothing until I agree; then use update_item, complete_item or delete_item with the #ids.",
        *_section("Done in the last 7 days", list(done.values())),
        *_section("Overdue", overdue.items, overdue.total),
        *_section("Due this week", this_week),
        "",
        f"({pending} pending in all; list_items shows them.)",
    ]
    return "\n".join(lines)


def triage_text(service: TodoService, project: str) -> str:
    page = service.list_tasks(project=project, limit=SECTION_MAX)
    projects = [name for name, _, _ in service.projects() if name != project]
    tags = [tag for tag, _ in service.tags()[:30]]
    if not page.items:
        return f"My {project} is empty: nothing to triage. Ask me whether there is anything to add."
    lines = [
        f"Help me triage my {project}: {page.total} pending task(s), listed below with their #ids. For each, "
        "suggest a project, a priority, a due date if it has a deadline, and tags; or deleting it if it is "
        "stale, or splitting it if it is really several tasks. Group the tasks that get the same change and "
        "show the plan as a short table. After I agree, apply it group by group with "
        "update_item(ids=[...], ...), or delete_item for the ones to drop.",
        *_section(f"{project} ({page.total})", page.items, page.total),
        "",
        f"Existing projects: {', '.join(projects) if projects else 'none yet'}.",
        f"Tags in use: {', '.join(tags) if tags else 'none yet'}.",
    ]
    return "\n".join(lines)


def register(server: MCPServer[AppState], service: Callable[[], TodoService]) -> None:
    @server.prompt(title="Plan my day")
    async def plan_my_day(ctx: Ctx, project: ProjectArg = None, tag: TagArg = None) -> str:
        """Plan today from the overdue, due-today and high-priority tasks."""
        return await _render(ctx, lambda s: plan_text(s, _opt(project), _opt(tag)))

    @server.prompt(title="Weekly review")
    async def weekly_review(ctx: Ctx, project: ProjectArg = None) -> str:
        """Review the week: what got done in the last 7 days, what is overdue or due this week."""
        return await _render(ctx, lambda s: review_text(s, _opt(project)))

    @server.prompt(title="Triage the inbox")
    async def triage_inbox(
        ctx: Ctx, project: Annotated[str | None, Field(description="The project to triage (default inbox).")] = None
    ) -> str:
        """Sort the inbox: a project, priority, due date and tags for each task, or drop it."""
        return await _render(ctx, lambda s: triage_text(s, _opt(project) or "inbox"))

    async def complete(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        if isinstance(ref, ResourceTemplateReference) and ref.uri != TASK:
            return None
        values = await offload(service(), lambda s: candidates(s, argument.name, argument.value))
        if values is None:
            return None
        return Completion(values=values[:COMPLETION_MAX], total=len(values), has_more=len(values) > COMPLETION_MAX)

    # MCPServer.completion is untyped in this SDK; the handler itself is fully typed.
    handler: Callable[[object], object] = server.completion()  # type: ignore[no-untyped-call]
    handler(complete)


def candidates(service: TodoService, name: str, typed: str) -> list[str] | None:
    """Completion values for an argument named project, tag or id; None for any other."""
    typed = typed.strip()
    folded = typed.casefold()
    names: list[str]
    if name == "project":
        names = [project for project, _, _ in service.projects()]
    elif name == "tag":
        names = [tag for tag, _ in service.tags()]
    elif name == "id":
        tasks = service.list_tasks(sort="urgency", limit=500).items
        if typed.isdigit() or not typed:
            return [str(t.id) for t in tasks if str(t.id).startswith(typed)]
        return [str(t.id) for t in tasks if folded in t.title.casefold()]
    else:
        return None
    first = [n for n in names if n.casefold().startswith(folded)]
    return first + [n for n in names if folded in n.casefold() and n not in first]
