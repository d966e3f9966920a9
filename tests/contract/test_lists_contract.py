"""The list rows (`store.lists`) on SQLite and PostgreSQL: per owner, one name per owner, a
stable path, properties kept exactly, and the rows-before-a-group that undo puts back."""

from __future__ import annotations

import pytest

from mcp_server_todo.store import Store, TaskList

NOW = "2026-12-06T10:00:00.000Z"


def test_list_rows_round_trip_per_owner_and_unique_by_name(backend: Store) -> None:
    shopping = TaskList("a1b2-c3", "Shopping 🛒", {"ICAL:calendar-color": "#FF0000FF", "ICAL:calendar-order": "2"}, NOW)
    with backend.write("alice") as tx:
        tx.put_list(shopping)
        tx.put_list(TaskList("zz", "Another", {}, NOW))
    with backend.read("alice") as rtx:
        assert rtx.lists() == [TaskList("zz", "Another", {}, NOW), shopping], "by name, every field kept"
    with backend.read("bob") as rtx:
        assert rtx.lists() == [], "another owner sees none of them"
    with backend.write("bob") as tx:
        tx.put_list(TaskList("a1b2-c3", "Shopping 🛒", {}, NOW))  # same path and name: another owner's own
    renamed = TaskList("a1b2-c3", "Groceries", {"ICAL:calendar-color": "#00FF00FF"}, NOW)
    with backend.write("alice") as tx:
        tx.put_list(renamed)  # the same path: replaced
    with backend.read("alice") as rtx:
        assert [row.name for row in rtx.lists()] == ["Another", "Groceries"]
    with pytest.raises(Exception, match=r"(?i)unique") as raised, backend.write("alice") as tx:
        tx.put_list(TaskList("other", "Groceries", {}, NOW))  # one name per owner: the service checks first
    assert type(raised.value).__name__ in ("IntegrityError", "UniqueViolation")
    with backend.write("alice") as tx:
        tx.remove_list("zz")
    with backend.read("alice") as rtx:
        assert rtx.lists() == [renamed]
    with backend.read("bob") as rtx:
        assert [row.name for row in rtx.lists()] == ["Shopping 🛒"]


def test_rows_before_a_group_are_kept_once_per_path(backend: Store) -> None:
    first = TaskList("p", "Old name", {"D:x": "1"}, NOW)
    with backend.write("alice") as tx:
        tx.log_list(7, "p", first)
        tx.log_list(7, "p", TaskList("p", "later", {}, NOW))  # the first one kept for a group stays
        tx.log_list(7, "new", None)
    with backend.read("alice") as rtx:
        assert rtx.list_undo(7) == [("new", None), ("p", first)]
        assert rtx.list_undo(8) == []
    with backend.read("bob") as rtx:
        assert rtx.list_undo(7) == []
