"""The official MCP Inspector (npm `@modelcontextprotocol/inspector`, CLI mode) against our stdio server.

Needs Node >= 22.19 and the Inspector, both installed by `scripts/install-inspector.sh [DIR]` into
DIR (default `<repo>/.node`; point `TODO_INSPECTOR_DIR` elsewhere). The Inspector always runs on
that private Node, never on the system one:

    DIR/node_modules/node/bin/node \\
        DIR/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js \\
        --cli --method tools/list --format json -e TODO_TZ=UTC ... -- python -m mcp_server_todo serve --db X

Without the install these tests skip, loudly; with `TODO_REQUIRE_INSPECTOR=1` (CI) they fail instead.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.env import ROOT, server_command, subprocess_env

pytestmark = pytest.mark.inspector

# Read at import time: the autouse `isolated_env` fixture strips every TODO_* variable before a test runs.
_DIR_OVERRIDE = os.environ.get("TODO_INSPECTOR_DIR", "").strip()
INSPECTOR_DIR = Path(_DIR_OVERRIDE).resolve() if _DIR_OVERRIDE else ROOT / ".node"
REQUIRE_INSPECTOR = os.environ.get("TODO_REQUIRE_INSPECTOR", "").strip() == "1"

NODE = INSPECTOR_DIR / "node_modules" / "node" / "bin" / "node"
INSPECTOR_PACKAGE = INSPECTOR_DIR / "node_modules" / "@modelcontextprotocol" / "inspector"
ENTRY = INSPECTOR_PACKAGE / "clients" / "launcher" / "build" / "index.js"
MIN_INSPECTOR = (2, 12)
TIMEOUT = 60
TOOLS = {"list_items", "new_item", "complete_item", "update_item", "delete_item", "undo"}
EXIT_TOOL_IS_ERROR = 5  # the Inspector CLI's exit status when the called tool returned isError: true


def _missing_reason() -> str | None:
    if not NODE.is_file() or not ENTRY.is_file():
        return f"Node 22 / MCP Inspector not installed in {INSPECTOR_DIR} (missing {NODE} or {ENTRY})"
    try:
        version = json.loads((INSPECTOR_PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
        found = tuple(int(part) for part in version.split("-")[0].split(".")[:2])
    except (OSError, ValueError, KeyError) as exc:
        return f"cannot read the MCP Inspector version in {INSPECTOR_PACKAGE}: {exc}"
    if found < MIN_INSPECTOR:
        return f"MCP Inspector {version} in {INSPECTOR_DIR} is older than {'.'.join(map(str, MIN_INSPECTOR))}"
    return None


@pytest.fixture(scope="module")
def inspector() -> list[str]:
    reason = _missing_reason()
    if reason is not None:
        message = f"{reason}. Run `scripts/install-inspector.sh` (or set TODO_INSPECTOR_DIR)."
        if REQUIRE_INSPECTOR:
            pytest.fail(f"TODO_REQUIRE_INSPECTOR=1: {message}", pytrace=False)
        pytest.skip(f"!!! MCP INSPECTOR TESTS NOT RUN: {message}")
    return [str(NODE), str(ENTRY), "--cli"]


def run_inspector(
    inspector: list[str], home: Path, db: Path, *args: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """One Inspector CLI invocation over stdio; returns the process and its JSON result (or error)."""
    # The Inspector starts the server with only HOME/PATH/SHELL/TERM/USER/LOGNAME plus these.
    server_env = {
        "TODO_TZ": "UTC",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PYTHONUNBUFFERED": "1",
    }
    env_args = [arg for key, value in server_env.items() for arg in ("-e", f"{key}={value}")]
    command = [*inspector, *args, "--format", "json", *env_args, "--", *server_command(db)]
    proc = subprocess.run(
        command,
        env=subprocess_env(home),
        cwd=home,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )
    described = f"command: {command}\nexit: {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    try:
        payload = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the Inspector did not print one JSON object on stdout\n{described}")
    assert isinstance(payload, dict), described
    return proc, payload


def _result(proc: subprocess.CompletedProcess[str], payload: dict[str, Any]) -> dict[str, Any]:
    assert "result" in payload, f"no result: {payload}\nstderr:\n{proc.stderr}"
    result = payload["result"]
    assert isinstance(result, dict), result
    return result


def test_tools_list(inspector: list[str], isolated_env: Path, db_path: Path) -> None:
    proc, payload = run_inspector(inspector, isolated_env, db_path, "--method", "tools/list")
    assert proc.returncode == 0, proc.stderr
    tools = {tool["name"]: tool for tool in _result(proc, payload)["tools"]}
    assert set(tools) >= TOOLS, sorted(tools)
    for name in TOOLS:
        tool = tools[name]
        schema = tool.get("inputSchema")
        assert isinstance(schema, dict), (name, tool)
        assert schema.get("type") == "object", (name, schema)
        annotations = tool.get("annotations")
        assert isinstance(annotations, dict), (name, tool)
        assert annotations, (name, tool)
    assert tools["list_items"]["annotations"].get("readOnlyHint") is True
    assert tools["delete_item"]["annotations"].get("destructiveHint") is True
    assert "title" in tools["new_item"]["inputSchema"].get("properties", {})


def test_tools_call_new_item(inspector: list[str], isolated_env: Path, db_path: Path) -> None:
    title = "Book a dentist appointment"
    proc, payload = run_inspector(
        inspector,
        isolated_env,
        db_path,
        "--method",
        "tools/call",
        "--tool-name",
        "new_item",
        "--tool-arg",
        f"title={title}",
    )
    assert proc.returncode == 0, proc.stderr
    result = _result(proc, payload)
    assert result.get("isError") is not True, result
    text = "\n".join(block.get("text", "") for block in result.get("content", []) if block.get("type") == "text")
    assert title in text, result
    structured = (result.get("structuredContent") or {}).get("items", [None])[0]
    assert isinstance(structured, dict), result
    assert structured.get("title") == title, structured
    task_id = structured.get("id")
    assert isinstance(task_id, int), structured
    assert f"#{task_id}" in text, text

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT id, title FROM tasks").fetchall()
    conn.close()
    assert rows == [(task_id, title)], rows


def test_tools_call_error_is_reported(inspector: list[str], isolated_env: Path, db_path: Path) -> None:
    proc, payload = run_inspector(
        inspector,
        isolated_env,
        db_path,
        "--method",
        "tools/call",
        "--tool-name",
        "complete_item",
        "--tool-arg",
        "id=987654",
    )
    result = _result(proc, payload)
    assert result.get("isError") is True, result
    assert proc.returncode == EXIT_TOOL_IS_ERROR, (proc.returncode, proc.stderr)
    text = "\n".join(block.get("text", "") for block in result.get("content", []) if block.get("type") == "text")
    assert "call list_items" in text, text
    assert "987654" in text, text
