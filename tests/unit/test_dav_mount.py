"""/dav without the `caldav` extra: a one-line 501 saying what to install (dav/app.py)."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_server_todo.transports.dav import app as dav_app

pytestmark = pytest.mark.anyio


async def test_without_the_extra_dav_answers_501_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_server_todo.transports.http.app import _dav_mount

    monkeypatch.setattr(dav_app, "available", lambda: False)
    mount = _dav_mount(None, None)  # type: ignore[arg-type]
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    await mount.app({"type": "http", "method": "PROPFIND", "path": "/dav/", "headers": []}, receive, send)
    assert sent[0]["status"] == 501
    assert sent[1]["body"].decode().strip() == (
        "CalDAV needs the caldav extra: from a clone, pip install '.[caldav]' "
        "(with pipx: pipx install --force '/path/to/mcp-server-todo[caldav]')"
    )


def test_the_extra_is_installed_here() -> None:
    assert dav_app.available()  # CI installs requirements/ci.txt, which pins the extra
