"""Running the command line in-process (click's CliRunner isolation: stdin, stdout, stderr
and the environment swapped), through `cli.main.main`, so exit codes and the one-line errors
are the console script's own."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from mcp_server_todo.cli.main import main


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout as JSON lines (each line must parse)."""
        return [json.loads(line) for line in self.out.splitlines()]


def run_cli(*argv: str, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Ran:
    with CliRunner().isolation(input=input, env=env) as (out, err, _):
        code = main(list(argv))
        sys.stdout.flush()
        sys.stderr.flush()
    return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def on(db: Path, *argv: str, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Ran:
    """`mcp-server-todo --db DB ARGV...`."""
    return run_cli("--db", str(db), *argv, input=input, env=env)
