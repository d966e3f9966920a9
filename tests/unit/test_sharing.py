"""Shared projects through the service, on SQLite and PostgreSQL (real databases): alice shares
her project "work" with bob; carol is nobody's member. Members see and edit the project's tasks
under their own ids; everyone else sees nothing of it, exactly as before."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from mcp_server_todo.errors import Conflict, InvalidInput, NotFound, TodoError
from mcp_server_todo.model import Status
from mcp_server_todo.service import TodoService, Transfer
from mcp_server_todo.store import Store, open_store


def user(store: Store, name: str) -> TodoService:
    return TodoService(store, owner=name, tz=ZoneInfo("UTC"))


def titles(service: TodoService, **filters: object) -> list[str]:
    return [t.title for t in service.list_tasks(limit=200, **filters).items]  # type: ignore[arg-type]


def ids_by_title(service: TodoService, **filters: object) -> dict[str, int]:
    return {t.title: t.id for t in service.list_tasks(limit=200, status="all", **filters).items}  # type: ignore[arg-type]


@pytest.fixture
def team(backend: Store) -> tuple[TodoService, TodoService, TodoService]:
    alice, bob, carol = user(backend, "alice"), user(backend, "bob"), user(backend, "carol")
    bob.add("bob: own task")  # bob's ids and alice's overlap: both start at 1
    alice.add_many([{"title": "write report", "project": "work"}, {"title": "book venue", "project": "work"}])
    alice.add("alice: private", project="home")
    return alice, bob, carol


def test_members_see_the_project_under_their_own_ids_others_see_nothing(team: tuple[TodoService, ...]) -> None:
    alice, bob, carol = team
    share, count = alice.share_project("work", "bob")
    assert (share.mount, count) == ("alice/work", 2)
    assert titles(bob) == ["bob: own task", "write report", "book venue"]
    copies = ids_by_title(bob, project="alice/work")
    assert set(copies) == {"write report", "book venue"}
    assert 1 not in copies.values(), "copies get new ids in bob's own sequence"
    assert ("alice/work", 2, 0) in bob.projects()
    assert "alice: private" not in titles(bob, status="all")
    assert titles(carol, status="all") == []
    assert titles(alice) == ["write report", "book venue", "alice: private"], "the owner's list is unchanged"
    # sharing again is a no-op
    assert alice.share_project("work", "bob") == (share, 2)
    assert len(titles(bob)) == 3


def test_a_members_edits_reach_the_owner_and_are_undone_only_by_the_member(team: tuple[TodoService, ...]) -> None:
    alice, bob, _ = team
    alice.share_project("work", "bob")
    report = ids_by_title(bob)["write report"]
    bob.update(report, priority="high", notes="draft attached")
    bob.complete(report)
    mine = alice.list_tasks(status="all", project="work").items
    original = next(t for t in mine if t.title == "write report")
    assert (original.status, original.priority.value, original.notes) == (Status.done, "high", "draft attached")
    history = alice.history(original.id)
    assert [(c.op, c.actor) for c in history[:2]] == [("complete", "bob"), ("update", "bob")]
    # alice's undo is about alice's own changes: bob's completion stays
    alice.update(ids_by_title(alice)["alice: private"], title="alice: private (edited)")
    assert [u.op for u in alice.undo()] == ["update"]
    assert alice.get(original.id).status is Status.done
    # bob's undo reverts bob's completion, for everyone
    assert [u.op for u in bob.undo()] == ["complete"]
    assert alice.get(original.id).status is Status.pending
    assert bob.get(report).status is Status.pending


def test_the_owners_edits_reach_members_and_feed_their_watchers(team: tuple[TodoService, ...]) -> None:
    alice, bob, _ = team
    alice.share_project("work", "bob")
    cursor = bob.last_change_id()
    venue = ids_by_title(alice)["book venue"]
    alice.update(venue, due="2026-12-01")
    copy = ids_by_title(bob)["book venue"]
    assert bob.get(copy).due == "2026-12-01"
    feed = bob.changes_since(cursor)
    assert [(c.op, c.task_id, c.actor) for c in feed] == [("update", copy, "alice")]
    # bob's undo is about bob's own changes: it reverts his add, not alice's edit or the sharing
    assert [(u.op, u.title) for u in bob.undo()] == [("add", "bob: own task")]
    assert bob.get(copy).due == "2026-12-01"
    with pytest.raises(Conflict, match="nothing to undo"):
        bob.undo()


def test_tasks_added_to_a_shared_project_belong_to_its_owner(team: tuple[TodoService, ...]) -> None:
    alice, bob, carol = team
    alice.share_project("work", "bob")
    alice.share_project("work", "carol")
    added = bob.add("order catering", project="alice/work", tags=["food"])
    assert "order catering" in titles(alice, project="work")
    assert "order catering" in titles(carol, project="alice/work")
    theirs = ids_by_title(alice)["order catering"]
    assert alice.get(theirs).tags == ["food"]
    # a subtask under a shared task, added by a member: the owner sees it under her task
    report_bob = ids_by_title(bob)["write report"]
    child = bob.add("collect figures", project="alice/work", parent_id=report_bob)
    report_alice = ids_by_title(alice)["write report"]
    assert alice.get(ids_by_title(alice)["collect figures"]).parent_id == report_alice
    assert carol.get(ids_by_title(carol)["collect figures"]).parent_id == ids_by_title(carol)["write report"]
    # bob's undo removes his task from everyone's lists
    bob.undo()
    assert "collect figures" not in titles(alice, status="all")
    assert "collect figures" not in titles(carol, status="all")
    with pytest.raises(NotFound):
        bob.get(child.id)
    assert bob.get(added.id).title == "order catering"


def test_moves_in_and_out_of_a_shared_project(team: tuple[TodoService, ...]) -> None:
    alice, bob, _ = team
    alice.share_project("work", "bob")
    private = ids_by_title(alice)["alice: private"]
    alice.update(private, project="work")
    copy = ids_by_title(bob)["alice: private"]
    alice.update(private, project="home")
    assert "alice: private" not in titles(bob, status="all")
    alice.update(private, project="work")
    assert ids_by_title(bob)["alice: private"] == copy, "a task that comes back keeps the member's id"
    # members move tasks only between the owner's projects shared with them
    with pytest.raises(Conflict, match="can only move"):
        bob.update(copy, project="bob-stuff")
    with pytest.raises(Conflict, match="cannot move into alice/work"):
        bob.update(ids_by_title(bob)["bob: own task"], project="alice/work")
    with pytest.raises(InvalidInput, match="not in a project alice shares"):
        bob.add("sub", project="alice/work", parent_id=ids_by_title(bob)["bob: own task"])
    assert alice.get(private).project == "work"


def test_a_members_undo_never_brings_back_what_the_owner_took_out(team: tuple[TodoService, ...]) -> None:
    alice, bob, _ = team
    alice.share_project("work", "bob")
    copies = ids_by_title(bob)
    bob.update_many([copies["write report"], copies["book venue"]], priority="high")
    report, venue = ids_by_title(alice)["write report"], ids_by_title(alice)["book venue"]
    alice.update(venue, project="home")  # out of the shared project
    alice.delete(report)
    alice.empty_trash()
    undone = bob.undo()  # his priority change: nothing of it can be reverted any more...
    assert [(u.op, u.title) for u in undone] == [("add", "bob: own task")], "...so it reverts his add"
    assert alice.get(venue).project == "home" and alice.get(venue).priority.value == "high"
    assert "write report" not in titles(alice, status="all")


def test_a_member_who_imported_the_owners_tasks_can_still_join(backend: Store) -> None:
    """bob once imported alice's export (same uids); her sharing must not collide with his tasks."""
    alice, bob = user(backend, "alice"), user(backend, "bob")
    alice.add_many([{"title": "one", "project": "work"}, {"title": "two", "project": "work"}])
    dump = io.StringIO()
    Transfer(backend, owner="alice").export("json", dump)
    Transfer(backend, owner="bob").import_lines(dump.getvalue().splitlines(keepends=True), "json")
    assert sorted(titles(bob)) == ["one", "two"]
    alice.share_project("work", "bob")
    assert sorted(titles(bob)) == ["one", "one", "two", "two"]
    mine = alice.get(ids_by_title(alice)["one"])
    copy = bob.get(ids_by_title(bob, project="alice/work")["one"])
    assert mine.uid != copy.uid
    bob.update(copy.id, notes="edited by bob")
    assert alice.get(mine.id).uid == mine.uid, "the owner's uid stays"


def test_unsharing_hides_everything_like_tasks_that_never_existed(team: tuple[TodoService, ...]) -> None:
    alice, bob, carol = team
    alice.share_project("work", "bob")
    copies = ids_by_title(bob, project="alice/work")
    bob.complete(copies["book venue"])
    assert alice.unshare_project("work", "bob") == 2
    assert titles(bob, status="all") == ["bob: own task"]
    for task_id in copies.values():
        for op in (bob.get, bob.complete, lambda i: bob.update(i, title="x"), bob.delete):
            with pytest.raises(NotFound) as got:
                op(task_id)
            with pytest.raises(NotFound) as nobody:
                op(9999)
            assert str(got.value).replace(str(task_id), "N") == str(nobody.value).replace("9999", "N")
    # bob's undo cannot bring back (or change) a task he no longer sees
    assert [(u.op, u.title) for u in bob.undo()] == [("add", "bob: own task")], "skips his completion"
    assert titles(bob, status="all") == []
    assert alice.get(ids_by_title(alice)["book venue"]).status is Status.done
    with pytest.raises(NotFound, match="not shared with carol"):
        alice.unshare_project("work", "carol")
    # shared again: the same ids come back
    alice.share_project("work", "bob")
    assert ids_by_title(bob, project="alice/work") == copies
    assert titles(carol, status="all") == []


def test_only_the_owner_shares_and_names_never_clash(team: tuple[TodoService, ...]) -> None:
    alice, bob, carol = team
    alice.share_project("work", "bob")
    with pytest.raises(Conflict, match="only alice can share it"):
        bob.share_project("alice/work", "carol")
    with pytest.raises(InvalidInput, match="that is you"):
        alice.share_project("work", "alice")
    with pytest.raises(InvalidInput, match="not a user name"):
        alice.share_project("work", "carol smith")
    oauth_user = "https://login.example.com/#auth0|5f1a"  # how --auth oauth names its users
    assert alice.share_project("work", oauth_user)[0].mount == "alice/work"
    # carol already has a project called alice/work of her own: the shared one gets another name
    carol.add("carol's", project="alice/work")
    share, _ = alice.share_project("work", "carol")
    assert share.mount == "alice/work (2)"
    assert titles(carol, project="alice/work") == ["carol's"]
    assert titles(carol, project="alice/work (2)") == ["write report", "book venue"]
    mine, with_me = alice.shares()
    assert [(s.project, s.member) for s in mine] == [("work", "bob"), ("work", "carol"), ("work", oauth_user)]
    assert with_me == []
    assert [(s.owner, s.mount) for s in bob.shares()[1]] == [("alice", "alice/work")]


def test_recurrence_trash_and_bulk_calls_across_owners(team: tuple[TodoService, ...]) -> None:
    alice, bob, _ = team
    alice.add("weekly sync", project="work", recur="every monday")
    alice.share_project("work", "bob")
    copies = ids_by_title(bob)
    own = copies["bob: own task"]
    done = bob.complete_many([own, copies["weekly sync"]])
    assert {t.title for t in done.done} == {"bob: own task", "weekly sync"}
    assert [t.title for t in done.created] == ["weekly sync"]
    assert titles(alice, project="work").count("weekly sync") == 1, "the next occurrence is alice's"
    assert titles(bob, project="alice/work").count("weekly sync") == 1
    bob.delete(copies["book venue"])
    venue = ids_by_title(alice)["book venue"]
    assert alice.get(venue).status is Status.deleted
    # bob empties his trash: his copy goes, alice's trash keeps the task; she restores it for both
    assert bob.empty_trash() == 1
    assert alice.get(venue).status is Status.deleted
    alice.update(venue, status="pending")
    assert bob.get(copies["book venue"]).status is Status.pending
    with pytest.raises(TodoError):
        bob.update_many([own, copies["write report"]], project="alice/work")  # all or nothing
    assert bob.get(own).project == "inbox"
    assert alice.get(ids_by_title(alice)["write report"]).project == "work"


def test_concurrent_owner_and_member_writes_lose_nothing(backend: Store) -> None:
    alice, bob = user(backend, "alice"), user(backend, "bob")
    shared = alice.add_many([{"title": f"shared {i}", "project": "work"} for i in range(4)])
    alice.share_project("work", "bob")
    bob_copies = ids_by_title(bob)
    errors: list[BaseException] = []

    def writer(service: TodoService, targets: list[int], label: str) -> None:
        try:
            for n in range(15):
                for task_id in targets:
                    service.update(task_id, notes=f"{label} {n}")
                service.add(f"{label} own {n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(alice, [shared[0].id, shared[1].id], "alice")),
        threading.Thread(target=writer, args=(bob, [bob_copies["shared 2"], bob_copies["shared 3"]], "bob")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    notes = {t.title: t.notes for t in alice.list_tasks(project="work", limit=200).items}
    assert notes == {"shared 0": "alice 14", "shared 1": "alice 14", "shared 2": "bob 14", "shared 3": "bob 14"}
    copies = {t.title: t.notes for t in bob.list_tasks(project="alice/work", limit=200).items}
    assert copies == notes, "every copy matches its task"
    assert len(titles(alice, project="inbox")) == 15
    assert len(titles(bob, project="inbox")) == 15


def test_owners_sharing_with_each_other_write_concurrently_without_deadlock(backend: Store) -> None:
    """alice shares with bob and bob with alice and carol: every writer touches the others' rows,
    in both directions at once (on PostgreSQL, the case the sharing lock exists for)."""
    people = {name: user(backend, name) for name in ("alice", "bob", "carol")}
    people["alice"].add_many([{"title": f"a{i}", "project": "a-proj"} for i in range(3)])
    people["bob"].add_many([{"title": f"b{i}", "project": "b-proj"} for i in range(3)])
    people["alice"].share_project("a-proj", "bob")
    people["bob"].share_project("b-proj", "alice")
    people["bob"].share_project("b-proj", "carol")
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        service = people[name]
        try:
            tasks = service.list_tasks(limit=100).items
            for n in range(10):
                for task in tasks:
                    service.update(task.id, notes=f"{name} {n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for name, service in people.items():
        for task in service.list_tasks(limit=100).items:
            assert task.notes.split()[1] == "9", (name, task.title, task.notes)
    # and every copy equals its task
    originals = {t.title: t.notes for t in people["bob"].list_tasks(project="b-proj").items}
    assert {t.title: t.notes for t in people["carol"].list_tasks(project="bob/b-proj").items} == originals
    assert {t.title: t.notes for t in people["alice"].list_tasks(project="bob/b-proj").items} == originals


def against_the_sharing_lock(url: str, write: Callable[[], object]) -> tuple[bool, list[tuple[int]], bool]:
    """PostgreSQL: run `write` on a thread while another transaction holds the sharing lock.
    Returns whether it was still waiting half a second later, what the holder then got when it
    asked for alice's owner row (within 2 s: [(1,)] if nobody held it), and whether the write
    finished once the lock was released."""
    import psycopg

    with psycopg.connect(url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('mcp-server-todo sharing ' || current_schema()))")
        done = threading.Event()
        thread = threading.Thread(target=lambda: (write(), done.set()))
        thread.start()
        time.sleep(0.5)
        still_waiting = not done.is_set()
        holder.execute("SET lock_timeout = '2s'")
        holder.execute("SELECT set_config('todo.owner', 'alice', true)")
        alice_row = holder.execute("SELECT 1 FROM owners WHERE owner = 'alice' FOR UPDATE").fetchall()
        holder.commit()
        thread.join(timeout=10)
    return still_waiting, alice_row, done.is_set()


@pytest.mark.postgres
def test_a_sharing_writer_waits_for_the_sharing_lock_holding_no_owner_row(postgres_url: str) -> None:
    """PostgreSQL: while another transaction holds the sharing lock, a writer involved in a share
    starts over and waits for it first, so it holds no owner row the holder might need."""
    from support.pg import schema_url

    with schema_url(postgres_url) as url:
        store = open_store(url)
        try:
            alice, bob = user(store, "alice"), user(store, "bob")
            task = alice.add("shared", project="work")
            alice.share_project("work", "bob")
            waiting, alice_row, done = against_the_sharing_lock(url, lambda: alice.update(task.id, notes="waited"))
            assert waiting, "the writer waits for the sharing lock"
            # meanwhile the holder can take alice's owner row: nobody holds it
            assert alice_row == [(1,)]
            assert done
            assert bob.get(ids_by_title(bob)["shared"]).notes == "waited"
        finally:
            store.close()


@pytest.mark.postgres
def test_sharing_takes_the_sharing_lock_before_any_owner_row(postgres_url: str) -> None:
    """PostgreSQL: alice, who shares nothing yet, shares a project while another transaction
    holds the sharing lock and needs alice's owner row (carol sharing with alice, say): alice's
    transaction waits for the lock without holding her row, so the other one finishes."""
    from support.pg import schema_url

    with schema_url(postgres_url) as url:
        store = open_store(url)
        try:
            alice = user(store, "alice")
            alice.add("plan", project="work")
            waiting, alice_row, done = against_the_sharing_lock(url, lambda: alice.share_project("work", "bob"))
            assert waiting, "alice's sharing waits for the lock"
            assert alice_row == [(1,)]
            assert done
            assert titles(user(store, "bob")) == ["plan"]
        finally:
            store.close()


def test_big_imports_their_undo_and_their_failure_reach_every_member(
    team: tuple[TodoService, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import commits in batches and a big undo reverts in batches (undo.revert), each in its
    own transaction: each must go through the fan-out, or members keep copies the owner lost."""
    from mcp_server_todo.service import tasks, undo

    monkeypatch.setattr(undo, "BATCH_SECONDS", 0.01)  # many batches
    monkeypatch.setattr(tasks, "UNDO_AT_ONCE", 100)  # a big undo from 101 entries on
    alice, bob, _ = team
    alice.share_project("work", "bob")
    lines = [f"Imported {i} +work\n" for i in range(300)]
    report = Transfer(alice.store, owner="alice").import_lines(lines, "todotxt")
    assert report.added == len(lines)
    assert bob.list_tasks(project="alice/work", limit=1).total == len(lines) + 2
    assert len(alice.undo()) == len(lines)  # more than UNDO_AT_ONCE: reverted in batches
    assert bob.list_tasks(project="alice/work", status="all", limit=1).total == 2
    with pytest.raises(InvalidInput, match="nothing was imported"):
        Transfer(alice.store, owner="alice").import_lines([*lines, "+only_a_project @ctx\n"], "todotxt", strict=True)
    assert bob.list_tasks(project="alice/work", status="all", limit=1).total == 2
    assert alice.list_tasks(project="work", status="all", limit=1).total == 2


def test_a_members_new_task_keeps_its_uid_for_them_and_never_collides_with_the_owners(
    team: tuple[TodoService, ...],
) -> None:
    alice, bob, _ = team
    alice.share_project("work", "bob")
    secret = alice.list_tasks(project="home").items[0].uid
    assert secret is not None
    mine, theirs = bob.add_many(
        [{"title": "phone task", "project": "alice/work"}, {"title": "same uid", "project": "alice/work"}],
        uids=["phone-uid", secret],
    )
    assert (mine.uid, theirs.uid) == ("phone-uid", secret), "bob's copies keep the UIDs bob gave"
    assert bob.get_by_uid("phone-uid") is not None and bob.get_by_uid(secret) is not None
    owned = {t.title: t.uid for t in alice.list_tasks(project="work").items}
    assert owned["phone task"] == "phone-uid"
    assert owned["same uid"] not in (None, secret), "the owner's task gets a fresh UID"
    alice.update(ids_by_title(alice)["phone task"], title="phone task v2")
    assert bob.get(mine.id).uid == "phone-uid" and bob.get(mine.id).title == "phone task v2"
