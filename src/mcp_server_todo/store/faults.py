"""Storage faults as one-line answers, and the cheap probe that finds them first.

A full disk, a read-only file, folder or mount, a damaged page, an I/O error: SQLite and
PostgreSQL report each with a terse code ("database or disk is full"), which reached the
client as "Error executing tool new_item" and the CLI as a traceback. Here each becomes a
`StorageError` subclass (errors.py) whose text names the file, says what happened and what to
do, so every boundary that already speaks `TodoError` (tool errors, the CLI's one line) gets
it for free:

    StoreFull         SQLITE_FULL; DiskFull (PostgreSQL 53100)
    StoreReadOnly     SQLITE_READONLY, or CANTOPEN/IOERR where the file, folder or mount is
                      read-only; ReadOnlySqlTransaction (25006: a standby, read-only default)
    StoreDamaged      SQLITE_CORRUPT, SQLITE_NOTADB; DataCorrupted, IndexCorrupted (XX001/2)
    StoreUnreachable  SQLITE_IOERR, SQLITE_CANTOPEN otherwise

The hook in store/sqlite.py is one decorator on the transaction (`translating`), one call
where the store opens (`connect`, which also falls back to a read-only connection when the
folder or the mount is read-only, so reads keep working) and one where opening fails
(`opening`). A write fault is remembered for `REMEMBER_SECONDS` (until a write succeeds)
so that /healthz reports it too (`problem`), next to the cheap checks that need no write:
the file and folder writable, the mount not read-only, free space above `FREE_FLOOR`.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from ..errors import StorageError, StoreDamaged, StoreFull, StoreReadOnly, StoreUnreachable

log = logging.getLogger(__name__)

FREE_FLOOR = 1 << 20
"""Below this many free bytes on the disk holding the database, /healthz and doctor say it is full."""
REMEMBER_SECONDS = 60.0
"""How long a fault seen by a call keeps /healthz at 503 (a full disk or read-only store: unless a
write succeeds meanwhile); each new sighting starts the time again."""

_FULL, _READONLY, _CORRUPT, _IOERR, _CANTOPEN, _NOTADB = 13, 8, 11, 10, 14, 26
_recent: dict[str, tuple[float, StorageError]] = {}

_T = TypeVar("_T")


# -- what is wrong with the place (no SQLite needed) --------------------------------------------


def free_bytes(path: Path) -> int | None:
    try:
        stat = os.statvfs(_existing(path))
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return None
    return stat.f_bavail * stat.f_frsize


def read_only_reason(path: Path) -> str | None:
    """Why `path` (a database file, existing or not) cannot be written, or None.
    `os.access` answers for root too where it matters: a read-only mount or an immutable file."""
    place = _existing(path)
    try:
        if os.statvfs(place).f_flag & os.ST_RDONLY:
            return f"the disk holding {path} is mounted read-only"
    except (OSError, AttributeError):
        pass
    if path.exists() and not os.access(path, os.W_OK):
        return f"the file {path} is read-only"
    folder = path.parent if path.parent.exists() else place
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is read-only"
    return None


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def place_problem(path: Path) -> str | None:
    """The one-line reason `path` cannot take a write, from the file system alone; None if it can."""
    reason = read_only_reason(path)
    if reason is not None:
        return f"{reason}; changes cannot be saved (reading still works). Make it writable or choose another --db"
    free = free_bytes(path)
    if free is not None and free < FREE_FLOOR:
        return f"the disk holding {path} is full ({free // 1024} KiB free); free some space"
    return None


# -- SQLite ---------------------------------------------------------------------------------------


def translate(exc: sqlite3.Error, path: Path) -> StorageError | None:
    """The one-line fault for a SQLite error, or None (not a storage fault: a lock, a bug).
    Faults are remembered for /healthz (`recent_fault`)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary is None:  # an error raised without a code: recognise the text
        primary = {
            "database or disk is full": _FULL,
            "attempt to write a readonly database": _READONLY,
            "database disk image is malformed": _CORRUPT,
            "file is not a database": _NOTADB,
            "disk I/O error": _IOERR,
            "unable to open database file": _CANTOPEN,
        }.get(text)
    fault: StorageError | None
    if primary == _FULL:
        fault = _full(path)
    elif primary == _READONLY:
        fault = _place_fault(path) or _read_only(path)
    elif primary == _CORRUPT:
        fault = StoreDamaged(
            f"the task database {path} is damaged ({text}); nothing was changed. Stop every client, "
            f"run `mcp-server-todo doctor`, then {_restore_advice(path)}"
        )
    elif primary == _NOTADB:
        fault = StoreDamaged(
            f"{path} cannot be used: it is not a task database, or is damaged beyond reading ({text}); nothing "
            f"was changed. Check --db; if it is yours, stop every client, then {_restore_advice(path)}"
        )
    elif primary in (_IOERR, _CANTOPEN):
        fault = _place_fault(path) or StoreUnreachable(
            f"cannot {'open' if primary == _CANTOPEN else 'read or write'} the task database {path} ({text}); "
            "nothing was saved. Check that the disk is there and the file and its folder are readable and "
            "writable, then run `mcp-server-todo doctor`"
        )
    else:
        return None
    _remember(str(path), fault)
    return fault


def _remember(where: str, fault: StorageError) -> None:
    if isinstance(fault, StoreFull | StoreReadOnly | StoreDamaged):
        _recent[where] = (time.monotonic(), fault)


def _full(path: Path) -> StoreFull:
    free = free_bytes(path)
    if free is not None and free >= FREE_FLOOR:  # not the disk: a size limit (max_page_count) or a quota
        return StoreFull(
            f"the task database {path} cannot grow (database or disk is full: a quota or size limit); "
            "nothing was saved. Free space or raise the limit, then try again"
        )
    return StoreFull(f"the disk holding {path} is full; nothing was saved. Free some space, then try again")


def _read_only(path: Path) -> StoreReadOnly:
    reason = read_only_reason(path)
    if reason is None:  # the place takes writes again, but this process opened it read-only
        return StoreReadOnly(
            f"the task database {path} was opened read-only while it could not be written; nothing was "
            "saved. It is writable now: restart this server (or its client) to write again"
        )
    return StoreReadOnly(f"{reason}; nothing was saved (reading still works). Make it writable, or choose another --db")


def _place_fault(path: Path) -> StorageError | None:
    """A CANTOPEN or I/O error explained by the place: a read-only folder or mount, a full disk."""
    if read_only_reason(path) is not None:
        return _read_only(path)
    free = free_bytes(path)
    if free is not None and free < FREE_FLOOR:
        return _full(path)
    return None


def _restore_advice(path: Path) -> str:
    from .backup import newest_backup

    newest = newest_backup(path)
    if newest is None:
        return f"copy {path} aside and restore a backup (none found in {path.parent / 'backups'})"
    return f"`mcp-server-todo restore {newest}` (the newest backup; it saves the damaged file first)"


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Raise SQLite's storage faults inside the block as one-line `StorageError`s."""
    try:
        yield
    except sqlite3.Error as exc:
        fault = translate(exc, path)
        if fault is None:
            raise
        raise fault from exc


def translating(
    method: Callable[..., AbstractContextManager[_T]],
) -> Callable[..., AbstractContextManager[_T]]:
    """Decorate a store method that returns a transaction (`self.path` names its file): faults
    anywhere in the transaction (begin, the block, commit) come out translated, and one that
    wrote successfully forgets the last write fault."""

    @functools.wraps(method)
    @contextmanager
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Iterator[_T]:
        conn = getattr(self, "_conn", None)
        before = _total_changes(conn)
        with translated(self.path), method(self, *args, **kwargs) as tx:
            yield tx
        if _total_changes(conn) != before:  # this transaction wrote: the disk takes writes again
            forget(str(self.path), damaged=False)

    return wrapper


def _total_changes(conn: Any) -> int:
    try:
        return int(conn.total_changes) if isinstance(conn, sqlite3.Connection) else 0
    except sqlite3.ProgrammingError:  # closed: the transaction itself will say so
        return 0


def opening(exc: sqlite3.Error, path: Path) -> StorageError:
    """The fault for a store that cannot be opened at all."""
    return translate(exc, path) or StorageError(f"the task database {path} cannot be used: {exc}")


class Snapshot(sqlite3.Connection):
    """A connection opened `immutable`: it sees the file as it was when opened and never
    notices a later write (of another process, or after the mount is made writable again)."""


def reusable(conn: sqlite3.Connection) -> bool:
    """Whether a read connection may be kept for the next reads: not a `Snapshot`."""
    return not isinstance(conn, Snapshot)


def connect(path: Path, *, timeout: float) -> sqlite3.Connection:
    """A connection to `path`. Where the folder or the mount is read-only, or the disk is full, SQLite
    may be unable to create the WAL's shared-memory file, so a plain connection cannot even read:
    then a read-only one that can (reads keep working; writes get a one-line fault)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)
    if not path.exists() or _place_fault(path) is None:
        return conn
    uris = [f"file:{quote(path.as_posix())}?mode=ro"]
    wal = Path(f"{path}-wal")
    if not wal.exists() or wal.stat().st_size == 0:  # everything is in the file itself
        uris.append(uris[0] + "&immutable=1")  # no -shm needed; no other process can write here now
    for uri in uris:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
        factory = Snapshot if "immutable=1" in uri else sqlite3.Connection
        conn = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, timeout=timeout, factory=factory
        )
    log.info("%s: opened read-only", path)
    return conn


# -- PostgreSQL -----------------------------------------------------------------------------------


def pg_fault(exc: BaseException, where: str) -> StorageError | None:
    """The one-line fault for a psycopg error (by SQLSTATE), or None."""
    state = getattr(exc, "sqlstate", None) or ""
    fault: StorageError
    if state == "53100":
        fault = StoreFull(
            f"the PostgreSQL server of {where} has run out of disk space; nothing was saved. "
            "Free space on the database server, then try again"
        )
    elif state == "25006":
        fault = StoreReadOnly(
            f"the PostgreSQL database {where} is read-only (a standby, or default_transaction_read_only); "
            "nothing was saved (reading still works). Point --db at the primary"
        )
    elif state in ("XX001", "XX002"):
        fault = StoreDamaged(
            f"the PostgreSQL database {where} reports damaged data ({str(exc).strip().splitlines()[0]}); "
            "nothing was changed. Restore it from your pg_dump backup (docs/deploy.md, Backups)"
        )
    else:
        return None
    _remember(where, fault)
    return fault


# -- health -----------------------------------------------------------------------------------


def recent_fault(where: str) -> StorageError | None:
    """A fault of the last `REMEMBER_SECONDS`: a full disk or a read-only store that no successful
    write has cleared since, or damage (which a write elsewhere in the file does not clear)."""
    seen = _recent.get(where)
    if seen is None:
        return None
    if time.monotonic() - seen[0] > REMEMBER_SECONDS:
        _recent.pop(where, None)
        return None
    return seen[1]


def forget(where: str, *, damaged: bool = True) -> None:
    """Forget the fault remembered for `where` (a write succeeded; a restore ran)."""
    seen = _recent.get(where)
    if seen is not None and (damaged or not isinstance(seen[1], StoreDamaged)):
        _recent.pop(where, None)


def problem(store: Any) -> str | None:
    """Why `store` cannot take a write right now, cheaply (no transaction); None if it can."""
    path = getattr(store, "path", None)
    where = str(path) if isinstance(path, Path) else str(getattr(store, "url", ""))
    fault = recent_fault(where)
    if fault is not None:
        return str(fault)
    return place_problem(path) if isinstance(path, Path) else None
