"""SQLite's group commit (store/sqlite_sync.py) on real files: with synchronous=FULL every
write is on disk before its transaction returns, by an fsync that began after its commit;
writes that commit while an fsync runs share the next one; a failed fsync is a one-line
error for the writes it was to cover and for every later write (reads go on)."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from mcp_server_todo.errors import StorageError
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import durable_later
from mcp_server_todo.store import sqlite_sync as sync_module
from mcp_server_todo.store.sqlite import SQLiteStore
from mcp_server_todo.store.sqlite_sync import GroupSync

pytestmark = pytest.mark.timeout(60)

WRITERS = 8
EACH = 5


class Recorded(GroupSync):
    """The store's GroupSync, its real fsync slowed down (a slow disk: `delay` s) and timed."""

    def __init__(self, database: Path, delay: float) -> None:
        super().__init__(database)
        self.delay = delay
        self.commits: dict[int, float] = {}  # number -> when it was committed
        self.syncs: list[tuple[float, float]] = []  # (began, ended) of each fsync
        self.mine = threading.local()  # the number of this thread's last commit

    def committed(self) -> int:
        number = super().committed()
        self.commits[number] = time.monotonic()
        self.mine.number = number
        return number

    def _fsync(self) -> None:
        began = time.monotonic()
        time.sleep(self.delay)
        super()._fsync()
        self.syncs.append((began, time.monotonic()))


def store_with(path: Path, delay: float = 0.0) -> tuple[SQLiteStore, Recorded]:
    store = SQLiteStore(path, synchronous="full")
    assert store._group is not None, "FULL in WAL mode commits in groups"
    recorded = Recorded(path, delay)
    store._group = recorded
    return store, recorded


def titles_on_disk(path: Path) -> list[str]:
    store = SQLiteStore(path)
    try:
        return sorted(t.title for t in TodoService(store).list_tasks(limit=500).items)
    finally:
        store.close()


def test_concurrent_writes_all_land_durably_and_share_fsyncs(tmp_path: Path) -> None:
    db = tmp_path / "todo.db"
    store, recorded = store_with(db, delay=0.05)
    ids: dict[int, list[int]] = {}

    def writer(n: int) -> None:
        service = TodoService(store)
        ids[n] = [service.add(f"writer {n} task {k}").id for k in range(EACH)]

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    store.close()

    expected = sorted(f"writer {n} task {k}" for n in range(WRITERS) for k in range(EACH))
    assert titles_on_disk(db) == expected  # every write, reopened from the file
    writes = WRITERS * EACH
    assert len(recorded.commits) == writes
    # with a 50 ms fsync, the writes that commit during one share the next
    assert len(recorded.syncs) <= writes // 2, (len(recorded.syncs), writes)
    for n in range(WRITERS):  # each writer's tasks in the order it added them
        assert ids[n] == sorted(set(ids[n])), ids[n]


def test_no_write_returns_before_an_fsync_that_began_after_its_commit(tmp_path: Path) -> None:
    store, recorded = store_with(tmp_path / "todo.db", delay=0.02)
    returned: dict[int, float] = {}  # commit number -> when its write transaction returned

    def writer(n: int) -> None:
        service = TodoService(store)
        for k in range(EACH):
            service.add(f"writer {n} task {k}")
            returned[recorded.mine.number] = time.monotonic()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    store.close()
    assert sorted(returned) == sorted(recorded.commits) and len(returned) == 4 * EACH
    for number, at in returned.items():  # an fsync began after the commit and ended before the return
        committed_at = recorded.commits[number]
        assert any(committed_at <= began and ended <= at for began, ended in recorded.syncs), number


def test_on_a_slow_disk_durable_later_leaves_the_wait_to_the_caller(tmp_path: Path) -> None:
    store, recorded = store_with(tmp_path / "todo.db", delay=0.01)  # 10 ms fsyncs
    service = TodoService(store)
    service.add("first")  # outside durable_later: the transaction waits itself
    assert len(recorded.syncs) == 1 and recorded.slow()
    with durable_later() as waits:
        service.add("saved later")
    assert len(waits) == 1 and len(recorded.syncs) == 1  # committed, not yet waited for
    for wait in waits:
        wait()
    assert len(recorded.syncs) == 2
    store.close()
    assert titles_on_disk(tmp_path / "todo.db") == ["first", "saved later"]


def test_ahead_the_fsync_runs_while_the_caller_goes_on_and_the_wait_ends_with_it(tmp_path: Path) -> None:
    store, recorded = store_with(tmp_path / "todo.db", delay=0.05)  # 50 ms fsyncs
    service = TodoService(store)
    began = time.monotonic()
    with durable_later(ahead=True) as waits:
        service.add("on its way")
    returned = time.monotonic()
    assert len(waits) == 1 and returned - began < 0.04  # the commit returned: its fsync runs on
    waits[0]()
    assert len(recorded.syncs) == 1
    fsync_began, fsync_ended = recorded.syncs[0]
    assert fsync_began < returned  # it had started before the caller went on
    assert time.monotonic() >= fsync_ended  # and the wait ended only after it
    store.close()
    assert titles_on_disk(tmp_path / "todo.db") == ["on its way"]


def test_ahead_a_failed_fsync_is_raised_by_the_wait_and_no_later_write_is_confirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "todo.db"
    store = SQLiteStore(db, synchronous="full")
    service = TodoService(store)
    real = os.fsync
    failures = [OSError(errno.EIO, "Input/output error")]

    def fsync(fd: int) -> None:
        if failures:
            raise failures.pop()
        real(fd)

    monkeypatch.setattr(sync_module.os, "fsync", fsync)
    with durable_later(ahead=True) as waits:
        service.add("maybe lost")
    with pytest.raises(StorageError, match=r"the disk did not confirm the last write to .*Input/output error"):
        waits[0]()
    with durable_later(ahead=True) as waits:
        service.add("not confirmed")
    with pytest.raises(StorageError, match=r"No later write can be confirmed either: restart the server"):
        waits[0]()
    assert [task.title for task in service.list_tasks().items] == ["maybe lost", "not confirmed"]
    store.close()


def test_on_a_quick_disk_the_wait_stays_where_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, recorded = store_with(tmp_path / "todo.db")
    monkeypatch.setattr(recorded, "_fsync", lambda: None)  # a disk whose fsync takes no time
    service = TodoService(store)
    for n in range(3):
        service.add(f"task {n}")
    assert not recorded.slow()
    with durable_later() as waits:
        service.add("saved now")
    assert waits == [] and recorded.fsyncs == 4  # waited for inline: a thread hop would cost more
    store.close()


def test_a_failed_fsync_is_a_one_line_error_and_no_later_write_is_confirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "todo.db"
    store = SQLiteStore(db, synchronous="full")
    service = TodoService(store)
    real = os.fsync
    failures = [OSError(errno.EIO, "Input/output error")]

    def fsync(fd: int) -> None:
        if failures:
            raise failures.pop()
        real(fd)

    monkeypatch.setattr(sync_module.os, "fsync", fsync)
    with pytest.raises(StorageError, match=r"the disk did not confirm the last write to .*Input/output error"):
        service.add("maybe lost")
    # a later fsync would succeed (the failed pages may be marked clean): it must not confirm anything
    with pytest.raises(StorageError, match=r"^the disk did not confirm .*\. No later write can be confirmed") as later:
        service.add("not confirmed")
    assert "\n" not in str(later.value)
    assert len(service.list_tasks().items) == 2  # reads go on
    store.close()


def test_the_wal_synced_is_the_one_beside_the_real_file_and_its_folder_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link.db").symlink_to(tmp_path / "real" / "todo.db")
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(sync_module.os, "fsync", fsync)
    store = SQLiteStore(tmp_path / "link.db", synchronous="full")
    TodoService(store).add("through a link")
    TodoService(store).add("again")
    store.close()
    wal = str(tmp_path / "real" / "todo.db-wal")
    assert wal in synced and str(tmp_path / "link.db-wal") not in synced
    assert synced.count(str(tmp_path / "real")) == 1  # the new WAL's folder entry, once
    assert titles_on_disk(tmp_path / "real" / "todo.db") == ["again", "through a link"]


@pytest.mark.parametrize(("setting", "grouped"), [("full", True), ("normal", False), ("extra", False)])
def test_only_full_commits_in_groups(tmp_path: Path, setting: str, grouped: bool) -> None:
    store = SQLiteStore(tmp_path / "todo.db", synchronous=setting)
    try:
        assert (store._group is not None) == grouped
        level = store._conn.execute("PRAGMA synchronous").fetchone()[0]
        # FULL commits with NORMAL (1) and syncs the WAL itself; the others are SQLite's own
        assert level == {"full": 1, "normal": 1, "extra": 3}[setting]
    finally:
        store.close()
