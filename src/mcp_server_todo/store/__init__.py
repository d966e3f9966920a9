"""Storage behind one interface.

A `Store` hands out transactions; a transaction (`StoreTx`) reads and writes tasks and
the change log of one owner. Every write operation of the service runs in exactly one
write transaction, so a change and its log entry commit together or not at all, and one
transaction is one step of `undo`. A write transaction (`WriteTx`) also offers the raw
sharing primitives (shares, links, other owners' views); keeping shared projects in step is
the service's (`service.sharing`), the only caller of a transaction's write methods.

Stores are chosen by URL: `sqlite:///absolute/path.db` (the default) or
`postgresql://...` (the `[postgres]` extra). Backends are imported only when used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import InvalidInput, StorageError
from ..model import Change, ListQuery, Share, Task, TaskPage
from .health import Check
from .lists import TaskList

if TYPE_CHECKING:
    from .postgres import PostgresStore
    from .sqlite import SQLiteStore

LOCAL_OWNER = "local"

__all__ = [
    "LOCAL_OWNER",
    "ReadTx",
    "Store",
    "StoreTx",
    "TaskList",
    "TokenInfo",
    "TokenStore",
    "WriteTx",
    "open_store",
    "open_token_store",
]


class WouldBlock(Exception):
    """Raised inside `nowait()` instead of waiting for a lock; nothing has been done yet."""


_NOWAIT: ContextVar[list[bool] | None] = ContextVar("todo_store_nowait", default=None)


@contextmanager
def nowait() -> Iterator[None]:
    """Run store calls on this thread only if they need not wait: until the first transaction
    completes, a transaction that would wait for a lock raises `WouldBlock` before doing
    anything, so the whole call can be retried where waiting is harmless (a worker thread).
    After a write has committed, later transactions wait as usual (a call never writes twice)."""
    token = _NOWAIT.set([True])
    try:
        yield
    finally:
        _NOWAIT.reset(token)


def would_block_allowed() -> bool:
    state = _NOWAIT.get()
    return state is not None and state[0]


def off_the_loop() -> None:
    """Heavy work ahead (a big undo, a recurrence catch-up): inside `nowait()`, before any
    transaction of the call has committed, raise `WouldBlock` so the whole call is rolled back
    and run again on a worker thread instead of stalling the event loop; elsewhere, nothing."""
    if would_block_allowed():
        raise WouldBlock


_DURABLE_LATER: ContextVar[list[Callable[[], None]] | None] = ContextVar("todo_store_durable_later", default=None)
_AHEAD: ContextVar[bool] = ContextVar("todo_store_durable_ahead", default=False)


@contextmanager
def durable_later(*, ahead: bool = False) -> Iterator[list[Callable[[], None]]]:
    """Within: a write transaction whose commit still has to reach the disk (SQLite's group
    commit, store/sqlite_sync.py) may leave that wait (an fsync, blocking) in the list instead
    of waiting itself (it does when the disk's fsyncs are slow). The caller must run every one,
    where blocking is harmless (a worker thread), before it tells anyone the write is saved.
    `ahead=True`: every such wait is left, its fsync already started on a worker thread (the
    caller builds its answer meanwhile). Outside, transactions wait as usual."""
    waits: list[Callable[[], None]] = []
    token = _DURABLE_LATER.set(waits)
    ahead_token = _AHEAD.set(ahead)
    try:
        yield waits
    finally:
        _AHEAD.reset(ahead_token)
        _DURABLE_LATER.reset(token)


def durable_ahead() -> bool:
    """A backend's commit: whether to start its fsync now and leave the wait (`durable_later(ahead=True)`)."""
    return _AHEAD.get() and _DURABLE_LATER.get() is not None


def wait_durable_later(wait: Callable[[], None]) -> bool:
    """A backend's commit: inside `durable_later`, leave `wait` to the caller (True); else False
    (the backend waits itself)."""
    waits = _DURABLE_LATER.get()
    if waits is None:
        return False
    waits.append(wait)
    return True


def transaction_done() -> None:
    state = _NOWAIT.get()
    if state is not None:
        state[0] = False


class ReadTx(Protocol):
    """One transaction for one owner, reading (what `Store.read` gives: writing through it is a
    type error, and the backends refuse it at run time too)."""

    def get(self, task_id: int) -> Task | None: ...

    def get_by_uid(self, uid: str) -> Task | None: ...

    def get_by_href(self, href: str) -> list[Task]:
        """The tasks a CalDAV client PUT at this resource name, by id."""
        ...

    def naming(self, text: str) -> list[Task]:
        """The live tasks whose client VCALENDAR (`Task.ical`) contains `text`, by id."""
        ...

    def descendants(self, task_id: int, limit: int) -> list[Task]:
        """The task's subtasks, theirs and so on (at most `limit`), by id."""
        ...

    def query(self, query: ListQuery) -> TaskPage: ...

    def last_group(self) -> list[Change]:
        """The group of the newest change not yet undone (undo entries excluded), oldest first."""
        ...

    def group_entries(self, group: int) -> list[Change]:
        """Every log entry of `group`, oldest first."""
        ...

    def next_id(self) -> int:
        """The id the next new task would get, without taking it (an import preview)."""
        ...

    def history(self, task_id: int | None, limit: int) -> list[Change]: ...

    def projects(self) -> list[tuple[str, int, int]]:
        """(project, pending, done) for every project with tasks not in the trash."""
        ...

    def tags(self) -> list[tuple[str, int]]:
        """(tag, pending tasks) by use."""
        ...

    def last_change_id(self) -> int: ...

    def changes_since(self, change_id: int, limit: int) -> list[Change]:
        """Change-log entries after `change_id`, oldest first (what another process changed)."""
        ...

    def shares_as_owner(self, project: str | None = None) -> list[Share]:
        """The shares of this owner's projects (of one project, or all)."""
        ...

    def shares_as_member(self) -> list[Share]:
        """The projects others share with this owner."""
        ...

    def lists(self) -> list[TaskList]:
        """This owner's task lists that are rows (`store.lists`), by name."""
        ...

    def list_undo(self, group: int) -> list[tuple[str, TaskList | None]]:
        """(path, the list row before change-log `group`, None: none) for each row `group` changed."""
        ...


class StoreTx(ReadTx, Protocol):
    """One transaction for one owner that writes: only the service calls these (see
    `service.sharing.write`)."""

    def reserve_ids(self, upto: int) -> None:
        """Make sure new ids start above `upto` (an import that keeps its ids)."""
        ...

    def allocate_id(self) -> int:
        """A new task id for this owner; ids are never reused, even after undo."""
        ...

    def put(self, task: Task) -> None:
        """Insert or replace the task with `task.id`."""
        ...

    def put_many(self, tasks: list[Task]) -> None:
        """Insert many new tasks at once (an import's batch; bulk statements where the backend has them)."""
        ...

    def remove(self, task_id: int) -> None:
        """Remove the task row (undo of an add)."""
        ...

    def log(self, change: Change) -> None:
        """Append to the change log; all entries of one transaction form one group."""
        ...

    def log_many(self, changes: list[Change]) -> None:
        """Append many entries at once (an import's batch), like `log` one by one."""
        ...

    def mark_undone(self, group: int, upto: int | None = None) -> None:
        """Mark the group's entries undone; with `upto`, only those with an id up to it (the
        ones an undo read and reverted: an import may have logged more since)."""
        ...

    def current_group(self) -> int:
        """The group this transaction's log entries form so far (0: none logged yet)."""
        ...

    def join_group(self, group: int) -> None:
        """Log this transaction's entries in `group`, begun by an earlier transaction: an import
        committed in batches stays one step of `undo`."""
        ...


class WriteTx(StoreTx, Protocol):
    """A write transaction: a `StoreTx` with the raw sharing primitives the service's fan-out
    (`service.sharing.SharedTx`) needs. Plain rows: no rule of sharing lives here."""

    @property
    def owner(self) -> str: ...

    def as_owner(self, owner: str) -> WriteTx:
        """The same transaction, seeing (and writing) `owner`'s tasks: a member's copies."""
        ...

    def has_shares(self) -> bool:
        """Whether this owner shares a project or is a member of one."""
        ...

    def lock_sharing(self) -> None:
        """Take the lock that serialises sharing and unsharing (held at once with `sharing=True`)."""
        ...

    def add_share(self, share: Share) -> None: ...

    def remove_share(self, project: str, member: str) -> None: ...

    def project_in_use(self, project: str) -> bool:
        """Whether this owner has tasks (in any state) in `project`."""
        ...

    def link_of(self, task_id: int) -> tuple[str, int] | None:
        """The (owner, id) of the task this owner's task `task_id` is a copy of, if it is one."""
        ...

    def copies_of(self, task_id: int) -> dict[str, int]:
        """Member -> the id of that member's copy of this owner's task `task_id`."""
        ...

    def copies_from(self, origin_owner: str) -> dict[int, int]:
        """Origin id -> this owner's copy id, for every copy of `origin_owner`'s tasks."""
        ...

    def add_link(self, task_id: int, origin_owner: str, origin_id: int) -> None: ...

    def remove_link(self, task_id: int) -> None: ...

    def forget(self, task_ids: list[int]) -> None:
        """Mark the log entries about these tasks as not undoable (copies that are gone)."""
        ...

    def put_list(self, task_list: TaskList) -> None:
        """Insert or replace the list row at `task_list.path`."""
        ...

    def remove_list(self, path: str) -> None: ...

    def log_list(self, group: int, path: str, before: TaskList | None) -> None:
        """Keep the list row at `path` as it was before `group`, for undo (the first one stays)."""
        ...


@dataclass(frozen=True)
class TokenInfo:
    """An operator-issued API token as listed (the token itself is never stored, only its hash)."""

    id: int
    user: str
    label: str
    created_at: str
    revoked: bool


class TokenStore(Protocol):
    """API tokens for `serve --http --auth tokens` (not per owner: the operator manages them);
    the SQL is in `store.tokens`. Get one with `open_token_store`."""

    def add_token(self, user: str, token_hash: str, label: str, created_at: str) -> int: ...

    def tokens(self) -> list[TokenInfo]: ...

    def revoke_token(self, token_id: int) -> bool:
        """True if a token was revoked (False: no such token, or already revoked)."""
        ...

    def user_for_token(self, token_hash: str) -> str | None:
        """The user of a valid (not revoked) token with this hash."""
        ...

    def close(self) -> None: ...


class Store(Protocol):
    url: str

    def read(self, owner: str = LOCAL_OWNER) -> AbstractContextManager[ReadTx]: ...

    def write(self, owner: str = LOCAL_OWNER, *, sharing: bool = False) -> AbstractContextManager[WriteTx]:
        """A plain write transaction (the service wraps it, see `service.sharing.write`);
        `sharing=True` for one that shares or unshares a project (a backend may then order its
        locks differently)."""
        ...

    def schema_version(self) -> int: ...

    def health(self) -> list[Check]:
        """What `doctor` checks of this open store (schema, integrity, backups, counts...), one
        record each; a damaged or unreachable store is reported as FAIL records, never raised."""
        ...

    def close(self) -> None: ...


def sqlite_url(path: str | Path) -> str:
    return "sqlite:///" + Path(path).expanduser().resolve().as_posix().lstrip("/")


def sqlite_path(url: str) -> Path:
    rest = url.removeprefix("sqlite:///")
    return Path(rest if re.match(r"^[A-Za-z]:", rest) else "/" + rest.lstrip("/"))


def open_store(url: str) -> Store:
    """Open (and migrate) the store at `url`."""
    return _open_backend(url)


def open_token_store(url: str) -> TokenStore:
    """Open (and migrate) the store at `url` for its API tokens: the same backend object as
    `open_store` gives, seen through its `TokenStore` half."""
    return _open_backend(url)


def _open_backend(url: str) -> SQLiteStore | PostgresStore:
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(sqlite_path(url))
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            if (exc.name or "psycopg").partition(".")[0] not in ("psycopg", "psycopg_pool", "psycopg_binary"):
                raise
            raise StorageError(
                "PostgreSQL stores need the psycopg driver, which is not installed: install "
                "mcp-server-todo[postgres] in this server's environment (from a clone: pip install '.[postgres]'; "
                "with pipx: pipx install --force '/path/to/mcp-server-todo[postgres]'; "
                f"with uvx: uvx --from '/path/to/mcp-server-todo[postgres]' mcp-server-todo) ({exc})"
            ) from exc
        return PostgresStore(url)
    raise InvalidInput(f"unknown store URL {url!r}; use sqlite:///ABSOLUTE/PATH.db")
