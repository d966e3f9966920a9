"""CalDAV preconditions against MCP writes (transports/dav/request.py, collection.py), on SQLite
and PostgreSQL: the service refuses an update whose caller's row is no longer the stored one
(checked inside the write transaction), and a PUT with If-Match gets 412 when an MCP write
lands after Radicale's own check, in either window: before the upload checks the ETag again,
or between that check and the write transaction. Radicale runs in-process (its WSGI app over
our plugins, as `serve` mounts it); the MCP write is the service's, as the MCP tools call it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest

from mcp_server_todo.errors import Stale
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import LOCAL_OWNER, Store
from mcp_server_todo.transports.dav.app import radicale_app
from mcp_server_todo.transports.dav.collection import ProjectCollection
from mcp_server_todo.transports.dav.items import row_basis

UTC = ZoneInfo("UTC")
BODY = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//phone//EN\r
BEGIN:VTODO\r
UID:plumber\r
DTSTAMP:20261201T090000Z\r
SUMMARY:{title}\r
END:VTODO\r
END:VCALENDAR\r
"""
HREF = f"/{LOCAL_OWNER}/inbox/plumber.ics"


def test_an_update_expecting_the_row_it_read_is_refused_after_another_write(backend: Store) -> None:
    caldav = TodoService(backend, owner="alice", tz=UTC).via_caldav()
    mcp = TodoService(backend, owner="alice", tz=UTC)
    task = caldav.add("Call the plumber")
    read = caldav.get(task.id)
    mcp.update(task.id, title="Plumber booked")
    with pytest.raises(Stale, match="changed since it was read"):
        caldav.update(task.id, title="Lost update", expect=lambda row: row_basis(row) == row_basis(read))
    assert mcp.get(task.id).title == "Plumber booked"
    assert [e.op for e in mcp.history(task.id)] == ["update", "add"], "the refused update left no trace"
    fresh = caldav.get(task.id)
    caldav.update(task.id, title="Plumber at 3", expect=lambda row: row_basis(row) == row_basis(fresh))
    assert mcp.get(task.id).title == "Plumber at 3"


@pytest.fixture
def dav(backend: Store) -> Iterator[httpx2.Client]:
    app = radicale_app(lambda owner: TodoService(backend, owner=owner, tz=UTC), None)
    with httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url="http://127.0.0.1") as client:
        yield client


@pytest.mark.parametrize("window", ["_precondition", "_links"])
def test_an_mcp_write_after_radicales_check_still_gets_412(
    dav: httpx2.Client, backend: Store, monkeypatch: pytest.MonkeyPatch, window: str
) -> None:
    """`_precondition`: the MCP write lands before the upload checks the ETag again;
    `_links`: after that check, before the write transaction (only the service sees it).
    A DELETE's window is the first: its check, then the service's transaction."""
    mcp = TodoService(backend, owner=LOCAL_OWNER, tz=UTC)

    def mcp_first_in(name: str, notes: str) -> None:
        original: Callable[..., Any] = getattr(ProjectCollection, name)

        def mcp_first(self: ProjectCollection, *args: Any) -> Any:
            task = mcp.get_by_uid("plumber")
            assert task is not None
            mcp.update(task.id, notes=notes)
            return original(self, *args)

        monkeypatch.setattr(ProjectCollection, name, mcp_first)

    assert dav.put(HREF, content=BODY.format(title="Call the plumber")).status_code == 201
    etag = dav.get(HREF).headers["etag"]
    mcp_first_in(window, "booked over MCP")
    late = dav.put(HREF, content=BODY.format(title="Over MCP's edit"), headers={"If-Match": etag})
    monkeypatch.undo()
    assert late.status_code == 412, late.text
    assert "changed since" in late.text
    kept = mcp.get_by_uid("plumber")
    assert kept is not None and (kept.title, kept.notes) == ("Call the plumber", "booked over MCP")
    fresh = dav.get(HREF)
    assert fresh.headers["etag"] != etag and "booked over MCP" in fresh.text
    again = dav.put(HREF, content=BODY.format(title="Plumber at 3"), headers={"If-Match": fresh.headers["etag"]})
    assert again.status_code == 204 and again.headers["etag"] == dav.get(HREF).headers["etag"]

    mcp_first_in("_precondition", "bring the key")
    refused = dav.delete(HREF, headers={"If-Match": again.headers["etag"]})
    monkeypatch.undo()
    assert refused.status_code == 412 and "changed since" in refused.text, refused.text
    kept = mcp.get_by_uid("plumber")
    assert kept is not None and kept.status.value == "pending" and kept.notes == "bring the key"
    assert dav.delete(HREF, headers={"If-Match": dav.get(HREF).headers["etag"]}).status_code in (200, 204)
