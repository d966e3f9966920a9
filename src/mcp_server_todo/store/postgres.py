"""The PostgreSQL store: psycopg 3 with a connection pool, for one or several server replicas
over one database. Imported only when a `postgresql://` URL is opened (install the extra
`mcp-server-todo[postgres]`). Same contract and semantics as the SQLite store.

Isolation. Every owner-keyed table has forced row-level security (see `pg_migrations`), and
every transaction starts with `set_config('todo.owner', owner, true)`; a query that forgot
its owner filter still sees and changes only that owner's rows. The store refuses roles that
bypass row-level security (superusers, BYPASSRLS).

Writers. A write transaction (READ COMMITTED) first locks its owner's row in `owners`, so
writes for one owner take turns across every replica (different owners run in parallel):
a read-modify-write never loses an update, ids come from the same row (`UPDATE ... RETURNING`,
never reused), the trigger-kept counts cannot deadlock, change-log ids commit in order (a
watcher's `changes_since` never skips one) and undo always sees the latest group. `get` in a
write transaction also locks the task row (`FOR UPDATE`). Reads are REPEATABLE READ READ ONLY
snapshots and never wait for writers.

Event loop. Every call needs network I/O, so inside `nowait()` a transaction raises
`WouldBlock` before doing anything: the server then runs the call on a worker thread.

Full-text search. Title and notes are split into words folded in Python (casefold, Latin
diacritics removed: "café" is found by "cafe", the same on every replica, no extension
needed) and stored as a `tsvector` with a GIN index; the words of a query become prefix
lexemes (`'word':*`) joined by `&` and are sent as one bound `tsquery` parameter, so no
query text ever reaches the SQL or the tsquery syntax.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from ..dates import utc_now
from ..errors import InvalidInput, StorageError
from ..model import Change, ListQuery, Task, TaskPage
from . import TokenInfo, WouldBlock, faults, queries, transaction_done, would_block_allowed
from .pg_migrations import OWNER_SETTING, migrate
from .sqlite import _due_keys

log = logging.getLogger(__name__)

POOL_MAX = 10
"""Connections per process; a transaction holds one only while it runs."""
CONNECT_TIMEOUT = 10
WAIT_SECONDS = 30
"""How long a transaction waits for a free connection or for another writer of its owner."""
WORD_MAX = 255
"""Longer words are indexed and searched by their first 255 characters (a lexeme's limit is 2 KiB)."""

_CHANGE_COLUMNS = "id, grp, at, op, task_id, before::text, after::text, actor"
_COLUMNS = (
    "t.id, t.title, t.notes, t.status, t.priority, t.due, t.due_tz, t.recur, t.project, t.tags, t.parent_id, "
    "t.depends_on, t.created_at, t.updated_at, t.completed_at, t.uid"
)
_OPEN_CHILDREN = (
    "(SELECT count(*) FROM tasks c WHERE c.owner = t.owner AND c.parent_id = t.id AND c.status = 'pending')"
)
_BLOCKED = (
    "(EXISTS (SELECT 1 FROM tasks c WHERE c.owner = t.owner AND c.parent_id = t.id AND c.status = 'pending') "
    "OR (cardinality(t.depends_on) > 0 AND EXISTS (SELECT 1 FROM tasks x "
    "WHERE x.owner = t.owner AND x.id = ANY (t.depends_on) AND x.status = 'pending')))"
)
_SELECT = f"SELECT {_COLUMNS}, {_OPEN_CHILDREN}, {_BLOCKED}"
_KEYS_AT = 18  # the sort keys follow the 16 columns, the subtask count and the blocked flag
_DUE_KEY = "coalesce(t.due_key, '~')"  # no due date sorts last ("C" collation: bytewise, as in SQLite)
# Urgency exactly as the SQLite store computes it (README "Urgency"): priority + due proximity
# + age - blocked, from columns and the query's `now`, rounded to 4 places.
_DAYS_LEFT = "(extract(epoch FROM (t.due_key::timestamptz - %s::timestamptz)) / 86400)"
_URGENCY = (
    "round(((CASE t.priority WHEN 3 THEN 6.0 WHEN 2 THEN 3.9 WHEN 1 THEN 1.8 ELSE 0.0 END)"
    f" + (CASE WHEN t.due_key IS NULL THEN 0.0 WHEN {_DAYS_LEFT} <= -7 THEN 12.0"
    f" WHEN {_DAYS_LEFT} >= 14 THEN 2.4 ELSE 12.0 - ({_DAYS_LEFT} + 7) * 9.6 / 21 END)"
    " + 2.0 * least(greatest(extract(epoch FROM (%s::timestamptz - t.created_at::timestamptz)) / 86400, 0)"
    " / 365.0, 1.0)"
    f" - (CASE WHEN {_BLOCKED} THEN 5.0 ELSE 0.0 END))::numeric, 4)::float8"
)
_URGENCY_PARAMS = 4  # the %s in _URGENCY, all bound to `now`

_WORD = re.compile(r"[^\W_]+")
_FOLDED_BASES = 0x0530  # Latin, Greek and Cyrillic letters lose their accents; other scripts keep their marks


def search_words(text: str) -> list[str]:
    """The words of `text` as indexed and searched: casefolded, Latin/Greek/Cyrillic diacritics
    removed (like SQLite's unicode61 remove_diacritics), split at anything that is not a letter,
    a digit or a mark continuing a word (so words of scripts written with marks stay whole)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    if folded.isascii():
        return [word[:WORD_MAX] for word in _WORD.findall(folded)]
    words: list[str] = []
    current: list[str] = []
    base = 0
    for ch in folded:
        if unicodedata.combining(ch) or unicodedata.category(ch).startswith("M"):
            if current and base >= _FOLDED_BASES:
                current.append(ch)
            continue
        base = ord(ch)
        if ch.isalnum():
            current.append(ch)
        elif current:
            words.append(unicodedata.normalize("NFC", "".join(current))[:WORD_MAX])
            current = []
    if current:
        words.append(unicodedata.normalize("NFC", "".join(current))[:WORD_MAX])
    return words


def ts_query(text: str) -> str | None:
    """Words of `text` as a tsquery: every word must appear, as a word or a prefix."""
    words = queries.distinct_prefixes(search_words(text))
    return " & ".join("'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words) or None


def _row_to_task(row: tuple[Any, ...]) -> Task:
    return queries.task_from_row(row, list(row[9]), list(row[11]), bool(row[17]))


def _sort_keys(sort: str) -> list[str]:
    return {
        "created": ["t.id"],
        "due": [_DUE_KEY, "t.id"],
        "priority": ["-t.priority", _DUE_KEY, "t.id"],
        "urgency": ["-" + _URGENCY, "t.id"],
    }[sort]


_KEY_TYPES: dict[str, tuple[tuple[type, ...], ...]] = {
    "created": ((int,),),
    "due": ((str,), (int,)),
    "priority": ((int,), (str,), (int,)),
    "urgency": ((int, float), (int,)),
}


def _check_after(sort: str, after: list[Any]) -> None:
    """A cursor's sort key must fit the sort (PostgreSQL, unlike SQLite, refuses mixed types)."""
    types = _KEY_TYPES[sort]
    if len(after) != len(types) or not all(
        isinstance(value, kinds) and not isinstance(value, bool) for value, kinds in zip(after, types, strict=True)
    ):
        raise InvalidInput("cursor is not one this server returned; call list_items without a cursor")


def _ids_clause(ids: list[int]) -> queries.Clause:
    return "t.id = ANY (?::bigint[])", [list(ids)]


def _text_clause(text: str) -> queries.Clause:
    match = ts_query(text)
    if match is None:
        return "1 = 0", []
    return "t.search @@ ?::tsquery", [match]


class PostgresTx(queries.SharingQueries):
    """One transaction of one owner on one pooled connection."""

    def __init__(self, conn: psycopg.Connection, owner: str, *, write: bool, seen_as: list[str] | None = None) -> None:
        self.conn = conn
        """The transaction's connection (for diagnostics and tests; the policies bind it to the owner)."""
        self._owner = owner
        self._write = write
        self._lock = " FOR UPDATE OF t" if write else ""
        self._group = 0
        self._seen_as = seen_as if seen_as is not None else [owner]
        """The owner the connection's `todo.owner` names now (shared by the views of one transaction)."""
        self.shared: bool | None = None
        """Whether a share involves this owner, as `PostgresStore.write` found at BEGIN (under
        the sharing lock when true); None: not known, `has_shares` asks."""

    def has_shares(self) -> bool:
        return self.shared if self.shared is not None else super().has_shares()

    def as_owner(self, owner: str) -> PostgresTx:
        """The same transaction, seeing `owner`'s tasks (sharing writes a member's copies): each
        statement of the view first switches `todo.owner`, so the policies still bind every one."""
        return PostgresTx(self.conn, owner, write=self._write, seen_as=self._seen_as)

    def _x(self, query: str, args: tuple[Any, ...] | list[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        if self._seen_as[0] != self._owner:
            self.conn.execute("SELECT set_config(%s, %s, true)", (OWNER_SETTING, self._owner))
            self._seen_as[0] = self._owner
        return self.conn.execute(query, args)

    def _one(self, query: str, args: tuple[Any, ...] | list[Any]) -> tuple[Any, ...] | None:
        return self._x(query, args).fetchone()

    def _all(self, query: str, args: tuple[Any, ...] | list[Any]) -> list[tuple[Any, ...]]:
        return self._x(query, args).fetchall()

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return self._all(queries.pg(sql), args)

    def _exec(self, sql: str, args: tuple[Any, ...]) -> int:
        return self._x(queries.pg(sql), args).rowcount

    def lock_sharing(self) -> None:
        """Make sure the sharing lock is held (see `PostgresStore.write`); a transaction that
        shares or unshares takes it at BEGIN (`write(sharing=True)`), so this does not wait."""
        self._x(f"SELECT pg_advisory_xact_lock({_SHARING_LOCK})")

    def forget(self, task_ids: list[int]) -> None:
        """Mark the log entries about these tasks as not undoable (copies that are gone)."""
        self._x("UPDATE changes SET undone = true WHERE owner = %s AND task_id = ANY(%s)", (self._owner, task_ids))

    def put_many(self, tasks: list[Task]) -> None:
        """Many tasks (an import's batch), one statement each."""
        for task in tasks:
            self.put(task)

    def log_many(self, changes: list[Change]) -> None:
        for change in changes:
            self.log(change)

    def get(self, task_id: int) -> Task | None:
        row = self._one(f"{_SELECT} FROM tasks t WHERE t.owner = %s AND t.id = %s{self._lock}", (self._owner, task_id))
        return None if row is None else _row_to_task(row)

    def get_by_uid(self, uid: str) -> Task | None:
        row = self._one(f"{_SELECT} FROM tasks t WHERE t.owner = %s AND t.uid = %s{self._lock}", (self._owner, uid))
        return None if row is None else _row_to_task(row)

    def reserve_ids(self, upto: int) -> None:
        """Make sure new ids start above `upto` (an import that keeps its ids)."""
        self._x("UPDATE owners SET next_id = greatest(next_id, %s) WHERE owner = %s", (upto + 1, self._owner))

    def allocate_id(self) -> int:
        # an upsert: a member's copy may be the first task of an owner who never wrote
        row = self._x(
            "INSERT INTO owners AS o (owner, next_id) VALUES (%s, 2) "
            "ON CONFLICT (owner) DO UPDATE SET next_id = o.next_id + 1 RETURNING o.next_id - 1",
            (self._owner,),
        ).fetchone()
        if row is None:
            raise StorageError("ids can only be allocated in a write transaction")
        return int(row[0])

    def put(self, task: Task) -> None:
        due_date, due_utc = _due_keys(task.due)
        due_key = due_utc or (f"{due_date}T23:59:59Z" if due_date else None)
        self._x(
            "INSERT INTO tasks (owner, id, uid, title, notes, status, priority, due, due_tz, due_date, due_utc, "
            "due_key, recur, project, tags, parent_id, depends_on, created_at, updated_at, completed_at, search) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::text[], %s, %s::bigint[], "
            "%s, %s, %s, array_to_tsvector(%s::text[])) "
            "ON CONFLICT (owner, id) DO UPDATE SET uid = excluded.uid, title = excluded.title, "
            "notes = excluded.notes, status = excluded.status, priority = excluded.priority, due = excluded.due, "
            "due_tz = excluded.due_tz, due_date = excluded.due_date, due_utc = excluded.due_utc, "
            "due_key = excluded.due_key, recur = excluded.recur, project = excluded.project, tags = excluded.tags, "
            "parent_id = excluded.parent_id, depends_on = excluded.depends_on, created_at = excluded.created_at, "
            "updated_at = excluded.updated_at, completed_at = excluded.completed_at, search = excluded.search",
            (
                self._owner,
                task.id,
                task.uid or uuid.uuid4().hex,
                task.title,
                task.notes,
                task.status.value,
                task.priority.rank,
                task.due,
                task.due_tz,
                due_date,
                due_utc,
                due_key,
                task.recur,
                task.project,
                list(task.tags),
                task.parent_id,
                list(task.depends_on),
                task.created_at,
                task.updated_at,
                task.completed_at,
                sorted(set(search_words(task.title) + search_words(task.notes))),
            ),
        )
        self._x("DELETE FROM task_tags WHERE owner = %s AND task_id = %s", (self._owner, task.id))
        if task.tags:
            self._x(
                "INSERT INTO task_tags (owner, tag, task_id) SELECT %s, tag, %s FROM unnest(%s::text[]) AS tag "
                "ON CONFLICT DO NOTHING",
                (self._owner, task.id, [tag.casefold() for tag in task.tags]),
            )

    def remove(self, task_id: int) -> None:
        self._x("DELETE FROM task_tags WHERE owner = %s AND task_id = %s", (self._owner, task_id))
        self._x("DELETE FROM tasks WHERE owner = %s AND id = %s", (self._owner, task_id))

    def query(self, query: ListQuery) -> TaskPage:
        clause, args, counted_by_trigger = queries.filters(query, self._owner, ids=_ids_clause, text=_text_clause)
        clause = queries.pg(clause)
        if counted_by_trigger:
            # only status/project filters: the trigger-kept counts answer without a scan
            row = self._one(f"SELECT coalesce(sum(n), 0) FROM task_counts t WHERE {clause}", args)
        else:
            row = self._one(f"SELECT count(*) FROM tasks t WHERE {clause}", args)
        total = int(row[0]) if row is not None else 0

        now = query.now_utc or None
        keys = _sort_keys(query.sort)
        key_args = [now] * _URGENCY_PARAMS if query.sort == "urgency" else []
        page_where, page_args = clause, list(args)
        if query.after is not None:
            _check_after(query.sort, query.after)
            page_where += f" AND ({', '.join(keys)}) > ({', '.join(['%s'] * len(keys))})"
            page_args += key_args + list(query.after)
        select = f"{_SELECT}, {', '.join(keys)}"
        if query.sort == "urgency":
            select += f", {_URGENCY}"
        limit = query.limit + 1
        rows = self._all(
            f"{select} FROM tasks t WHERE {page_where} ORDER BY {', '.join(keys)} LIMIT %s",
            [*key_args, *([now] * _URGENCY_PARAMS if query.sort == "urgency" else []), *page_args, *key_args, limit],
        )
        items = []
        for row in rows[: query.limit]:
            task = _row_to_task(row)
            if query.sort == "urgency":
                task.urgency = row[-1]
            items.append(task)
        more = len(rows) > query.limit
        last = rows[query.limit - 1] if more else None
        next_after = list(last[_KEYS_AT : _KEYS_AT + len(keys)]) if last is not None else None
        return TaskPage(items=items, total=total, next_after=next_after)

    def log(self, change: Change) -> None:
        values = (
            self._owner,
            change.at or utc_now(),
            change.op,
            change.task_id,
            queries.task_json(change.before),
            queries.task_json(change.after),
            change.actor,
        )
        if self._group:
            self._x(
                "INSERT INTO changes (owner, grp, at, op, task_id, before, after, actor) "
                "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s)",
                (values[0], self._group, *values[1:]),
            )
            return
        # the first entry of the transaction names the group by its own id
        row = self._x(
            "INSERT INTO changes (id, grp, owner, at, op, task_id, before, after, actor) "
            "SELECT n, n, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s FROM (SELECT nextval('changes_id_seq') AS n) s "
            "RETURNING id",
            values,
        ).fetchone()
        assert row is not None
        self._group = int(row[0])

    def _changes(self, query: str, args: tuple[Any, ...]) -> list[Change]:
        return [queries.change_from_row(row) for row in self._all(query, args)]

    def last_group(self) -> list[Change]:
        # the group of the newest entry (see SQLiteTx.last_group)
        row = self._x(
            "SELECT grp FROM changes WHERE owner = %s AND NOT undone AND op <> 'undo' AND actor IS NULL "
            "ORDER BY id DESC LIMIT 1",
            (self._owner,),
        ).fetchone()
        if row is None or row[0] is None:
            return []
        return self._changes(_log(queries.UNDOABLE_GROUP), (self._owner, row[0]))

    def mark_undone(self, group: int, upto: int | None = None) -> None:
        self._x(
            "UPDATE changes SET undone = true WHERE owner = %s AND grp = %s AND id <= %s",
            (self._owner, group, queries.ID_ANY if upto is None else upto),
        )

    def group_entries(self, group: int) -> list[Change]:
        return self._changes(_log(queries.GROUP), (self._owner, group))

    def projects(self) -> list[tuple[str, int, int]]:
        rows = self._x(queries.pg(queries.PROJECTS), (self._owner,)).fetchall()
        return [(row[0], int(row[1]), int(row[2])) for row in rows]

    def tags(self) -> list[tuple[str, int]]:
        rows = self._x(queries.pg(queries.TAGS), (self._owner,)).fetchall()
        return [(row[0], int(row[1])) for row in rows]

    def last_change_id(self) -> int:
        row = self._x(queries.pg(queries.LAST_CHANGE_ID), (self._owner,)).fetchone()
        return int(row[0] or 0) if row is not None else 0

    def changes_since(self, change_id: int, limit: int) -> list[Change]:
        return self._changes(_log(queries.CHANGES_SINCE), (self._owner, change_id, limit))

    def history(self, task_id: int | None, limit: int) -> list[Change]:
        if task_id is None:
            return self._changes(_log(queries.HISTORY), (self._owner, limit))
        return self._changes(_log(queries.TASK_HISTORY), (self._owner, task_id, limit))


def _log(sql: str) -> str:
    return queries.pg(sql.format(columns=_CHANGE_COLUMNS))


_SHARING_LOCK = "hashtext('mcp-server-todo sharing ' || current_schema())"


def _last_row(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    """The row of the last statement of a multi-statement string."""
    while cursor.nextset():
        pass
    row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def redact(url: str) -> str:
    """The URL without its password (for messages and `Store.url`)."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*):[^@]*@", r"\1:***@", url)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _storage_error(exc: psycopg.Error) -> StorageError:
    if isinstance(exc, errors.LockNotAvailable):
        return StorageError(f"another writer held this task list for {WAIT_SECONDS} s; try again")
    return StorageError(f"PostgreSQL failed: {_first_line(exc)}; try again")


def _configure(conn: psycopg.Connection) -> None:
    conn.execute(f"SET lock_timeout = '{WAIT_SECONDS}s'")


class PostgresStore:
    def __init__(self, url: str, *, max_connections: int = POOL_MAX) -> None:
        self.url = redact(url)
        try:
            given = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StorageError(f"not a usable PostgreSQL URL {self.url}: {_first_line(exc)}") from exc
        extra: dict[str, Any] = {}
        if "connect_timeout" not in given:
            extra["connect_timeout"] = CONNECT_TIMEOUT
        if "application_name" not in given:
            extra["fallback_application_name"] = "mcp-server-todo"
        conninfo = make_conninfo(url, **extra)
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                self._check_role(conn)
                migrate(conn)
        except psycopg.OperationalError as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {self.url}: {_first_line(exc)}") from exc
        except psycopg.Error as exc:
            fault = faults.pg_fault(exc, self.url)
            raise fault or StorageError(f"the PostgreSQL store {self.url} cannot be used: {_first_line(exc)}") from exc
        self._pool: ConnectionPool[psycopg.Connection] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            configure=_configure,
            timeout=WAIT_SECONDS,
            name="mcp-server-todo",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except PoolTimeout as exc:
            self._pool.close()
            raise StorageError(f"cannot connect to PostgreSQL at {self.url}: {_first_line(exc)}") from exc

    @staticmethod
    def _check_role(conn: psycopg.Connection) -> None:
        row = conn.execute(
            "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if row is not None and row[1]:
            raise StorageError(
                f"the PostgreSQL role {row[0]!r} bypasses row-level security (superuser or BYPASSRLS), so task "
                "lists would not be isolated from each other; connect as an ordinary role, e.g. "
                "CREATE ROLE todo LOGIN PASSWORD '...'; CREATE DATABASE todo OWNER todo"
            )

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def read(self, owner: str = "local") -> Iterator[PostgresTx]:
        """A consistent snapshot of one owner's tasks (REPEATABLE READ, read only)."""
        if not owner:
            raise ValueError("a PostgreSQL transaction needs an owner")
        begin = sql.SQL("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT set_config({setting}, {owner}, true)")
        with self._session(
            begin.format(setting=sql.Literal(OWNER_SETTING), owner=sql.Literal(owner)), write=False
        ) as conn:
            yield PostgresTx(conn, owner, write=False)

    @contextmanager
    def write(self, owner: str = "local", *, sharing: bool = False) -> Iterator[PostgresTx]:
        """A write transaction; waits (up to 30 s) while another writer of this owner runs.

        Owners involved in shared projects write to each other's rows (see `service.sharing`), so
        their transactions also take one advisory lock, always before any owner row: it is
        tried after the owner's row is locked (free in the common case), and when busy the
        transaction starts over taking the advisory lock first, so two of them never wait for
        each other's owner rows in opposite orders. `sharing=True` (sharing or unsharing a
        project) takes it first from the start."""
        if not owner:
            raise ValueError("a PostgreSQL transaction needs an owner")
        names = {"setting": sql.Literal(OWNER_SETTING), "owner": sql.Literal(owner), "lock": sql.SQL(_SHARING_LOCK)}
        # one writer per owner at a time, across every replica; then: does any share involve it?
        rest = sql.SQL(
            "SELECT set_config({setting}, {owner}, true)"
            "; INSERT INTO owners (owner, next_id) VALUES ({owner}, 1) ON CONFLICT (owner) DO NOTHING"
            "; SELECT 1 FROM owners WHERE owner = {owner} FOR UPDATE"
            "; SELECT shared, CASE WHEN shared THEN pg_try_advisory_xact_lock({lock}) END FROM (SELECT EXISTS "
            "(SELECT 1 FROM shares WHERE owner = {owner}) OR EXISTS (SELECT 1 FROM shares WHERE member = {owner}) "
            "AS shared) s"
        ).format(**names)
        first = sql.SQL("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({lock}); ")
        begin = (first.format(**names) if sharing else sql.SQL("BEGIN ISOLATION LEVEL READ COMMITTED; ")) + rest
        begun: list[psycopg.Cursor[Any]] = []
        with self._session(begin, write=True, begun=begun) as conn:
            shared, locked = _last_row(begun[0])
            if shared and not locked:  # start over, the advisory lock first
                conn.execute("ROLLBACK")
                shared, _ = _last_row(conn.execute(first.format(**names) + rest))
            tx = PostgresTx(conn, owner, write=True)
            tx.shared = bool(shared)
            yield tx

    @contextmanager
    def _session(
        self, begin: sql.SQL | sql.Composed, *, write: bool, begun: list[psycopg.Cursor[Any]] | None = None
    ) -> Iterator[psycopg.Connection]:
        """A transaction on a pooled connection: begun with `begin`, committed at the end of
        the block, rolled back if the block raises."""
        if would_block_allowed():
            raise WouldBlock  # network I/O never runs on the event loop; nothing was done yet
        conn = self._begin(begin, begun)
        try:
            try:
                yield conn
            except BaseException as exc:
                self._rollback(conn)
                if isinstance(exc, psycopg.Error) and (fault := faults.pg_fault(exc, self.url)):
                    raise fault from exc  # disk full, read-only, damaged: one line (store/faults.py)
                if isinstance(exc, psycopg.OperationalError):
                    raise _storage_error(exc) from exc
                raise
            try:
                status = conn.execute("COMMIT").statusmessage
            except psycopg.OperationalError as exc:
                raise faults.pg_fault(exc, self.url) or StorageError(
                    f"the connection to PostgreSQL failed while saving ({_first_line(exc)}); the change may or "
                    "may not have been saved: list the tasks to check"
                ) from exc
            if status != "COMMIT":
                raise StorageError("PostgreSQL rolled the transaction back; nothing was saved; try again")
        finally:
            self._pool.putconn(conn)
        if write:
            faults.forget(self.url, damaged=False)
            transaction_done()

    def _begin(
        self, begin: sql.SQL | sql.Composed, begun: list[psycopg.Cursor[Any]] | None = None
    ) -> psycopg.Connection:
        for attempt in (1, 2):
            try:
                conn = self._pool.getconn()
            except PoolTimeout as exc:
                raise StorageError(
                    f"no PostgreSQL connection within {WAIT_SECONDS} s (the server is down or every connection "
                    "is busy); try again"
                ) from exc
            try:
                cursor = conn.execute(begin)
                if begun is not None:
                    begun.append(cursor)
                return conn
            except psycopg.OperationalError as exc:
                broken = conn.broken
                self._rollback(conn)
                self._pool.putconn(conn)
                if not broken or attempt == 2:
                    raise _storage_error(exc) from exc
                # a connection from before a server restart: drop the stale ones, retry once
                log.info("PostgreSQL connection lost (%s); reconnecting", _first_line(exc))
                self._pool.check()
            except BaseException as exc:
                self._rollback(conn)
                self._pool.putconn(conn)
                if isinstance(exc, psycopg.Error) and (fault := faults.pg_fault(exc, self.url)):
                    raise fault from exc  # e.g. a read-only database refuses the owner row
                raise
        raise AssertionError("unreachable")

    @staticmethod
    def _rollback(conn: psycopg.Connection) -> None:
        if conn.broken or conn.info.transaction_status == TransactionStatus.IDLE:
            return
        with suppress(psycopg.Error):
            conn.execute("ROLLBACK")

    # -- API tokens (the operator's table: no owner, no policy) ---------------------------

    def add_token(self, user: str, token_hash: str, label: str, created_at: str) -> int:
        with self._session(sql.SQL("BEGIN"), write=True) as conn:
            row = conn.execute(
                "INSERT INTO api_tokens (username, token_hash, label, created_at) VALUES (%s, %s, %s, %s) RETURNING id",
                (user, token_hash, label, created_at),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def tokens(self) -> list[TokenInfo]:
        with self._session(sql.SQL("BEGIN READ ONLY"), write=False) as conn:
            rows = conn.execute(
                "SELECT id, username, label, created_at, revoked_at IS NOT NULL FROM api_tokens ORDER BY id"
            ).fetchall()
        return [TokenInfo(id=r[0], user=r[1], label=r[2], created_at=r[3], revoked=bool(r[4])) for r in rows]

    def revoke_token(self, token_id: int) -> bool:
        with self._session(sql.SQL("BEGIN"), write=True) as conn:
            cursor = conn.execute(
                "UPDATE api_tokens SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL", (utc_now(), token_id)
            )
            return cursor.rowcount > 0

    def user_for_token(self, token_hash: str) -> str | None:
        with self._session(sql.SQL("BEGIN READ ONLY"), write=False) as conn:
            row = conn.execute(
                "SELECT username FROM api_tokens WHERE token_hash = %s AND revoked_at IS NULL", (token_hash,)
            ).fetchone()
        return None if row is None else str(row[0])

    def schema_version(self) -> int:
        with self._session(sql.SQL("BEGIN READ ONLY"), write=False) as conn:
            row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0) if row is not None else 0

    def close(self) -> None:
        self._pool.close()
