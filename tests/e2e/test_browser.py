"""The show_tasks view in a real browser, embedded the way an MCP Apps host embeds it.

The pieces, all on this machine:

- the real server, a subprocess: `python -m mcp_server_todo serve --db TMP --tools core,view`;
- the host's MCP client: one stdio connection to it (the 2025-11-25 handshake Claude Desktop
  speaks), declaring MCP Apps support, run on an anyio blocking portal;
- the host page (tests/browser/host.html + host.js), served on 127.0.0.1 by a tiny HTTP server
  that forwards the page's tools/call and resources/read to that client (POST /rpc) and hands it
  the server's change notifications (GET /events, long-polled). As a host does, it finds the
  view through the tool's `_meta.ui.resourceUri`, reads it (resources/read), serves it at /view
  with the CSP its `_meta.ui.csp` declares, and the page embeds it in an iframe sandboxed to
  scripts alone (no same-origin, no forms);
- Debian's Chromium (/usr/bin/chromium, never a downloaded browser), driven by Playwright.

Without Chromium or Playwright the tests skip, loudly; with TODO_REQUIRE_BROWSER=1 (CI) they
fail instead. Screenshots of both themes go to build/test-artifacts/ (TODO_ARTIFACTS_DIR to
change); TODO_UPDATE_SCREENSHOTS=1 also copies them to docs/ for the README. Environment
variables are read at import time: the autouse fixture in conftest.py clears TODO_* per test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio.from_thread
import pytest
from mcp import Client, StdioServerParameters
from mcp.client import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp_types import ResourceListChangedNotification, ResourceUpdatedNotification, TextResourceContents
from support.env import ROOT, TESTS, server_command, subprocess_env
from support.wait import wait_for as eventually

from mcp_server_todo.model import Status, Task
from mcp_server_todo.service import TodoService
from mcp_server_todo.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from playwright.sync_api import Frame, FrameLocator, Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRED = os.environ.get("TODO_REQUIRE_BROWSER") == "1"
UPDATE_DOCS = os.environ.get("TODO_UPDATE_SCREENSHOTS") == "1"
ARTIFACTS = Path(os.environ.get("TODO_ARTIFACTS_DIR") or ROOT / "build" / "test-artifacts")
HOST_FILES = TESTS / "browser"
TIMEOUT = 10.0


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian's Chromium is not installed at {CHROMIUM} (run scripts/install-browser.sh as root)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (run scripts/bootstrap.sh: requirements/ci.txt pins it)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"TODO_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
        pytest.skip(f"!!! REAL-BROWSER TESTS SKIPPED: {missing} !!!")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


# -- the host's MCP side ----------------------------------------------------------------------


@dataclass
class Host:
    """What the test host holds: the page's origin, the requests it served, the view's frame."""

    url: str
    db: Path
    home: Path
    page: Page
    served: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def view(self) -> FrameLocator:
        return self.page.frame_locator("#view")

    def frame(self) -> Frame:
        for frame in self.page.frames:
            if frame.url.endswith("/view"):
                return frame
        raise AssertionError("the view's frame is not there")


def csp_for(meta: dict[str, Any]) -> str:
    """The CSP a host builds from a ui:// resource's `_meta.ui.csp` (the MCP Apps spec's recipe,
    with 'none' where nothing is declared)."""
    csp = (meta.get("ui") or {}).get("csp") or {}

    inline = "'unsafe-inline'"

    def directive(name: str, key: str, *base: str) -> str:
        return f"{name} " + (" ".join([*base, *(csp.get(key) or [])]) or "'none'")

    return "; ".join(
        [
            "default-src 'none'",
            directive("script-src", "resourceDomains", inline),
            directive("style-src", "resourceDomains", inline),
            directive("img-src", "resourceDomains", "data:"),
            directive("font-src", "resourceDomains"),
            directive("media-src", "resourceDomains", "data:"),
            directive("connect-src", "connectDomains"),
            directive("frame-src", "frameDomains"),
            directive("base-uri", "baseUriDomains"),
            "object-src 'none'",
        ]
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: anyio.from_thread.BlockingPortal
    client: Client
    view_html: str
    view_csp: str
    events: queue.Queue[dict[str, Any]]
    served: list[str]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # the page went away mid-request
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: Any) -> None:
        self._send(200, json.dumps(data).encode(), "application/json")

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.served.append(f"GET {path}")
        if path == "/":
            self._send(200, (HOST_FILES / "host.html").read_bytes(), "text/html; charset=utf-8")
        elif path == "/host.js":
            self._send(200, (HOST_FILES / "host.js").read_bytes(), "text/javascript; charset=utf-8")
        elif path == "/view":
            body = self.server.view_html.encode()
            self._send(200, body, "text/html; charset=utf-8", Content_Security_Policy=self.server.view_csp)
        elif path == "/events":
            self._json(self._drain())
        else:
            self._send(404, b"not found", "text/plain")

    def _drain(self) -> list[dict[str, Any]]:
        try:
            events = [self.server.events.get(timeout=0.5)]
        except queue.Empty:
            return []
        while True:
            try:
                events.append(self.server.events.get_nowait())
            except queue.Empty:
                return events

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        self.server.served.append(f"POST {path}")
        if path != "/rpc":
            self._send(404, b"not found", "text/plain")
            return
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        try:
            self._json({"result": self._forward(request["method"], request.get("params") or {})})
        except MCPError as exc:
            self._json({"error": {"code": exc.error.code, "message": exc.error.message}})

    def _forward(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        portal, client = self.server.portal, self.server.client
        if method == "tools/call":
            result: Any = portal.call(client.call_tool, params["name"], params.get("arguments") or {})
        elif method == "resources/read":
            result = portal.call(client.read_resource, params["uri"])
        else:
            raise MCPError(code=-32601, message=f"the test host does not forward {method}")
        dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dumped


@contextmanager
def mcp_host(db: Path, home: Path) -> Iterator[_Server]:
    """The real server as a subprocess, the host's client to it, and the host's HTTP server."""
    events: queue.Queue[dict[str, Any]] = queue.Queue()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification | ResourceListChangedNotification):
            events.put({"jsonrpc": "2.0", **message.model_dump(mode="json", by_alias=True, exclude_none=True)})

    command = server_command(db, "--tools", "core,view")
    params = StdioServerParameters(command=command[0], args=command[1:], env=subprocess_env(home))
    client = Client(
        params,
        mode="legacy",
        extensions=[advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})],
        message_handler=on_message,
    )
    failure: BaseException | None = None
    with anyio.from_thread.start_blocking_portal() as portal, portal.wrap_async_context_manager(client):
        # what a host does on connecting: find the tool's view and read it
        tools = {tool.name: tool for tool in portal.call(client.list_tools).tools}
        uri = (tools["show_tasks"].meta or {})["ui"]["resourceUri"]
        contents = portal.call(client.read_resource, uri).contents[0]
        assert isinstance(contents, TextResourceContents) and contents.mime_type == APP_MIME_TYPE
        with warnings.catch_warnings():  # resources/subscribe: the handshake era's API
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            portal.call(client.subscribe_resource, "todo://tasks/pending")

        http = _Server(("127.0.0.1", 0), _Handler)
        http.portal, http.client, http.events, http.served = portal, client, events, []
        http.view_html, http.view_csp = contents.text, csp_for(contents.meta or {})
        thread = threading.Thread(target=http.serve_forever, name="test-host", daemon=True)
        thread.start()
        try:
            yield http
        except BaseException as exc:  # raised after the client closes: not wrapped in its task groups
            failure = exc
        finally:
            http.shutdown()
            http.server_close()
            thread.join(timeout=5)
    if failure is not None:
        raise failure


@contextmanager
def hosted(browser: Any, db: Path, home: Path, theme: str = "light") -> Iterator[Host]:
    """The host page open in Chromium with the view loaded and showing its first list."""
    with mcp_host(db, home) as http:
        url = f"http://127.0.0.1:{http.server_address[1]}"
        context = browser.new_context(viewport={"width": 720, "height": 900}, device_scale_factor=2)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT * 1000)
        host = Host(url=url, db=db, home=home, page=page, served=http.served)
        page.on("request", lambda request: _outside(host, request.url))
        page.on("pageerror", lambda exc: host.problems.append(f"page error: {exc}"))
        page.on("console", lambda msg: _console(host, msg.type, msg.text))
        try:
            page.goto(f"{url}/?theme={theme}")
            host.view.locator("li.task").first.wait_for()
            yield host
        finally:
            context.close()


def _console(host: Host, kind: str, text: str) -> None:
    if kind in ("error", "warning"):  # CSP violations are reported here too
        host.problems.append(f"console {kind}: {text}")


def _outside(host: Host, url: str) -> None:
    if not url.startswith(host.url + "/"):
        host.problems.append(f"request outside the host: {url}")


# -- the store, seen from the test ------------------------------------------------------------


def seed(store: SQLiteStore) -> TodoService:
    service = TodoService(store, tz=UTC)
    today = datetime.now(UTC).date()

    def day(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    service.add_many(
        [
            {"title": "Renew the passport", "project": "errands", "due": day(-2), "priority": "high"},
            {"title": "Buy oat milk", "project": "errands", "due": day(0)},
            {"title": "Write the quarterly report", "project": "work", "due": day(1), "priority": "medium"},
            {"title": "Review the pull request", "project": "work", "due": day(3), "tags": ["code"]},
            {"title": "Plan the trip to Lisbon", "due": day(12)},
            {"title": "Read the MCP Apps spec", "tags": ["reading"]},
        ]
    )
    return service


def by_title(service: TodoService, title: str) -> Task:
    found = [task for task in service.list_tasks(status="all", limit=500).items if task.title == title]
    assert len(found) == 1, f"{title!r}: {found}"
    return found[0]


def groups(host: Host) -> list[str]:
    names: list[str] = host.view.locator("section").evaluate_all("all => all.map(s => s.dataset.group)")
    return names


def cli_add(host: Host, title: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "add", "--db", str(host.db), title],
        check=True,
        env=subprocess_env(host.home),
        capture_output=True,
        timeout=60,
    )


# -- the tests --------------------------------------------------------------------------------


def test_tick_add_edit_undo_in_a_real_browser(
    browser: Any, store: SQLiteStore, db_path: Path, isolated_env: Path
) -> None:
    from playwright.sync_api import expect

    service = seed(store)
    started = time.monotonic()
    with hosted(browser, db_path, isolated_env) as host:
        view = host.view
        expect(view.locator("li.task")).to_have_count(6)
        assert groups(host) == ["inbox", "errands", "work"]
        expect(view.locator("#count")).to_have_text("(6)")

        # tick with the mouse: the store has it done; the row stays, struck through
        view.get_by_role("checkbox", name="Buy oat milk").check()
        eventually(lambda: by_title(service, "Buy oat milk").status is Status.done, "Buy oat milk done")
        expect(view.locator("li.task.done", has_text="Buy oat milk")).to_be_visible()
        expect(view.locator("#count")).to_have_text("(5)")

        # tick with the keyboard, then untick: reopened
        box = view.get_by_role("checkbox", name="Review the pull request")
        box.focus()
        host.page.keyboard.press("Space")
        eventually(lambda: by_title(service, "Review the pull request").status is Status.done, "review done")
        expect(box).to_be_focused()
        expect(box).to_have_css("outline-style", "solid")  # a focus ring, even after the list re-rendered
        host.page.keyboard.press("Tab")
        expect(view.get_by_role("button", name="Edit “Review the pull request”")).to_be_focused()
        host.page.keyboard.press("Shift+Tab")
        host.page.keyboard.press("Space")
        eventually(lambda: by_title(service, "Review the pull request").status is Status.pending, "review reopened")

        # add with the keyboard: Enter submits, the title field keeps the focus
        view.get_by_label("New task").fill("Water the plants")
        view.get_by_label("Due date (optional)").fill("tomorrow")
        view.get_by_label("Project (optional)").fill("home")
        view.get_by_label("New task").press("Enter")
        eventually(lambda: any(t.title == "Water the plants" for t in service.list_tasks().items), "added")
        added = by_title(service, "Water the plants")
        assert (added.project, added.due) == ("home", (date.today() + timedelta(days=1)).isoformat())
        expect(view.locator("li.task", has_text="Water the plants")).to_be_visible()
        expect(view.get_by_label("New task")).to_be_focused()
        expect(view.get_by_label("New task")).to_have_value("")

        # inline edit of title and due date: Enter saves, Escape cancels
        trip = by_title(service, "Plan the trip to Lisbon")
        view.get_by_role("button", name="Edit “Plan the trip to Lisbon”").click()
        view.get_by_label(f"Title of task {trip.id}").fill("Plan the trip to Porto")
        view.get_by_label(f"Due date of task {trip.id}").fill("2031-05-01")
        view.get_by_label(f"Title of task {trip.id}").press("Enter")
        eventually(lambda: by_title(service, "Plan the trip to Porto").due == "2031-05-01", "trip edited")
        expect(view.get_by_role("button", name="Edit “Plan the trip to Porto”")).to_be_focused()
        view.get_by_role("button", name="Edit “Plan the trip to Porto”").press("Enter")
        view.get_by_label(f"Title of task {trip.id}").fill("never saved")
        view.get_by_label(f"Title of task {trip.id}").press("Escape")
        expect(view.locator("li.task", has_text="Plan the trip to Porto")).to_be_visible()
        assert by_title(service, "Plan the trip to Porto").id == trip.id

        # undo reverts the edit
        view.get_by_role("button", name="Undo").click()
        eventually(lambda: service.get(trip.id).title == "Plan the trip to Lisbon", "edit undone")
        expect(view.locator("li.task", has_text="Plan the trip to Lisbon")).to_be_visible()

        # grouped by due date
        view.get_by_role("radio", name="Due date").check()
        assert groups(host) == ["Overdue", "Today", "Tomorrow", "Next 7 days", "Later", "No due date"]
        expect(view.locator("section[data-group='Tomorrow'] li.task")).to_have_count(2)

        # a change made elsewhere (the CLI, another process): the server notifies, the view refreshes
        cli_add(host, "Call the plumber")
        expect(view.locator("li.task", has_text="Call the plumber")).to_be_visible()

        # the view stayed inside the sandbox: nothing but the host's own requests, no CSP
        # violation, no script error
        assert host.problems == []
        assert set(host.served) <= {"GET /", "GET /host.js", "GET /view", "GET /events", "POST /rpc"}
        sent = host.page.evaluate("window.hostLog.filter(e => e.from === 'view').map(e => e.message.method)")
        assert {"ui/initialize", "ui/notifications/initialized", "tools/call"} <= set(sent)
    print(f"\nbrowser test: {time.monotonic() - started:.1f} s with the browser up")


def test_themes_follow_the_host_and_screenshots(
    browser: Any, store: SQLiteStore, db_path: Path, isolated_env: Path
) -> None:
    """The theme of ui/initialize's host context, then a change of it (host-context-changed)."""
    from playwright.sync_api import expect

    service = seed(store)
    service.complete_many([by_title(service, "Buy oat milk").id])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = {theme: ARTIFACTS / f"screenshot-{theme}.png" for theme in ("dark", "light")}
    with hosted(browser, db_path, isolated_env, theme="dark") as host:
        view = host.view
        expect(view.locator("li.task")).to_have_count(5)
        expect(view.locator("html")).to_have_attribute("data-theme", "dark")
        assert sum(background(host)) < 150
        # a ticked task, as a user sees it right after ticking
        view.get_by_role("checkbox", name="Write the quarterly report").check()
        expect(view.locator("li.task.done", has_text="Write the quarterly report")).to_be_visible()
        expect(view.locator("#status")).to_contain_text("Completed")
        host.page.locator("#view").screenshot(path=str(shots["dark"]))

        host.page.evaluate("window.setTheme('light')")
        expect(view.locator("html")).to_have_attribute("data-theme", "light")
        eventually(lambda: background(host) == (255, 255, 255), "the view turned light")
        host.page.locator("#view").screenshot(path=str(shots["light"]))
        assert host.problems == []

    for theme, shot in shots.items():
        assert shot.stat().st_size > 10_000, shot
        if UPDATE_DOCS:
            shutil.copyfile(shot, ROOT / "docs" / f"screenshot-{theme}.png")


def background(host: Host) -> tuple[int, ...]:
    color: str = host.frame().evaluate("getComputedStyle(document.body).backgroundColor")
    return tuple(int(part) for part in re.findall(r"\d+", color)[:3])
