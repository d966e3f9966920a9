"""Task lists through the service (`service.lists`), on SQLite and PostgreSQL: a list that
exists without tasks, a rename that moves the tasks (one undo brings the old name back), a
deleted list whose tasks go to the trash (one undo brings both back), and the refusals."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.errors import Conflict
from mcp_server_todo.model import Status
from mcp_server_todo.service import TodoService
from mcp_server_todo.service.lists import create_list, delete_list, task_lists, update_list
from mcp_server_todo.store import Store

COLOR = {"ICAL:calendar-color": "#FF8800FF"}


def titles(service: TodoService, project: str, status: str = "pending") -> list[str]:
    return [t.title for t in service.list_tasks(project=project, status=status, limit=100).items]  # type: ignore[arg-type]


def test_an_empty_list_stays_and_a_rename_moves_its_tasks_in_one_undo(backend: Store) -> None:
    alice = TodoService(backend, owner="alice", tz=ZoneInfo("UTC"))
    alice.add("already here", project="home")
    made = create_list(alice, "uuid-1", "Groceries", COLOR)
    assert ("Groceries", 0, 0) in alice.projects(), "an empty list is a project with no tasks"
    assert alice.projects() == [("Groceries", 0, 0), ("home", 1, 0)]
    with pytest.raises(Conflict, match="exists already"):
        create_list(alice, "uuid-2", "home", {})  # a project with tasks has that name
    with pytest.raises(Conflict, match="exists already"):
        create_list(alice, "uuid-2", "Groceries", {})
    with pytest.raises(Conflict, match="at uuid-1"):
        create_list(alice, "uuid-1", "Other", {})
    alice.add_many([{"title": "milk", "project": "Groceries"}, {"title": "eggs", "project": "Groceries"}])
    alice.complete(alice.list_tasks(project="Groceries", limit=5).items[1].id)
    trashed = alice.add("old note", project="Groceries")
    alice.delete(trashed.id)
    renamed = update_list(alice, "uuid-1", "Groceries", "Food", {**COLOR, "ICAL:calendar-order": "3"})
    assert (renamed.path, renamed.name, renamed.created_at) == ("uuid-1", "Food", made.created_at)
    assert titles(alice, "Food", "all") == ["milk", "eggs", "old note"] and titles(alice, "Groceries", "all") == []
    assert titles(alice, "Food", "deleted") == ["old note"], "the trash moves too: a restore lands in the list"
    assert [row.name for row in task_lists(alice)] == ["Food"]
    with pytest.raises(Conflict, match="exists already"):
        update_list(alice, "uuid-1", "Food", "home", {})  # a clash is refused, nothing moves
    assert titles(alice, "Food") == ["milk"]
    undone = alice.undo()
    assert {u.op for u in undone} == {"update"} and len(undone) == 3
    assert titles(alice, "Groceries", "all") == ["milk", "eggs", "old note"]
    assert [(row.path, row.name, row.props) for row in task_lists(alice)] == [("uuid-1", "Groceries", COLOR)]
    # a project with tasks but no row gets one at the path it had (its collection keeps its URL)
    update_list(alice, "home", "home", "house", {})
    assert [(row.path, row.name) for row in task_lists(alice)] == [("uuid-1", "Groceries"), ("home", "house")]
    alice.undo()
    assert [row.name for row in task_lists(alice)] == ["Groceries"], "the row it did not have is gone again"
    assert titles(alice, "home") == ["already here"]
    with pytest.raises(Conflict, match="default list"):
        update_list(alice, "inbox", "inbox", "Inbox 2", {})
    # an undo that would bring back a name taken since is refused, and changes nothing
    update_list(alice, "uuid-1", "Groceries", "Food", {})
    create_list(alice, "uuid-3", "Groceries", {})
    with pytest.raises(Conflict, match="exists again"):
        alice.undo()
    assert titles(alice, "Food") == ["milk"] and [row.name for row in task_lists(alice)] == ["Food", "Groceries"]


def test_deleting_a_list_trashes_its_tasks_and_one_undo_brings_both_back(backend: Store) -> None:
    alice = TodoService(backend, owner="alice", tz=ZoneInfo("UTC"))
    create_list(alice, "uuid-9", "Trip", COLOR)
    tickets, _ = alice.add_many([{"title": "tickets", "project": "Trip"}, {"title": "bags", "project": "Trip"}])
    alice.add("sub", project="Trip", parent_id=tickets.id)
    assert delete_list(alice, "uuid-9", "Trip") == 3
    assert task_lists(alice) == [] and "Trip" not in [p for p, _, _ in alice.projects()]
    assert {t.status for t in alice.list_tasks(project="Trip", status="all", limit=9).items} == {Status.deleted}
    alice.undo()
    assert titles(alice, "Trip") == ["tickets", "bags", "sub"]
    assert [(row.path, row.name, row.props) for row in task_lists(alice)] == [("uuid-9", "Trip", COLOR)]
    # the default list stays: deleting it empties it into the trash
    alice.add("in the inbox")
    create_list(alice, "empty", "Empty", {})
    assert delete_list(alice, "inbox", "inbox") == 1
    assert ("inbox", 0, 0) not in alice.projects() and alice.trash_size() == 1
    assert delete_list(alice, "empty", "Empty") == 0, "an empty list goes at once (not a step of undo)"
    assert [row.name for row in task_lists(alice)] == ["Trip"]
    alice.undo()
    assert titles(alice, "inbox") == ["in the inbox"]


def test_shared_projects_keep_their_names(backend: Store) -> None:
    alice = TodoService(backend, owner="alice", tz=ZoneInfo("UTC"))
    bob = TodoService(backend, owner="bob", tz=ZoneInfo("UTC"))
    alice.add("plan", project="work")
    alice.share_project("work", "bob")
    with pytest.raises(Conflict, match="unshare"):
        update_list(alice, "work", "work", "job", {})
    with pytest.raises(Conflict, match="only its owner"):
        update_list(bob, "x-1", "alice/work", "mine", {})
    with pytest.raises(Conflict, match="shared with you"):
        create_list(bob, "new", "alice/work", {})
    update_list(alice, "work", "work", "work", COLOR)  # properties only: fine
    assert titles(bob, "alice/work") == ["plan"]
    # a member deleting the shared list trashes its tasks, as deleting them one by one does
    assert delete_list(bob, "x-1", "alice/work") == 1
    assert titles(alice, "work", "deleted") == ["plan"] and titles(bob, "alice/work") == []
    assert [share.mount for share in bob.shares()[1]] == ["alice/work"], "bob still has the list"
    bob.undo()
    assert titles(alice, "work") == ["plan"]
