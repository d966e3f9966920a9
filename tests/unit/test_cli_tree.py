"""The command tree itself: every command's help has an example (as sqlite-utils checks),
aliases, -V, usage errors (exit 2, one line), and shell completion (scripts for bash, zsh and
fish; ids, projects and tags from the store)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.shell_completion import BashComplete
from click.testing import CliRunner
from support.cli import on, run_cli

from mcp_server_todo import __version__
from mcp_server_todo.cli.app import ALIASES, root
from mcp_server_todo.cli.main import main


def every_command(group: click.Group = root, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += every_command(command, (*path, name))
    return found


COMMANDS = every_command()


def test_the_tree_has_the_commands_of_the_issue() -> None:
    names = {path[0] for path in COMMANDS}
    wanted = "add list show edit done reopen delete restore trash undo history projects tags search today overdue"
    wanted += " week upcoming import export install doctor token backup serve completion"
    assert set(wanted.split()) <= names
    assert {("trash", "list"), ("trash", "empty"), ("token", "create"), ("token", "list")} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    ran = run_cli(*path, "--help")
    assert ran.code == 0, ran.err
    assert "Example" in ran.out and "mcp-server-todo " in ran.out.split("Example", 1)[1], ran.out


def test_top_level_help_lists_commands_with_their_aliases() -> None:
    ran = run_cli("--help")
    assert ran.code == 0
    text = " ".join(ran.out.split())
    assert "list (ls) List tasks" in text and "delete (rm, del)" in text and "Exit codes" in text
    for alias, name in ALIASES.items():
        assert root.get_command(click.Context(root), alias) is root.commands[name]


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    ran = run_cli(flag)
    assert ran.code == 0 and ran.out.strip() == f"mcp-server-todo {__version__}"


@pytest.mark.parametrize(
    "argv",
    [["done", "abc"], ["list", "--status", "later"], ["nope"], ["done"], ["undo", "99"], ["--color", "pink", "list"]],
)
def test_usage_errors_exit_2_with_one_line(db_path: Path, argv: list[str]) -> None:
    ran = on(db_path, *argv)
    assert ran.code == 2 and ran.out == ""
    assert ran.err.startswith("mcp-server-todo: ") and len(ran.err.splitlines()) == 1, ran.err
    assert "--help" in ran.err and "Traceback" not in ran.err


def test_a_store_that_cannot_open_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    ran = on(junk, "list")
    assert ran.code == 1 and len(ran.err.splitlines()) == 1 and "Traceback" not in ran.err


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_shells_script(shell: str) -> None:
    ran = run_cli("completion", shell)
    assert ran.code == 0 and f"_MCP_SERVER_TODO_COMPLETE={shell}_complete" in ran.out


def completions(db: Path, args: list[str], incomplete: str) -> list[str]:
    complete = BashComplete(root, {}, "mcp-server-todo", "_MCP_SERVER_TODO_COMPLETE")
    return [item.value for item in complete.get_completions(["--db", str(db), *args], incomplete)]


def test_completion_offers_ids_projects_and_tags_from_the_store(db_path: Path) -> None:
    on(db_path, "add", "a", "-P", "work", "-t", "phone")
    on(db_path, "add", "b", "-P", "home", "-t", "errand")
    on(db_path, "add", "c")
    on(db_path, "done", "3")
    assert completions(db_path, ["done"], "") == ["1", "2"]
    assert completions(db_path, ["list", "-P"], "w") == ["work"]
    assert sorted(completions(db_path, ["add", "x", "--tag"], "")) == ["errand", "phone"]
    assert "list" in completions(db_path, [], "li")
    on(db_path, "rm", "2")
    assert completions(db_path, ["restore"], "") == ["2"]
    assert completions(db_path.parent / "missing" / "no.db", ["done"], "") == []  # no store: nothing, no error


def test_the_console_script_answers_the_shells_completion_request(db_path: Path) -> None:
    """With _MCP_SERVER_TODO_COMPLETE set, even a bare command line goes to click (not the
    stdio server), which prints the candidates and exits."""
    on(db_path, "add", "a", "-P", "garden")
    env = {"_MCP_SERVER_TODO_COMPLETE": "bash_complete", "COMP_WORDS": "mcp-server-todo list -P g", "COMP_CWORD": "3"}
    with (
        CliRunner().isolation(env={**env, "TODO_DB": str(db_path)}) as (out, _, _),
        pytest.raises(SystemExit) as exited,
    ):
        main([])
    assert exited.value.code == 0
    assert out.getvalue().decode().split() == ["plain,garden"]


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["--user", "alice", "list"], "list"), (["--color", "never", "ls"], "ls"), (["--db", "x.db"], None)],
)
def test_the_command_word_skips_global_values(argv: list[str], command: str | None) -> None:
    from mcp_server_todo.cli.serve_args import command_of

    assert command_of(argv) == command


def test_a_bug_is_one_line_unless_debugging(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_server_todo.service import TodoService

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(TodoService, "list_tasks", broken)
    ran = on(db_path, "list")
    assert (
        ran.code == 1
        and ran.err == "mcp-server-todo: unexpected error: RuntimeError: boom (TODO_DEBUG=1 shows where)\n"
    )
    monkeypatch.setenv("TODO_DEBUG", "1")
    with pytest.raises(RuntimeError):
        on(db_path, "list")
