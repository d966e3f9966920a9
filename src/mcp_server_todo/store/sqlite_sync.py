"""Group commit for the SQLite store: durable writes that share one fsync.

With `synchronous=FULL` (the default), SQLite fsyncs the WAL inside every COMMIT, under the
write lock: writes from several clients at once queue behind each other's fsync, one at a time,
and a slow disk caps the writes per second at one over its fsync time.

`GroupSync` makes the same promise with fewer fsyncs. The write connection commits with
`synchronous=NORMAL` (the frames reach the WAL file, not yet the disk), takes a number
(`committed`, still under the write lock) and releases the lock; then `wait_durable` returns
only once an fsync of the WAL file that began after that commit has ended. Whoever finds no
fsync running starts one, covering every commit numbered so far; whoever finds one running
waits for it and then, if it began too early, for the next. The WAL is one file written in
order, and fsync makes everything written to it before the call durable: so a commit is on
disk once its wait returns, and no caller is answered before its write is. Checkpoints keep
SQLite's own ordering (with NORMAL the WAL is synced before each checkpoint, and the database
file after).

One difference from FULL, stated plainly: another connection can read a commit during the
milliseconds before its fsync ends. A power cut then loses what it read (never what a writer
was told is saved); a write that follows from it is answered only after its own fsync, which
covers the earlier commit too.

The WAL file is opened for each fsync (never a kept descriptor that might name an old file), by
the database's real path (SQLite keeps the WAL beside the file a symlink points to); the first
fsync of each new WAL file also syncs its folder, so the file's name survives a power cut too.

A failed fsync breaks the promise for good: on Linux a failed writeback can leave the page
marked clean, so a later fsync would succeed without the lost frames, and the WAL's checksum
chain ends at the first bad frame, taking every later commit with it after a crash. So the
writes it was to cover get the one-line `StorageError`, and so does every later write of this
connection (reads go on): the server must be restarted once the disk is checked, as PostgreSQL
does after a failed fsync.

`slow()` says whether the disk's recent fsyncs take longer than handing the wait to another
thread costs (`SLOW_FSYNC_S`, against a running mean): only then is it worth waiting for one
off the event loop (store.durable_later); a quick fsync is cheaper waited for where it is.

`ahead(number)` starts that fsync at once on a worker thread of its own and returns the wait:
the caller builds its answer while the disk works (an fsync releases the GIL), and waits only
before the answer leaves (the stdio transport, server/durable_answers.py). It returns once the
worker holds the job (a hand-shake: otherwise the worker would need the GIL back from the busy
caller before it could start the fsync, and the overlap would be lost).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import StorageError

SLOW_FSYNC_S = 0.0005
"""An fsync longer than this (the running mean) is waited for off the event loop: about what
the hop to a worker thread and back costs on a small machine."""
SMOOTHING = 0.2
"""The weight of the newest fsync in the running mean: it follows a disk that slows down (or
recovers) within a few writes."""


class GroupSync:
    """The commits of one write connection, and which of them are known durable."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.wal = Path(f"{os.path.realpath(database)}-wal")  # beside the real file, as SQLite keeps it
        self._wal_synced_inode: int | None = None  # the WAL file whose folder entry is synced
        self._broken: str | None = None  # why no write can be confirmed any more (a failed fsync)
        self._cond = threading.Condition()
        self._committed = 0  # commits numbered so far
        self._durable = 0  # every commit up to this number is on disk
        self._syncing = False
        self.fsyncs = 0  # fsyncs done: fewer than commits when writes arrive together
        self.mean_fsync_s = 0.0  # running mean of an fsync's duration
        self._jobs: queue.SimpleQueue[_Ahead] | None = None  # the `ahead` worker's, made on first use

    def committed(self) -> int:
        """Number a commit that has just returned (call under the store's write lock)."""
        with self._cond:
            self._committed += 1
            return self._committed

    def wait_durable(self, number: int) -> None:
        """Return once commit `number` is on disk (see the module doc); a failed fsync raises
        `StorageError` for the writes it was to cover, and for every write after (module doc)."""
        with self._cond:
            while self._durable < number:
                if self._broken is not None:
                    raise StorageError(self._broken)
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                covers = self._committed
                try:
                    self._cond.release()
                    began = time.perf_counter()
                    try:
                        self._fsync()
                    except StorageError as exc:
                        self._broken = (
                            f"{exc}. No later write can be confirmed either: restart the server once the "
                            "disk is checked"
                        )
                        raise
                    finally:
                        took = time.perf_counter() - began
                        self._cond.acquire()
                    self._durable = max(self._durable, covers)
                    self.fsyncs += 1
                    self.mean_fsync_s += SMOOTHING * (took - self.mean_fsync_s)
                finally:
                    self._syncing = False
                    self._cond.notify_all()

    def ahead(self, number: int) -> Callable[[], None]:
        """Start making commit `number` durable on the worker thread; the wait for it (which
        raises the worker's `StorageError` if its fsync failed). See the module doc."""
        if self._jobs is None:
            self._jobs = queue.SimpleQueue()
            threading.Thread(target=self._work, args=(self._jobs,), name="todo-fsync-ahead", daemon=True).start()
        job = _Ahead(number)
        self._jobs.put(job)
        job.taken.wait(HANDOFF_WAIT_S)  # lets the worker take the GIL and begin (see the module doc)
        return job.wait

    def _work(self, jobs: queue.SimpleQueue[_Ahead]) -> None:
        while True:
            job = jobs.get()
            job.taken.set()
            try:
                self.wait_durable(job.number)
            except BaseException as exc:  # handed to the waiter, who raises it
                job.error = exc
            finally:
                job.done.set()

    def slow(self) -> bool:
        """Whether the recent fsyncs are worth waiting for off the event loop (module doc)."""
        return self.mean_fsync_s > SLOW_FSYNC_S

    def sync_all(self) -> None:
        """Make every commit so far durable (after writes made outside `committed`: migrations)."""
        self.wait_durable(self.committed())

    def _fsync(self) -> None:
        try:
            try:
                fd = os.open(self.wal, os.O_RDWR | getattr(os, "O_BINARY", 0))
            except FileNotFoundError:  # no WAL left: a checkpoint wrote everything to the file
                fd = os.open(os.path.realpath(self.database), os.O_RDWR | getattr(os, "O_BINARY", 0))
            try:
                os.fsync(fd)
                inode = os.fstat(fd).st_ino
            finally:
                os.close(fd)
            if inode != self._wal_synced_inode and os.name != "nt":  # a new WAL file: its name too
                folder = os.open(self.wal.parent, os.O_RDONLY)
                try:
                    os.fsync(folder)
                finally:
                    os.close(folder)
                self._wal_synced_inode = inode
        except OSError as exc:
            raise StorageError(
                f"the disk did not confirm the last write to {self.database} ({exc.strerror or exc}); it may "
                "be lost if the machine stops now. Check the disk, then run `mcp-server-todo doctor`"
            ) from exc


HANDOFF_WAIT_S = 0.05
"""How long `ahead` waits for the worker to take its job; past it (a machine so busy the worker
thread is not scheduled) the caller goes on, and its wait covers the rest."""


class _Ahead:
    """One `ahead` job: commit `number`, its hand-shake, and its outcome."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.taken = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None

    def wait(self) -> None:
        """Return once the commit is on disk; raise what its fsync raised."""
        self.done.wait()
        if self.error is not None:
            raise self.error
