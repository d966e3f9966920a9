"""Shell completion (click's, for bash, zsh and fish): task ids, project names and tags read
from the store, and `completion SHELL`, which prints the script to source.

A completion reads the store named by --db (or TODO_DB) on the line typed so far; any failure
(no store yet, a locked file) completes nothing rather than print an error into the shell.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from ..service import TodoService

SHELLS = ("bash", "zsh", "fish")
COMPLETION_LIMIT = 200
"""At most this many ids are offered (the most recent pending ones)."""


def _from_store(ctx: click.Context, read: Callable[[TodoService], list[CompletionItem]]) -> list[CompletionItem]:
    from .context import Settings

    try:
        with ctx.ensure_object(Settings).service() as service:
            return read(service)
    except Exception:  # completion must never print into the shell
        return []


def _ids(status: str) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        def read(service: TodoService) -> list[CompletionItem]:
            page = service.list_tasks(status=status, limit=COMPLETION_LIMIT)
            return [
                CompletionItem(str(task.id), help=task.title[:60])
                for task in page.items
                if str(task.id).startswith(incomplete)
            ]

        return _from_store(ctx, read)

    return complete


complete_ids = _ids("pending")
"""Pending task ids (with their titles as help, which zsh and fish show)."""
complete_trash = _ids("deleted")
"""The ids in the trash (`restore`)."""


def complete_projects(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    def read(service: TodoService) -> list[CompletionItem]:
        return [CompletionItem(name) for name, _, _ in service.projects() if name.startswith(incomplete)]

    return _from_store(ctx, read)


def complete_tags(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    def read(service: TodoService) -> list[CompletionItem]:
        return [CompletionItem(name) for name, _ in service.tags() if name.startswith(incomplete)]

    return _from_store(ctx, read)


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS), required=False)
def completion_command(shell: str | None) -> None:
    """Print the shell completion script for bash, zsh or fish.

    Completes commands, options, task ids, project names and tags (read from the store).

    \b
    Example:
      eval "$(mcp-server-todo completion bash)"     # in ~/.bashrc
      eval "$(mcp-server-todo completion zsh)"      # in ~/.zshrc
      mcp-server-todo completion fish > ~/.config/fish/completions/mcp-server-todo.fish
    """
    from click.shell_completion import get_completion_class

    name = shell or os.path.basename(os.environ.get("SHELL", "")) or "bash"
    if name not in SHELLS:
        raise click.UsageError(f"shell {name!r} is not one of {', '.join(SHELLS)}; name it: completion bash")
    root: Any = click.get_current_context().find_root().command
    cls = get_completion_class(name)
    assert cls is not None  # the three are click's own
    from .main import COMPLETE_VAR

    click.echo(cls(root, {}, "mcp-server-todo", COMPLETE_VAR).source())
