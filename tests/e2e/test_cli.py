"""The human CLI: add/list/done/undo on a real database file, exit codes, --help and
--version, and that the human commands never import the MCP SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support.env import subprocess_env
from support.lazy import top_level_modules_after

from mcp_server_todo import __version__
from mcp_server_todo.cli.main import main

PURPOSES = {
    "serve": "run the MCP server over stdio",
    "add": "add a task",
    "list": "list tasks",
    "done": "complete tasks by id",
    "undo": "revert the most recent change",
    "install": "add this server to an MCP client's configuration",
    "doctor": "check the store and the installed client entries",
    "backup": "copy the SQLite store, online",
    "restore": "replace the SQLite store by a backup",
}


def cli(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def python_m(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", *argv],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )


def table_rows(out: str) -> tuple[str, list[str]]:
    header, *rows = out.rstrip("\n").splitlines()
    return header, rows


def test_add_takes_reminders_and_refuses_a_bad_one(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = cli(
        capsys, db_path, "add", "Flight", "--due", "2099-12-01T08:00", "--remind", "2 hours before", "-r", "at due"
    )
    assert code == 0 and out.strip().endswith("| ⏰ 2h before, at due"), out
    code, _, err = cli(capsys, db_path, "add", "Call", "--remind", "1 hour before")
    assert code == 2 and "set due too" in err, err


def test_add_list_done_undo(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = cli(
        capsys, db_path, "add", "Buy", "milk", "-p", "high", "--due", "2099-12-01", "-P", "home", "-t", "errand"
    )
    assert code == 0
    assert out.strip() == "Added #1 Buy milk | high | due 2099-12-01 | +home | #errand"
    assert cli(capsys, db_path, "add", "Write report")[0] == 0
    assert db_path.is_file()

    code, out, _ = cli(capsys, db_path, "list")
    assert code == 0
    header, rows = table_rows(out)
    assert header.split() == ["ID", "PRI", "DUE", "PROJECT", "TITLE"]
    assert len(rows) == 2
    milk, report = rows
    # a readable table: every value starts under its heading
    for heading, value in (("PRI", "high"), ("DUE", "2099-12-01"), ("PROJECT", "home"), ("TITLE", "Buy milk")):
        assert milk.index(value) == header.index(heading), out
    assert report.index("inbox") == header.index("PROJECT")
    assert report.index("Write report") == header.index("TITLE")
    assert milk.startswith("1 ") and report.startswith("2 ")
    assert "#errand" in milk

    code, out, _ = cli(capsys, db_path, "done", "1")
    assert code == 0 and out.startswith("Completed #1 Buy milk")
    code, out, _ = cli(capsys, db_path, "done", "1")
    assert code == 0 and out.startswith("Already done: #1")
    _, rows = table_rows(cli(capsys, db_path, "list")[1])
    assert [row.split()[0] for row in rows] == ["2"]
    _, rows = table_rows(cli(capsys, db_path, "ls", "--status", "done")[1])
    assert len(rows) == 1 and rows[0].startswith("1 ") and rows[0].endswith("[done]")

    code, out, _ = cli(capsys, db_path, "undo")
    assert code == 0 and out.strip() == "Undid complete of #1 Buy milk"
    _, rows = table_rows(cli(capsys, db_path, "list")[1])
    assert [row.split()[0] for row in rows] == ["1", "2"]


def test_done_takes_several_ids(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    for title in ("a", "b", "c"):
        cli(capsys, db_path, "add", title)
    code, out, _ = cli(capsys, db_path, "done", "1", "3")
    assert code == 0 and len(out.splitlines()) == 2
    _, rows = table_rows(cli(capsys, db_path, "list")[1])
    assert [row.split()[0] for row in rows] == ["2"]


def test_empty_list_says_so(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = cli(capsys, db_path, "list")
    assert code == 0 and out.strip() == "No tasks."


def test_db_from_the_environment_and_after_the_subcommand(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_db = tmp_path / "env.db"
    monkeypatch.setenv("TODO_DB", str(env_db))
    assert main(["add", "from env"]) == 0
    assert env_db.is_file()
    flag_db = tmp_path / "flag.db"
    assert main(["list", "--db", str(flag_db)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "No tasks."
    assert flag_db.is_file()


# -- exit codes ----------------------------------------------------------------------------------


def test_unknown_id_exits_3(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, err = cli(capsys, db_path, "done", "999")
    assert code == 3
    assert out == "" and "999" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [["add", "x", "--due", "someday maybe"], ["list", "--limit", "0"], ["add", " "]],
    ids=["bad-due", "bad-limit", "blank-title"],
)
def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str], db_path: Path, argv: list[str]) -> None:
    code, _, err = cli(capsys, db_path, *argv)
    assert code == 2
    assert err.startswith("mcp-server-todo: ") and "Traceback" not in err


@pytest.mark.parametrize("argv", [["done", "abc"], ["list", "--status", "later"], ["nope"]])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], db_path: Path, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db_path), *argv])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_nothing_to_undo_exits_1(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, _, err = cli(capsys, db_path, "undo")
    assert code == 1 and "nothing to undo" in err


@pytest.mark.slow
def test_exit_codes_of_the_real_process(isolated_env: Path, db_path: Path) -> None:
    assert python_m(isolated_env, "--db", str(db_path), "add", "t").returncode == 0
    missing = python_m(isolated_env, "--db", str(db_path), "done", "42")
    assert missing.returncode == 3 and missing.stdout == ""
    assert missing.stderr.strip().startswith("mcp-server-todo: ") and "Traceback" not in missing.stderr
    assert python_m(isolated_env, "--db", str(db_path), "add", "t", "--due", "never").returncode == 2
    assert python_m(isolated_env, "--db", str(db_path), "done", "x").returncode == 2


# -- help and version ----------------------------------------------------------------------------


def test_top_level_help_lists_every_command_with_its_purpose(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for command, purpose in PURPOSES.items():
        listed = "list (ls)" if command == "list" else command
        assert f"{listed} {purpose}" in out, command


@pytest.mark.parametrize("command", sorted(PURPOSES))
def test_every_subcommand_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: mcp-server-todo {command} ")
    assert "--db" in out


@pytest.mark.parametrize(
    "command",
    sorted(PURPOSES),
)
def test_every_subcommand_help_states_its_purpose(capsys: pytest.CaptureFixture[str], command: str) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split()).lower()
    assert PURPOSES[command].lower() in out


def test_every_command_has_a_handler_in_the_table() -> None:
    """The parser and the command table (cli/main.py) name the same commands, and every
    entry resolves to a handler in its family module."""
    import argparse

    from mcp_server_todo.cli.main import COMMANDS, build_parser, handler_of

    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(sub.choices) == set(COMMANDS)
    assert all(callable(handler_of(command)) for command in COMMANDS)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"mcp-server-todo {__version__}"


@pytest.mark.slow
def test_version_of_the_real_process(isolated_env: Path) -> None:
    done = python_m(isolated_env, "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"mcp-server-todo {__version__}"
    script = Path(sys.executable).absolute().parent / "mcp-server-todo"
    if script.exists():
        run = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stdout.strip() == f"mcp-server-todo {__version__}"


# -- lazy imports --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["list"], ["add", "x"]], ids=["list", "add"])
def test_human_commands_do_not_import_the_sdk(isolated_env: Path, db_path: Path, argv: list[str]) -> None:
    loaded = top_level_modules_after(isolated_env, ["--db", str(db_path), *argv])
    assert "mcp_server_todo" in loaded
    assert "mcp" not in loaded


@pytest.mark.slow
def test_help_loads_neither_the_sdk_nor_pydantic(isolated_env: Path) -> None:
    """`--help` and a command's help answer at once: no MCP SDK, no pydantic (the format
    registry the help names is read without loading the task model)."""
    loaded = top_level_modules_after(isolated_env, ["--help"], ["import", "--help"], ["export", "--help"])
    assert "argparse" in loaded
    assert not {"mcp", "pydantic", "starlette"} & loaded, loaded
