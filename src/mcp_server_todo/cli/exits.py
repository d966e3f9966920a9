"""The command line's exit codes and its one-line error messages (no click here: the serve
path uses them too).

    0  ok
    1  not found (no such task, project, token or backup), or another failure we can explain
    2  usage: a bad option, argument or value
    3  conflict: valid, but the task's state forbids it (open subtasks, nothing to undo, a file
       that exists without --force)
"""

from __future__ import annotations

import re
import sys

from ..errors import Conflict, InvalidInput, NotFound, TodoError

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3

_FOR_PEOPLE = (
    # the service speaks to a model; a person runs a command instead
    (r"call list_items without a cursor", "run the command again"),
    (r"call list_items", "run `mcp-server-todo list --all`"),
    (r"call complete_item again with with_subtasks=true", "add --with-subtasks"),
    (r"call list_shares", "run `mcp-server-todo shares`"),
    (
        r"task (\d+) is in the trash; pass status='pending' to restore it \(or call undo\)",
        r"task \1 is in the trash; run `mcp-server-todo restore \1` first",
    ),
    (r"restore it with update_item\(id=(\d+), status='pending'\)", r"run `mcp-server-todo restore \1`"),
    (r"one call (adds|handles) at most", r"one command \1 at most"),
    (r"more than one call changes", "more than one command changes"),
)


def message_of(exc: TodoError) -> str:
    """The error as a person reads it: the MCP tool advice turned into commands and flags."""
    message = str(exc)
    for model_words, person_words in _FOR_PEOPLE:
        message = re.sub(model_words, person_words, message)
    return " ".join(message.split()) or type(exc).__name__


def exit_code_of(exc: TodoError) -> int:
    if isinstance(exc, InvalidInput):
        return EXIT_USAGE
    if isinstance(exc, Conflict):
        return EXIT_CONFLICT
    return EXIT_NOT_FOUND if isinstance(exc, NotFound) else 1


def fail(exc: TodoError) -> int:
    """Print the error's one line on stderr; its exit code."""
    print(f"mcp-server-todo: {message_of(exc)}", file=sys.stderr)
    return exit_code_of(exc)
