"""PostgreSQL schema migrations: ordered, named, each in one transaction, recorded in
`schema_migrations`, and safe when several replicas start at once (a transaction-scoped
advisory lock per schema; the loser of the race finds the migration applied and skips it).

Isolation by owner is part of the schema: every table with an `owner` column has row-level
security enabled *and forced* (so the table owner, which is usually the role the server
connects as, is bound too) with one policy, `owner = current_setting('todo.owner')`. The store
sets `todo.owner` at the start of every transaction (transaction-local), so a query that
forgets its `WHERE owner = ...` still sees and writes only that owner's rows, and a
connection that never set it sees nothing. After every migration the runner checks that this
still holds for every owner-keyed table and refuses to commit otherwise.

Migrations that rewrite rows need to see every owner: the runner lifts FORCE on the existing
owner-keyed tables for the duration of the migration's transaction (the table owner then
bypasses the policies) and restores it before the commit, so no other transaction ever sees
them unforced. A migration that creates an owner-keyed table fills it first and isolates it
last (`_isolated`).

`api_tokens` has no owner column and no policy: it is the operator's table (tokens are
issued per user by the operator, and a request is not yet anybody's before its token is
checked). Its numbering is independent of SQLite's: PostgreSQL starts at today's schema.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from .migrations import Migration

log = logging.getLogger(__name__)

OWNER_SETTING = "todo.owner"
CURRENT_OWNER = f"nullif(current_setting('{OWNER_SETTING}', true), '')"


def _isolated(table: str, *, using: str | None = None, check: str | None = None) -> tuple[str, ...]:
    """Row-level security for an owner-keyed table: enabled, forced, one policy for all commands
    (by default: the rows of the transaction's owner only)."""
    using = using or f"owner = {CURRENT_OWNER}"
    return (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_by_owner ON {table} USING ({using}) WITH CHECK ({check or using})",
    )


PG_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        "owners, tasks, tags, full-text search and the change log, isolated per owner (row-level security)",
        (
            'CREATE TABLE owners (owner text COLLATE "C" PRIMARY KEY, next_id bigint NOT NULL)',
            # sortable text columns compare bytewise (COLLATE "C"), as in SQLite, whatever the
            # database's locale: ISO times sort as times and '~' (no due date) sorts last
            """CREATE TABLE tasks (
                owner text COLLATE "C" NOT NULL,
                id bigint NOT NULL,
                uid text COLLATE "C" NOT NULL,
                title text NOT NULL,
                notes text NOT NULL DEFAULT '',
                status text COLLATE "C" NOT NULL CHECK (status IN ('pending', 'done', 'deleted')),
                priority smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3),
                due text,
                due_tz text,
                due_date text COLLATE "C",
                due_utc text COLLATE "C",
                due_key text COLLATE "C",
                recur text,
                project text COLLATE "C" NOT NULL,
                tags text[] NOT NULL DEFAULT '{}',
                parent_id bigint,
                depends_on bigint[] NOT NULL DEFAULT '{}',
                created_at text COLLATE "C" NOT NULL,
                updated_at text NOT NULL,
                completed_at text,
                search tsvector NOT NULL DEFAULT '',
                PRIMARY KEY (owner, id)
            )""",
            "CREATE INDEX tasks_by_status ON tasks (owner, status, id)",
            "CREATE INDEX tasks_by_project ON tasks (owner, project, status, id)",
            "CREATE INDEX tasks_by_due ON tasks (owner, status, due_key, id)",
            "CREATE INDEX tasks_by_parent ON tasks (owner, parent_id, status)",
            "CREATE UNIQUE INDEX tasks_by_uid ON tasks (owner, uid)",
            "CREATE INDEX tasks_search ON tasks USING gin (search)",
            """CREATE TABLE task_tags (
                owner text COLLATE "C" NOT NULL,
                tag text COLLATE "C" NOT NULL,
                task_id bigint NOT NULL,
                PRIMARY KEY (owner, tag, task_id)
            )""",
            "CREATE INDEX task_tags_by_task ON task_tags (owner, task_id)",
            """CREATE TABLE changes (
                id bigserial PRIMARY KEY,
                owner text COLLATE "C" NOT NULL,
                grp bigint NOT NULL,
                at text NOT NULL,
                op text NOT NULL,
                task_id bigint NOT NULL,
                before jsonb,
                after jsonb,
                undone boolean NOT NULL DEFAULT false
            )""",
            "CREATE INDEX changes_by_owner ON changes (owner, id)",
            "CREATE INDEX changes_by_group ON changes (owner, undone, grp)",
            "CREATE INDEX changes_by_task ON changes (owner, task_id, id)",
            *_isolated("owners"),
            *_isolated("tasks"),
            *_isolated("task_tags"),
            *_isolated("changes"),
        ),
    ),
    (
        2,
        "task counts per status and project, kept by a trigger",
        (
            """CREATE TABLE task_counts (
                owner text COLLATE "C" NOT NULL,
                status text COLLATE "C" NOT NULL,
                project text COLLATE "C" NOT NULL,
                n bigint NOT NULL,
                PRIMARY KEY (owner, status, project)
            )""",
            """INSERT INTO task_counts (owner, status, project, n)
               SELECT owner, status, project, count(*) FROM tasks GROUP BY owner, status, project""",
            *_isolated("task_counts"),  # after filling it: a new table's policy binds from here on
            # runs as the writing role, so the policies apply to it too (it only ever touches
            # the rows of the owner whose task changed, which is the transaction's owner)
            """CREATE FUNCTION task_counts_follow() RETURNS trigger LANGUAGE plpgsql
               SET search_path FROM CURRENT AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN
                    UPDATE task_counts SET n = n - 1
                    WHERE owner = OLD.owner AND status = OLD.status AND project = OLD.project;
                END IF;
                IF TG_OP <> 'DELETE' THEN
                    INSERT INTO task_counts AS c (owner, status, project, n)
                    VALUES (NEW.owner, NEW.status, NEW.project, 1)
                    ON CONFLICT (owner, status, project) DO UPDATE SET n = c.n + 1;
                END IF;
                RETURN NULL;
            END $$""",
            """CREATE TRIGGER task_counts_insert_delete AFTER INSERT OR DELETE ON tasks
               FOR EACH ROW EXECUTE FUNCTION task_counts_follow()""",
            """CREATE TRIGGER task_counts_update AFTER UPDATE OF status, project ON tasks
               FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.project IS DISTINCT FROM NEW.project)
               EXECUTE FUNCTION task_counts_follow()""",
        ),
    ),
    (
        3,
        "operator-issued API tokens (hashes only)",
        (
            """CREATE TABLE api_tokens (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                username text NOT NULL,
                token_hash text NOT NULL UNIQUE,
                label text NOT NULL DEFAULT '',
                created_at text NOT NULL,
                revoked_at text
            )""",
        ),
    ),
    (
        4,
        "shared projects: members, links from a member's copy to the owner's task, who changed what",
        (
            """CREATE TABLE shares (
                owner text COLLATE "C" NOT NULL,
                project text COLLATE "C" NOT NULL,
                member text COLLATE "C" NOT NULL,
                mount text COLLATE "C" NOT NULL,
                created_at text NOT NULL,
                PRIMARY KEY (owner, project, member),
                UNIQUE (member, mount)
            )""",
            """CREATE TABLE links (
                owner text COLLATE "C" NOT NULL,
                id bigint NOT NULL,
                origin_owner text COLLATE "C" NOT NULL,
                origin_id bigint NOT NULL,
                PRIMARY KEY (owner, id),
                UNIQUE (origin_owner, origin_id, owner)
            )""",
            "ALTER TABLE changes ADD COLUMN actor text",
            # a share is seen by its owner and its member; only the owner makes or ends it
            *_isolated(
                "shares", using=f"owner = {CURRENT_OWNER} OR member = {CURRENT_OWNER}", check=f"owner = {CURRENT_OWNER}"
            ),
            # a link is seen by the member whose copy it is and by the owner of the task it copies
            *_isolated("links", using=f"owner = {CURRENT_OWNER} OR origin_owner = {CURRENT_OWNER}"),
        ),
    ),
    (
        5,
        "reminders on tasks (relative to due, or an instant)",
        ("ALTER TABLE tasks ADD COLUMN reminders text[] NOT NULL DEFAULT '{}'",),
    ),
    (
        6,
        "task lists that exist without tasks (CalDAV collections): name, stable path, properties",
        (
            """CREATE TABLE lists (
                owner text COLLATE "C" NOT NULL,
                path text COLLATE "C" NOT NULL,
                name text COLLATE "C" NOT NULL,
                props text NOT NULL DEFAULT '{}',
                created_at text NOT NULL,
                PRIMARY KEY (owner, path),
                UNIQUE (owner, name)
            )""",
            """CREATE TABLE list_undo (
                owner text COLLATE "C" NOT NULL,
                grp bigint NOT NULL,
                path text COLLATE "C" NOT NULL,
                before text,
                PRIMARY KEY (owner, grp, path)
            )""",
            *_isolated("lists"),
            *_isolated("list_undo"),
        ),
    ),
    (
        7,
        "CalDAV: the client's VTODO and resource name on tasks, the way a change came in",
        (
            "ALTER TABLE tasks ADD COLUMN ical text",
            "ALTER TABLE tasks ADD COLUMN href text",
            "CREATE INDEX tasks_by_href ON tasks (owner, href) WHERE href IS NOT NULL",
            "ALTER TABLE changes ADD COLUMN via text",
        ),
    ),
)


_LOCK = "SELECT pg_advisory_xact_lock(hashtext('mcp-server-todo migrations ' || current_schema()))"
_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
)
_OWNER_KEYED = """
    SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity
           AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
    FROM pg_class c
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'owner' AND NOT a.attisdropped
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
    ORDER BY c.relname
"""


def applied_versions(conn: psycopg.Connection) -> set[int]:
    """The versions recorded in `schema_migrations` of the connection's current schema."""
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return set()
    return {int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations")}


def migrate(conn: psycopg.Connection, upto: int | None = None) -> list[int]:
    """Apply the pending migrations (up to `upto`) on an autocommit connection, each in its
    own transaction; returns the versions this call applied."""
    wanted = [m for m in PG_MIGRATIONS if upto is None or m[0] <= upto]
    applied = applied_versions(conn)
    if all(version in applied for version, _, _ in wanted):
        return []
    done: list[int] = []
    for version, name, statements in wanted:
        with conn.transaction():
            conn.execute(_LOCK)  # another replica migrating this schema finishes first
            conn.execute(_LEDGER)
            if version in applied_versions(conn):
                continue
            log.info("applying PostgreSQL migration %d %s", version, name)
            lifted = [table for table, _ in conn.execute(_OWNER_KEYED).fetchall()]
            for table in lifted:  # see every owner's rows while migrating (owner only, this transaction)
                conn.execute(sql.SQL("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY").format(sql.Identifier(table)))
            for statement in statements:
                conn.execute(statement)
            for table in lifted:
                conn.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(sql.Identifier(table)))
            open_tables = [table for table, isolated in conn.execute(_OWNER_KEYED).fetchall() if not isolated]
            if open_tables:
                raise RuntimeError(
                    f"migration {version} leaves owner-keyed tables without forced row-level security: "
                    + ", ".join(open_tables)
                )
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            done.append(version)
    return done
