"""Local mode, `serve --dav`: Thunderbird on this machine and Claude Desktop's stdio server on the
same SQLite file at the same time (issue 13, point 1). Real subprocesses: the stdio server through
the SDK's client, `serve --dav` through the `caldav` library."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import anyio
import caldav
import httpx2
import pytest
from mcp import Client, MCPDeprecationWarning
from mcp.client.stdio import StdioServerParameters
from mcp.types import ResourceUpdatedNotification
from support.caldav import VTODO
from support.env import server_command, subprocess_env
from support.http import free_port
from support.mcp import ok, one

pytestmark = [pytest.mark.slow, pytest.mark.anyio, pytest.mark.timeout(120)]

NO_RADICALE = "import sys; sys.modules['radicale'] = None"  # the CLI as if the extra were not installed
WITHOUT_EXTRA = f"{NO_RADICALE}; from mcp_server_todo.cli.main import main; sys.exit(main(sys.argv[1:]))"


def test_serve_dav_without_the_extra_says_what_to_install(tmp_path: Path, isolated_env: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA, "serve", "--dav", "--db", str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        env=subprocess_env(isolated_env),
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "mcp-server-todo: serve --dav: CalDAV needs the caldav extra: from a clone, pip install '.[caldav]' "
        "(with pipx: pipx install --force '/path/to/mcp-server-todo[caldav]')"
    ]


async def test_the_stdio_server_and_serve_dav_share_one_file(tmp_path: Path, isolated_env: Path) -> None:
    db = tmp_path / "todo.db"
    port = free_port()
    log = open(tmp_path / "dav.stderr", "wb")  # noqa: SIM115 - closed below
    dav = subprocess.Popen(
        server_command(db, "--dav", "--port", str(port)),
        stdin=subprocess.DEVNULL,
        stderr=log,
        env=subprocess_env(isolated_env),
    )
    heard: list[str] = []

    async def inbox(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(str(message.params.uri))

    stdio = StdioServerParameters(command=sys.executable, args=server_command(db)[1:], env=subprocess_env(isolated_env))
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(base, dav)
        assert (tmp_path / "dav.stderr").read_text().splitlines()[-1] == (
            f"CalDAV on {base}/dav/ (any user name and password)"
        )
        async with Client(stdio, mode="legacy", read_timeout_seconds=30, message_handler=inbox) as claude:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await claude.subscribe_resource("todo://tasks/pending")
            await one(claude, "new_item", {"title": "Written by Claude", "due": "2026-12-24"})
            thunderbird = caldav.DAVClient(url=base + "/dav/", username="me", password="anything")
            [inbox_list] = await anyio.to_thread.run_sync(lambda: thunderbird.principal().calendars())
            summaries = await anyio.to_thread.run_sync(
                lambda: [str(t.icalendar_component["SUMMARY"]) for t in inbox_list.todos()]
            )
            assert summaries == ["Written by Claude"]
            assert inbox_list.url.path == "/dav/local/inbox/"

            heard.clear()
            uid = f"tb-{uuid.uuid4().hex}"
            await anyio.to_thread.run_sync(lambda: inbox_list.save_todo(ical=VTODO.format(uid=uid, title="From TB")))
            with anyio.fail_after(5):
                while "todo://tasks/pending" not in heard:
                    await anyio.sleep(0.02)
            listed = await ok(claude, "list_items", {})
            assert sorted(t["title"] for t in listed["items"]) == ["From TB", "Written by Claude"]
    finally:
        dav.terminate()
        assert dav.wait(20) == 0
        log.close()


async def wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    async with httpx2.AsyncClient(timeout=1) as http:
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"serve --dav exited with {proc.returncode}"
            try:
                if (await http.get(base + "/healthz")).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            await anyio.sleep(0.05)
    raise AssertionError("serve --dav did not answer /healthz within 20 s")
