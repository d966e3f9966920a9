"""Which modules a command line run loads: the CLI imports lazily (`list` never loads the MCP
SDK, `--help` not even pydantic), checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.env import subprocess_env

_SCRIPT = """
import contextlib, io, json, sys
from mcp_server_todo.cli.main import main
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit:  # --help
            code = exit.code
    assert code == 0, (argv, code)
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def top_level_modules_after(home: Path, *runs: list[str]) -> set[str]:
    """The top-level packages loaded once `mcp-server-todo <run>` has run for each run, in order,
    in one fresh interpreter (each run must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(list(runs))],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))
