"""A task as Radicale's item (transports/dav/items.py): the ETag from the row moves with every
stored field and with what the served relations depend on, not with computed fields; the
client's RELATED-TO UIDs are read from its text; the item's text is the served text."""

from __future__ import annotations

from mcp_server_todo.model import Task
from mcp_server_todo.transports.dav.collection import Principal
from mcp_server_todo.transports.dav.items import TaskItem, client_relations, row_etag
from mcp_server_todo.transports.dav.vtodo import served_text

PHONE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VTODO\r\nUID:kid\r\n"
    "DTSTAMP:20261201T090000Z\r\nSUMMARY:Buy milk\r\n"
    "RELATED-TO:parent-uid\r\n"
    'related-to;X-LABEL="a:b";RELTYPE=DEPENDS-ON:folded-\r\n uid\\,x\r\n'
    "END:VTODO\r\nEND:VCALENDAR\r\n"
)
TASK = Task(
    id=7,
    title="Buy milk",
    uid="kid",
    parent_id=3,
    created_at="2026-12-01T09:00:00Z",
    updated_at="2026-12-01T09:00:00Z",
    ical=PHONE,
)


def test_the_etag_moves_with_every_stored_field_and_the_relations_answers_only() -> None:
    uids, known = {7: "kid", 3: "parent-uid"}, {"parent-uid": True, "folded-uid,x": False}
    etag = row_etag(TASK, uids, known)
    assert etag == row_etag(TASK.model_copy(), uids, dict(known)) and etag.startswith('"')
    assert row_etag(TASK.model_copy(update={"due_human": "tomorrow", "urgency": 3.0}), uids, known) == etag
    for change in ({"title": "Buy oat milk"}, {"ical": PHONE + " "}, {"href": "X.ics"}, {"reminders": ["PT0S"]}):
        assert row_etag(TASK.model_copy(update=change), uids, known) != etag, change
    assert row_etag(TASK, {**uids, 3: "other"}, known) != etag, "a linked task's UID is served"
    assert row_etag(TASK, uids, {**known, "folded-uid,x": True}) != etag, "a related UID became a task"


def test_the_clients_relations_are_read_unfolded_and_unescaped() -> None:
    assert client_relations(PHONE) == ["parent-uid", "folded-uid,x"]
    assert client_relations(None) == []
    assert client_relations(PHONE.replace("RELATED-TO", "X-R").replace("related-to", "X-R")) == []


def test_the_items_text_is_the_served_text_with_the_answers_its_etag_used() -> None:
    asked: list[str] = []

    def known(uid: str) -> bool:
        asked.append(uid)
        return uid == "parent-uid"

    item = TaskItem(Principal("alice"), TASK, "kid.ics", {7: "kid", 3: "parent-uid"}, known)
    assert sorted(asked) == ["folded-uid,x", "parent-uid"] and item.uid == "kid" and item.href == "kid.ics"
    assert item.etag == row_etag(TASK, {7: "kid", 3: "parent-uid"}, {"parent-uid": True, "folded-uid,x": False})
    text = item.serialize()
    assert len(asked) == 2, "the text is built with the same answers, not asked again"
    assert text == served_text(TASK, {7: "kid", 3: "parent-uid"}, lambda uid: uid == "parent-uid")
    assert item.vobject_item.vtodo.summary.value == "Buy milk" and item.component_name == "VTODO"
