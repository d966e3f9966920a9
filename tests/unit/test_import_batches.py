"""Big imports and the other writers (issue 11, point 5), on both backends: a preview takes
no write lock, a real import commits in batches so another writer waits about a batch, one
undo still reverts the whole import, a failed import leaves nothing, and an import killed
half-way is completed by running it again."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.env import subprocess_env

from mcp_server_todo.errors import InvalidInput
from mcp_server_todo.model import Change, ListQuery
from mcp_server_todo.service import TodoService, Transfer, undo
from mcp_server_todo.store import Store, open_store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

OWNER = "alice"
WAIT_BOUND = 3.0
"""The longest another writer may wait for an import: batches commit every 0.5 s, plus the
last flush of new tasks (slow on a loaded machine); the imports here take much longer."""


def big(store: Store, count: int) -> int:
    """`count` tasks on SQLite, a fifth on PostgreSQL: its imports write row by row, so a
    fifth already takes several batches there, and CI stays short."""
    return count // 5 if store.url.startswith(("postgresql:", "postgres:")) else count


def lines(count: int, start: int = 0) -> list[str]:
    return [f"(B) 2024-03-0{i % 9 + 1} Imported task {i} +p{i % 40} @c{i % 7}\n" for i in range(start, start + count)]


def total(store: Store, owner: str = OWNER) -> int:
    with store.read(owner) as tx:
        return tx.query(ListQuery(status=None, limit=1)).total


class Background:
    """An import (or another call) on a worker thread, its result or error kept."""

    def __init__(self, store: Store, text: list[str], *, dry_run: bool, call: Callable[[], Any] | None = None) -> None:
        self.report: Any = None
        self.error: BaseException | None = None
        self.ended = 0.0

        def run() -> None:
            try:
                if call is not None:
                    self.report = call()
                else:
                    self.report = Transfer(store, owner=OWNER).import_lines(text, "todotxt", dry_run=dry_run)
            except BaseException as exc:
                self.error = exc
            self.ended = time.monotonic()

        self.thread = threading.Thread(target=run, daemon=True)
        self.started = time.monotonic()
        self.thread.start()

    def join(self) -> None:
        self.thread.join(240)
        assert not self.thread.is_alive()
        # else a writer waiting for all of it (as before batches) would wait less than the bound
        assert self.ended - self.started > WAIT_BOUND + 1, "the import was too quick to tell: make it bigger"


def timed_adds(service: TodoService, job: Background, count: int, pause: float) -> list[float]:
    """`count` new tasks while the import runs; how long each waited."""
    waits = []
    time.sleep(0.5)  # the import is under way
    for n in range(count):
        began = time.monotonic()
        service.add(f"written during the import {n}")
        waits.append(time.monotonic() - began)
        time.sleep(pause)
    assert job.thread.is_alive(), "the import ended before the other writer was done: make the file bigger"
    return waits


@pytest.mark.stress  # a 200,000-line preview, seconds long
def test_a_preview_takes_no_write_lock(backend: Store) -> None:
    n = 200_000  # a preview writes nothing: as quick on PostgreSQL as on SQLite
    job = Background(backend, lines(n), dry_run=True)
    waits = timed_adds(TodoService(backend, owner=OWNER), job, 4, 0.2)
    job.join()
    assert job.error is None and job.report is not None
    assert job.report.added == n and job.report.dry_run
    assert max(waits) < WAIT_BOUND, waits  # before: each add waited for the whole preview
    assert total(backend) == 4  # the preview wrote nothing


@pytest.mark.stress
def test_batches_let_another_writer_in_and_one_undo_reverts_the_whole_import(backend: Store) -> None:
    n = big(backend, 60_000)
    job = Background(backend, lines(n), dry_run=False)
    service = TodoService(backend, owner=OWNER)
    waits = timed_adds(service, job, 4, 0.3)
    job.join()
    assert job.error is None and job.report is not None and job.report.added == n
    assert max(waits) < WAIT_BOUND, waits  # before: the first add waited for the whole import
    assert total(backend) == n + 4
    undone = service.undo()  # the import ended last: its whole group, every batch
    assert len(undone) == n and {u.op for u in undone} == {"add"}
    assert [t.title for t in service.list_tasks(limit=10).items] == [f"written during the import {n}" for n in range(4)]
    assert [u.title for u in service.undo()] == ["written during the import 3"]  # then the adds, one by one

    # and a second run of the same file adds it all again
    again = Transfer(backend, owner=OWNER).import_lines(lines(n), "todotxt")
    assert again.added == n and total(backend) == n + 3


@pytest.mark.stress
def test_undo_of_a_big_import_lets_another_writer_in(backend: Store) -> None:
    n = big(backend, 60_000)
    Transfer(backend, owner=OWNER).import_lines(lines(n), "todotxt")
    service = TodoService(backend, owner=OWNER)
    job = Background(backend, [], dry_run=False, call=service.undo)
    waits = timed_adds(service, job, 4, 0.3)
    job.join()
    assert job.error is None and len(job.report) == n
    assert max(waits) < WAIT_BOUND, waits  # before: the first add waited for the whole undo
    assert total(backend) == 4  # the adds made during the undo stay
    assert [u.title for u in service.undo()] == ["written during the import 3"]


def test_a_failed_import_leaves_nothing_after_several_batches(backend: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(undo, "BATCH_SECONDS", 0.05)  # batches of 50 ms: a tenth of the file is as many batches
    bad = [*lines(big(backend, 3_000)), "+only_a_project @and_a_context\n"]
    began = time.monotonic()
    with pytest.raises(InvalidInput, match="nothing was imported"):
        Transfer(backend, owner=OWNER).import_lines(bad, "todotxt", strict=True)
    assert time.monotonic() - began > 2 * undo.BATCH_SECONDS  # batches were committed, then reverted
    assert total(backend) == 0
    service = TodoService(backend, owner=OWNER)
    with pytest.raises(Exception, match="nothing to undo"):
        service.undo()


@pytest.mark.stress  # an 80,000-line import in a subprocess, killed half-way
def test_an_import_killed_half_way_is_completed_by_running_it_again(tmp_path: Path, isolated_env: Path) -> None:
    db = tmp_path / "killed.db"
    source = tmp_path / "big.txt"
    source.write_text("".join(lines(80_000)), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_server_todo", "import", str(source), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=subprocess_env(isolated_env),
    )
    store = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for the first committed batches
            time.sleep(0.2)
            if db.exists():
                store = store or open_store("sqlite:///" + db.as_posix().lstrip("/"))
                if total(store, "local") >= 5_000:
                    break
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert store is not None
        landed = total(store, "local")
        assert 0 < landed < 80_000, landed

        report = Transfer(store).import_lines(source.read_text(encoding="utf-8").splitlines(True), "todotxt")
        assert (report.added, report.skipped, report.problems) == (80_000 - landed, landed, 0)
        assert total(store, "local") == 80_000
        titles = {t.title for t in TodoService(store).list_tasks(limit=500, query="Imported task 79999").items}
        assert titles == {"Imported task 79999"}
    finally:
        if proc.poll() is None:
            proc.kill()
        if store is not None:
            store.close()


def test_a_transaction_can_continue_the_group_of_an_earlier_one(backend: Store) -> None:
    """The store methods behind batches (contract, both backends): current_group, join_group,
    group_entries, and next_id, which takes nothing; undo reverts the group of the newest entry."""
    service = TodoService(backend, owner=OWNER)
    model = service.add("before")
    with backend.read(OWNER) as tx:
        upcoming = tx.next_id()
    with backend.read(OWNER) as tx:
        assert tx.next_id() == upcoming  # reading it took nothing

    def add(tx: Any, title: str) -> None:
        task_id = tx.allocate_id()
        task = model.model_copy(update={"id": task_id, "title": title, "uid": None})
        tx.put(task)
        tx.log(Change(op="add", task_id=task_id, before=None, after=task))

    with backend.write(OWNER) as tx:
        assert tx.current_group() == 0
        add(tx, "batch one 0")
        add(tx, "batch one 1")
        group = tx.current_group()
    assert group > 0
    service.add("between")  # another writer between two batches: its own group
    with backend.write(OWNER) as tx:
        tx.join_group(group)
        add(tx, "batch two")
        assert tx.current_group() == group
    with backend.read(OWNER) as tx:
        entries = tx.group_entries(group)
    assert [e.after.title for e in entries if e.after] == ["batch one 0", "batch one 1", "batch two"]
    assert {e.group for e in entries} == {group}
    assert [u.title for u in service.undo()] == ["batch two", "batch one 1", "batch one 0"]  # one step
    assert [t.title for t in service.list_tasks().items] == ["before", "between"]


def test_an_undo_that_meets_a_running_import_leaves_the_rest_undoable(backend: Store) -> None:
    """An undo of a big group reverts the entries it read, in batches; an import still running
    logs more batches in that group meanwhile. Those were not reverted, so they must stay
    undoable: the next undo reverts them (before: the group was marked undone whole, and the
    next undo reverted the user's previous change instead)."""
    service = TodoService(backend, owner=OWNER)
    model = service.add("before the import")

    def add(tx: Any, title: str) -> None:
        task_id = tx.allocate_id()
        task = model.model_copy(update={"id": task_id, "title": title, "uid": None})
        tx.put(task)
        tx.log(Change(op="add", task_id=task_id, before=None, after=task))

    with backend.write(OWNER) as tx:  # the import's first batch
        add(tx, "batch one")
        group = tx.current_group()
    with backend.read(OWNER) as tx:  # an undo reads the group ...
        entries = tx.last_group()
    assert [e.group for e in entries] == [group]
    with backend.write(OWNER) as tx:  # ... the import commits its next batch ...
        tx.join_group(group)
        add(tx, "batch two")
    undo.revert(backend, OWNER, entries, "2026-01-01T00:00:00Z")  # ... and the undo reverts in batches

    assert sorted(t.title for t in service.list_tasks().items) == ["batch two", "before the import"]
    assert [u.title for u in service.undo()] == ["batch two"]  # the rest of the import, not the older add
    assert [t.title for t in service.list_tasks().items] == ["before the import"]


def linked_lines(pairs: int) -> list[str]:
    """A parent and a subtask per pair: the subtasks are held until every record is read."""
    text = []
    for i in range(pairs):
        text.append(f"Parent {i} uid:p{i}\n")
        text.append(f"Subtask {i} parent:p{i}\n")
    return text


@pytest.mark.stress
def test_the_held_records_of_an_import_commit_in_batches_too(backend: Store) -> None:
    """Records that name a parent (or dependencies) are written at the end, once every key is
    known: those writes commit in batches as well (before: one transaction for all of them, and
    another writer waited for the whole of it, seconds)."""
    pairs = big(backend, 40_000)  # SQLite before: 6 s locked; PostgreSQL 8,000 pairs: ~8 s on a quiet box
    job = Background(backend, linked_lines(pairs), dry_run=False)
    service = TodoService(backend, owner=OWNER)
    waits = []
    time.sleep(0.5)
    while job.thread.is_alive():  # the whole import, its held records included
        began = time.monotonic()
        service.add("written during the import")
        waits.append(time.monotonic() - began)
        time.sleep(0.2)
    job.join()
    assert job.error is None and job.report is not None and job.report.added == 2 * pairs
    assert max(waits) < WAIT_BOUND, waits
    undone = service.undo()
    while len(undone) == 1:  # the adds made after the import's last batch come first
        undone = service.undo()
    assert len(undone) == 2 * pairs  # still one undo step
