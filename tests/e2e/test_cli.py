"""The command line as a real process: exit codes and --version of `python -m mcp_server_todo`,
and what each path imports (human commands never the MCP SDK, --help neither the SDK nor
pydantic, the stdio server neither click nor rich). The commands themselves are tested
in-process: tests/unit/test_cli_*.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.env import subprocess_env
from support.lazy import top_level_modules_after

from mcp_server_todo import __version__


def python_m(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", *argv],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=60,
    )


@pytest.mark.slow
def test_exit_codes_of_the_real_process(isolated_env: Path, db_path: Path) -> None:
    assert python_m(isolated_env, "--db", str(db_path), "add", "t").returncode == 0
    missing = python_m(isolated_env, "--db", str(db_path), "done", "42")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip().startswith("mcp-server-todo: ") and "Traceback" not in missing.stderr
    assert python_m(isolated_env, "--db", str(db_path), "add", "t", "--due", "never").returncode == 2
    assert python_m(isolated_env, "--db", str(db_path), "done", "x").returncode == 2
    assert python_m(isolated_env, "--db", str(db_path), "undo", "2").returncode == 0
    conflict = python_m(isolated_env, "--db", str(db_path), "undo")
    assert conflict.returncode == 3 and len(conflict.stderr.splitlines()) == 1


@pytest.mark.slow
def test_version_of_the_real_process(isolated_env: Path) -> None:
    for flag in ("--version", "-V"):
        done = python_m(isolated_env, flag)
        assert done.returncode == 0 and done.stdout.strip() == f"mcp-server-todo {__version__}"
    script = Path(sys.executable).absolute().parent / "mcp-server-todo"
    if script.exists():
        run = subprocess.run([str(script), "-V"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and run.stdout.strip() == f"mcp-server-todo {__version__}"


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["list"], ["add", "x"]], ids=["list", "add"])
def test_human_commands_do_not_import_the_sdk(isolated_env: Path, db_path: Path, argv: list[str]) -> None:
    loaded = top_level_modules_after(isolated_env, ["--db", str(db_path), *argv])
    assert "mcp_server_todo" in loaded and "click" in loaded
    assert "mcp" not in loaded


@pytest.mark.slow
def test_help_loads_neither_the_sdk_nor_pydantic(isolated_env: Path) -> None:
    """`--help` and a command's help answer at once: no MCP SDK, no pydantic (the format
    registry the help names is read without loading the task model), no rich."""
    loaded = top_level_modules_after(isolated_env, ["--help"], ["import", "--help"], ["export", "--help"])
    assert "click" in loaded
    assert not {"mcp", "pydantic", "starlette", "rich"} & loaded, loaded


_STDIO = """
import json, sys
from mcp_server_todo.cli import main, serve, serve_args
assert serve_args.command_of(sys.argv[1:]) in (None, "serve")
serve_args.serve_parser().parse_args([a for a in sys.argv[1:] if a != "serve"])
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


@pytest.mark.slow
@pytest.mark.parametrize("argv", [[], ["serve", "--http"]], ids=["stdio", "serve"])
def test_the_serve_path_imports_neither_click_nor_rich(isolated_env: Path, argv: list[str]) -> None:
    """No command (the stdio server) and `serve` are parsed on argparse's fast path: up to the
    SDK's own imports (its logging set-up tries rich), neither click nor rich is loaded."""
    done = subprocess.run(
        [sys.executable, "-c", _STDIO, *argv],
        capture_output=True,
        text=True,
        env=subprocess_env(isolated_env),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert "argparse" in loaded and not {"click", "rich", "mcp"} & loaded, loaded


_SERVED = """
import json, sys
from mcp_server_todo.cli.main import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump([code, sorted({name.partition(".")[0] for name in sys.modules if sys.modules[name] is not None})], out)
"""


@pytest.mark.slow
def test_the_stdio_server_never_loads_rich(isolated_env: Path, db_path: Path, tmp_path: Path) -> None:
    """Served until stdin closes: the SDK's logging set-up would load rich (a dependency of the
    human commands); the server refuses it, whatever the SDK tries."""
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _SERVED, str(report), "--db", str(db_path)],
        input="",
        capture_output=True,
        text=True,
        env=subprocess_env(isolated_env),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    code, loaded = json.loads(report.read_text())
    assert code == 0 and "mcp" in loaded and "rich" not in loaded, loaded
