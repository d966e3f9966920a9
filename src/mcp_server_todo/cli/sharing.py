"""Shared projects on a multi-user store, for an operator or a user with `--user`: `share
PROJECT USER`, `unshare PROJECT USER` and `shares` (the MCP tools of the "share" group; the
rules are the service's)."""

from __future__ import annotations

import json

import click

from .completion import complete_projects
from .context import count, json_option, say, settings, store_options


@click.command("share")
@click.argument("project", shell_complete=complete_projects)
@click.argument("member", metavar="USER")
@store_options
def share_command(project: str, member: str) -> None:
    """Share one of your projects with another user of the store: they see and change its
    tasks in their own lists, as the project "you/PROJECT".

    \b
    Example:
      mcp-server-todo --user alice share garden bob
    """
    with settings().service() as service:
        share, tasks = service.share_project(project, member)
    say(f"Shared {share.project} ({count(tasks, 'task')}) with {share.member}, who sees it as {share.mount}.")


@click.command("unshare")
@click.argument("project", shell_complete=complete_projects)
@click.argument("member", metavar="USER")
@store_options
def unshare_command(project: str, member: str) -> None:
    """Stop sharing one of your projects with a user (your tasks stay, with their changes).

    \b
    Example:
      mcp-server-todo --user alice unshare garden bob
    """
    with settings().service() as service:
        removed = service.unshare_project(project, member)
    say(f"{member} no longer sees {project} ({count(removed, 'task')} removed from their lists).")


@click.command("shares")
@store_options
@json_option
def shares_command() -> None:
    """Show which of your projects you share, and which projects others share with you.

    \b
    Example:
      mcp-server-todo --user bob shares --json
    """
    from .display import print_line

    run = settings()
    with run.service() as service:
        mine, with_me = service.shares()
    if run.json:
        for share in mine + with_me:
            row = {"owner": share.owner, "project": share.project, "member": share.member, "seen_as": share.mount}
            click.echo(json.dumps({**row, "since": share.created_at}, ensure_ascii=False))
        return
    lines = [f"{s.project} -> {s.member} (sees {s.mount})" for s in mine]
    lines += [f"{s.mount}: shared by {s.owner}" for s in with_me]
    for line in lines or ["No shared projects."]:
        print_line(line, run.look())


COMMANDS = [share_command, unshare_command, shares_command]
