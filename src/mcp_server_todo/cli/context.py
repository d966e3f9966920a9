"""What every command of the tree shares: the run's settings (`Settings`: --db, --tz, --user,
--color, --json, --quiet, given before the command or after it), the service they open, the
options that take ids, and the one-line reports of what a command changed.

Nothing here imports the service, the store or rich at module import: `--help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from ..model import Task
    from ..service import TodoService
    from .display import ColorChoice, Look

F = TypeVar("F", bound=Callable[..., Any])

SHOWN = 5
"""A bulk command lists at most this many tasks under its summary line, then "and N more"."""


@dataclass
class Settings:
    """The options of this run (the root group's, overridden by the same options after the command)."""

    db: str | None = None
    tz: str | None = None
    user: str | None = None
    color: ColorChoice = "auto"
    json: bool = False
    quiet: bool = False

    def look(self) -> Look:
        from .display import look_for

        return look_for("never" if self.json else self.color, self.tz)

    @contextmanager
    def service(self) -> Iterator[TodoService]:
        """The service on the store, acting for --user (the local user without it)."""
        from ..config import Config
        from ..model import clean_user
        from ..service import TodoService
        from ..store import LOCAL_OWNER, open_store

        config = Config.resolve(self.db, self.tz)
        owner = clean_user(self.user) if self.user else LOCAL_OWNER
        store = open_store(config.store_url)
        try:
            yield TodoService(store, owner=owner, tz=config.tz)
        finally:
            store.close()

    def other_users(self) -> list[str]:
        """The users of this store's tokens (`token create USER`) other than the local one, when
        the local user has no tasks at all: on a hosted store "No tasks." would mislead."""
        if self.user:
            return []
        from ..config import Config
        from ..store import LOCAL_OWNER, open_token_store

        with self.service() as service:
            if service.list_tasks(status="all", limit=1).total:
                return []

        tokens = open_token_store(Config.resolve(self.db).store_url)
        try:
            return sorted({token.user for token in tokens.tokens() if token.user != LOCAL_OWNER})
        finally:
            tokens.close()


def settings() -> Settings:
    """This run's settings (the root group made them)."""
    return click.get_current_context().ensure_object(Settings)


def _set(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None and value is not False:
            setattr(ctx.ensure_object(Settings), name, value)

    return store


def store_options(func: F) -> F:
    """--db, --tz and --user, accepted after the command too (`list --db x.db`)."""
    func = click.option(
        "--user", metavar="NAME", expose_value=False, callback=_set("user"), help="act for this user of the store"
    )(func)
    func = click.option(
        "--tz", metavar="ZONE", expose_value=False, callback=_set("tz"), help="time zone, e.g. Europe/Paris"
    )(func)
    return click.option(
        "--db", metavar="PATH|URL", expose_value=False, callback=_set("db"), help="the task store (env TODO_DB)"
    )(func)


def json_option(func: F) -> F:
    """--json: JSON lines on stdout, one object per line (keys in the README's CLI section)."""
    return click.option(
        "--json", "json_", is_flag=True, expose_value=False, callback=_set("json"), help="JSON lines, one per task"
    )(func)


# ---- what a command changed, in a few lines ----------------------------------------------


def report(verb: str, tasks: list[Task], *, noun: str = "task") -> None:
    """ "Completed #3 Title" for one task; for several, one summary line ("Completed 3 tasks"),
    then at most `SHOWN` of them and "and N more". With --json: the tasks, one per line."""
    from ..render import task_line
    from .display import print_json_lines, print_line

    run = settings()
    if run.json:
        print_json_lines(tasks)
        return
    if run.quiet:
        return
    look = run.look()
    if len(tasks) == 1:
        print_line(f"{verb} {task_line(tasks[0])}", look)
        return
    print_line(f"{verb} {count(len(tasks), noun)}", look)
    for task in tasks[:SHOWN]:
        print_line(f"  {task_line(task)}", look)
    if len(tasks) > SHOWN:
        print_line(f"  and {len(tasks) - SHOWN:,} more", look)


def count(number: int, noun: str) -> str:
    """`1 task`, `200,000 tasks`."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def say(text: str) -> None:
    """A message line on stdout (none with --quiet or --json: stdout is then for data)."""
    run = settings()
    if not run.quiet and not run.json:
        from .display import print_line

        print_line(text, run.look())


def note(text: str) -> None:
    """An aside on stderr (advice, a count of what was left out)."""
    if not settings().quiet:
        click.echo(text, err=True)


def ids_argument(func: F) -> F:
    """IDS...: one or more task ids, completed from the store."""
    from .completion import complete_ids

    return click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1), shell_complete=complete_ids)(func)
