"""On a real terminal: `list` in a tmux pane shows colour and the overdue marker, the same
piped shows no ANSI code (the marker stays); the stdio server started on a terminal says once,
on stderr, what it waits for, and says nothing when stdin is a pipe; `serve --http` prints its
URL at the default log level, once it is serving.

The tmux test is skipped when tmux is not installed, unless TODO_REQUIRE_TMUX=1 (CI: .ci/run
installs the Debian package), which makes it fail instead.
"""

from __future__ import annotations

import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from support.env import server_command, subprocess_env
from support.http import free_port

from mcp_server_todo.service import TodoService
from mcp_server_todo.store import open_store, sqlite_url
from mcp_server_todo.transports.stdio import WAITING

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def seeded(db: Path) -> None:
    """Two tasks: one three days overdue, one due in a month."""
    store = open_store(sqlite_url(db))
    try:
        service = TodoService(store)
        today = datetime.now(UTC).date()
        service.add("Pay rent", due=(today - timedelta(days=3)).isoformat(), priority="high")
        service.add("Renew passport", due=(today + timedelta(days=40)).isoformat())
    finally:
        store.close()


def terminal_env(home: Path) -> dict[str, str]:
    env = subprocess_env(home)
    env.pop("NO_COLOR", None)
    env.update(PAGER="cat", COLUMNS="160")
    return env


def test_the_stdio_server_on_a_terminal_says_what_it_waits_for_on_stderr(isolated_env: Path, db_path: Path) -> None:
    terminal, child_side = pty.openpty()
    command = [sys.executable, "-X", "importtime", *server_command(db_path)[1:]]
    server = subprocess.Popen(
        command, stdin=child_side, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env(isolated_env)
    )
    os.close(child_side)
    try:
        deadline = time.monotonic() + 30
        while server.poll() is None and time.monotonic() < deadline and not db_path.exists():
            time.sleep(0.1)
        time.sleep(0.5)
        os.write(terminal, b"\x04")  # Ctrl-D: end of input on a terminal
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        os.close(terminal)
    said = err.decode().splitlines()
    assert server.returncode == 0, said[-5:]
    assert [line for line in said if not line.startswith("import time:")] == [WAITING]
    assert out == b""  # stdout is the protocol's
    imported = {line.rsplit("|", 1)[-1].strip() for line in said if line.startswith("import time:")}
    # serving never loads the CLI's look (the SDK itself may load Rich for its log handler)
    assert "mcp_server_todo.server" in imported
    assert (
        not {"mcp_server_todo.cli.display", "mcp_server_todo.cli.task_cells", "mcp_server_todo.cli.progress"} & imported
    )


def test_the_stdio_server_says_nothing_when_stdin_is_a_pipe(isolated_env: Path, db_path: Path) -> None:
    done = subprocess.run(
        server_command(db_path), input=b"", capture_output=True, env=subprocess_env(isolated_env), timeout=60
    )
    assert done.returncode == 0 and done.stdout == b"" and WAITING.encode() not in done.stderr, done.stderr


def test_serve_http_prints_its_url_at_the_default_log_level(isolated_env: Path, db_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        server_command(db_path, "--http", "--port", str(port)),
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(isolated_env),
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline().strip()
        assert line == f"MCP on http://127.0.0.1:{port}/mcp (auth none)"
        assert httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200  # already serving
    finally:
        server.terminate()
        server.wait(timeout=30)


# -- tmux ----------------------------------------------------------------------------------------


def tmux_or_skip() -> str:
    found = shutil.which("tmux")
    if found is None:
        if os.environ.get("TODO_REQUIRE_TMUX") == "1":
            pytest.fail("TODO_REQUIRE_TMUX=1 but tmux is not installed (apt-get install tmux)", pytrace=False)
        pytest.skip("tmux is not installed (the Debian package tmux; TODO_REQUIRE_TMUX=1 makes this fail)")
    return found


def pane_until(tmux: list[str], marker: str, timeout: float = 60) -> str:
    """The pane's text with its colour codes (`capture-pane -e`), once `marker` shows."""
    deadline = time.monotonic() + timeout
    while True:
        shown = subprocess.run([*tmux, "capture-pane", "-p", "-e", "-J", "-t", "look"], capture_output=True, text=True)
        if marker in shown.stdout or time.monotonic() > deadline:
            return shown.stdout
        time.sleep(0.2)


def test_list_in_a_real_terminal_has_colour_and_the_overdue_marker_and_none_when_piped(
    isolated_env: Path, db_path: Path
) -> None:
    tmux = [tmux_or_skip(), "-L", f"todo-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    seeded(db_path)
    todo = shlex.join([sys.executable, "-m", "mcp_server_todo", "--db", str(db_path)])
    script = f"{todo} list; echo '== piped'; {todo} list | cat; echo '== stdio'; {todo}; echo '== end'; sleep 120"
    env = terminal_env(isolated_env)
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "look", "-x", "160", "-y", "40", "sh", "-c", script], env=env, check=True
    )
    try:
        waiting = pane_until(tmux, WAITING)
        subprocess.run([*tmux, "send-keys", "-t", "look", "C-d"], check=True)
        pane = pane_until(tmux, "== end")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    assert "== end" in pane, pane
    on_tty, _, rest = pane.partition("== piped")
    piped, _, stdio = rest.partition("== stdio")
    rent = next(line for line in on_tty.splitlines() if "Pay rent" in line)
    assert ANSI.search(rent), rent  # colour on the terminal
    codes = re.search(r"((?:\x1b\[[0-9;]*m)+)3 days overdue", rent)
    assert codes and "31" in re.findall(r"\d+", codes.group(1)), rent  # in red (tmux re-encodes the codes)
    assert "! " in ANSI.sub("", rent) and "high" in rent
    piped_rent = next(line for line in piped.splitlines() if "Pay rent" in line)
    assert not ANSI.search(piped_rent) and "! 3 days overdue" in piped_rent  # no colour, the marker stays
    assert WAITING in ANSI.sub("", waiting) and ANSI.sub("", stdio).count(WAITING) == 1
