"""The CalDAV tests' server and helpers: one real server (`serve --http --auth tokens`) with users
alice, bob and dave and their tokens, a phone's VTODO, the `caldav` client library and raw
HTTP for what the library hides (ETags, preconditions, sync-collection)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import caldav
import httpx2
import pytest

from mcp_server_todo.store import open_store
from mcp_server_todo.transports.http.auth import create_token
from support import pg
from support.env import subprocess_env
from support.http import HttpServer, mcp_client
from support.mcp import ok, one

DAV = "{DAV:}"
LOGIN_DELAY = 0.4
"""The test servers' `--dav-login-delay`: a failed login's 401 comes this late."""
VTODO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//phone//EN
BEGIN:VTODO
UID:{uid}
DTSTAMP:20261201T090000Z
SUMMARY:{title}
PRIORITY:1
CATEGORIES:errand
DUE;VALUE=DATE:20261224
END:VTODO
END:VCALENDAR
"""
VEVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//phone//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20261201T090000Z
DTSTART:20261224T100000Z
SUMMARY:A meeting
END:VEVENT
END:VCALENDAR
"""


@dataclass
class Served:
    server: HttpServer
    tokens: dict[str, str]
    db: Path | str
    home: Path

    @property
    def dav(self) -> str:
        return self.server.base + "/dav/"

    def client(self, user: str, password: str | None = None) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.dav, username=user, password=password or self.tokens[user])

    def http(self, user: str, password: str | None = None) -> httpx2.Client:
        return httpx2.Client(base_url=self.server.base, auth=(user, password or self.tokens[user]), timeout=30)


def serve_dav(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, *, tools: str = "core,import,history"
) -> Iterator[Served]:
    """For a module-scoped fixture parametrized "sqlite" / "postgresql": one server for the module
    (serving the MCP tool groups `tools`)."""
    folder = tmp_path_factory.mktemp("caldav")
    home = folder / "home"
    home.mkdir()
    if request.param == "postgresql":
        with pg.schema_url(request.getfixturevalue("postgres_url")) as url:
            yield from _serve(url, home, folder, tools)
        return
    yield from _serve(folder / "todo.db", home, folder, tools)


def _serve(db: Path | str, home: Path, folder: Path, tools: str) -> Iterator[Served]:
    tokens = _tokens(db)
    server = HttpServer(
        db, home, "--auth", "tokens", "--tools", tools, "--dav-login-delay", str(LOGIN_DELAY), logs=folder
    )
    try:
        server.wait_ready()
        yield Served(server, tokens, db, home)
    finally:
        server.stop()


def _tokens(db: Path | str) -> dict[str, str]:
    """Tokens of alice, bob and dave, written in-process (the `token create` command has tests of
    its own; three subprocesses per server cost seconds)."""
    store = open_store(db if isinstance(db, str) else "sqlite:///" + db.as_posix().lstrip("/"))
    try:
        return {user: create_token(store, user, "test")[1] for user in ("alice", "bob", "dave")}
    finally:
        store.close()


def calendar(served: Served, user: str, name: str) -> caldav.Calendar:
    found = [c for c in served.client(user).principal().calendars() if c.get_display_name() == name]
    assert len(found) == 1, [c.get_display_name() for c in served.client(user).principal().calendars()]
    return found[0]


async def mcp_add(served: Served, user: str, **fields: Any) -> dict[str, Any]:
    async with mcp_client(served.server.url, served.tokens[user]) as client:
        return await one(client, "new_item", fields)


async def mcp(served: Served, user: str, tool: str, **args: Any) -> dict[str, Any]:
    async with mcp_client(served.server.url, served.tokens[user]) as client:
        return await ok(client, tool, args)


async def titles(served: Served, user: str, project: str, status: str = "pending") -> list[str]:
    listed = await mcp(served, user, "list_items", project=project, status=status)
    return [t["title"] for t in listed["items"]]


def sync_report(http: httpx2.Client, path: str, token: str) -> tuple[str, dict[str, str]]:
    """A raw RFC 6578 sync-collection REPORT: the new token and {href: status} of what changed."""
    body = (
        '<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    answer = http.request("REPORT", path, content=body, headers={"Content-Type": "application/xml"})
    assert answer.status_code == 207, answer.text
    root = ET.fromstring(answer.content)
    changed = {}
    for response in root.iter(DAV + "response"):
        href = response.findtext(DAV + "href") or ""
        status = response.findtext(DAV + "status") or response.findtext(f"{DAV}propstat/{DAV}status") or ""
        changed[href.rsplit("/", 1)[-1]] = status.split()[1]
    return root.findtext(DAV + "sync-token") or "", changed


def calendar_is_gone(served: Served, user: str, name: str) -> bool:
    return name not in {c.get_display_name() for c in served.client(user).principal().calendars()}


def cli(served: Served, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", *argv, "--db", str(served.db)],
        capture_output=True,
        text=True,
        env=subprocess_env(served.home),
        timeout=60,
        check=True,
    )
    return done.stdout


def listed_etags(http: httpx2.Client, path: str) -> dict[str, dict[str, str]]:
    """A list's ETags as a client reads them, by resource name: `propfind` (Depth 1 getetag),
    `sync` (sync-collection with no token, getetag only) and `multiget` (calendar-multiget of
    every name found, with calendar-data: the ETag, then the text after a space)."""
    found: dict[str, dict[str, str]] = {}
    xml = {"Content-Type": "application/xml"}
    propfind = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
    sync = (
        '<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>'
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    for how, method, body in (("propfind", "PROPFIND", propfind), ("sync", "REPORT", sync)):
        answer = http.request(method, path, content=body, headers={**xml, "Depth": "1"})
        assert answer.status_code == 207, answer.text
        found[how] = _etags(answer.content)
    hrefs = "".join(f"<D:href>{path}{name}</D:href>" for name in found["sync"])
    multiget = (
        '<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"
    )
    answer = http.request("REPORT", path, content=multiget, headers={**xml, "Depth": "1"})
    assert answer.status_code == 207, answer.text
    found["multiget"] = _etags(answer.content, with_data=True)
    return found


def _etags(content: bytes, with_data: bool = False) -> dict[str, str]:
    etags = {}
    for response in ET.fromstring(content).iter(DAV + "response"):
        name = (response.findtext(DAV + "href") or "").rsplit("/", 1)[-1]
        etag = response.findtext(f".//{DAV}getetag")
        if name and etag:
            data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data") or ""
            etags[name] = f"{etag} {data}" if with_data else etag
    return etags
