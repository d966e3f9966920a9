"""Ordered, named schema migrations. Each runs in one transaction and is recorded in
`schema_migrations`; a database is never changed by anything but the next migration."""

from __future__ import annotations

Migration = tuple[int, str, tuple[str, ...]]

SQLITE_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        "tasks, tags, owners and the change log",
        (
            "CREATE TABLE owners (owner TEXT PRIMARY KEY, next_id INTEGER NOT NULL)",
            """CREATE TABLE tasks (
                owner TEXT NOT NULL,
                id INTEGER NOT NULL,
                title TEXT NOT NULL,
                notes TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'deleted')),
                priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3),
                due TEXT,
                due_date TEXT,
                due_utc TEXT,
                project TEXT NOT NULL,
                tags TEXT NOT NULL DEFAULT '[]',
                parent_id INTEGER,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                completed_at TEXT,
                PRIMARY KEY (owner, id)
            ) WITHOUT ROWID""",
            "CREATE INDEX tasks_by_status ON tasks (owner, status, id)",
            "CREATE INDEX tasks_by_project ON tasks (owner, project, status, id)",
            "CREATE INDEX tasks_by_due ON tasks (owner, status, due_date)",
            "CREATE INDEX tasks_by_parent ON tasks (owner, parent_id)",
            """CREATE TABLE task_tags (
                owner TEXT NOT NULL,
                tag TEXT NOT NULL,
                task_id INTEGER NOT NULL,
                PRIMARY KEY (owner, tag, task_id)
            ) WITHOUT ROWID""",
            "CREATE INDEX task_tags_by_task ON task_tags (owner, task_id)",
            """CREATE TABLE changes (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                owner TEXT NOT NULL,
                grp INTEGER NOT NULL,
                at TEXT NOT NULL,
                op TEXT NOT NULL,
                task_id INTEGER NOT NULL,
                before TEXT,
                after TEXT,
                undone INTEGER NOT NULL DEFAULT 0
            )""",
            "CREATE INDEX changes_by_group ON changes (owner, undone, grp)",
            "CREATE INDEX changes_by_task ON changes (owner, task_id, id)",
        ),
    ),
    (
        2,
        "task counts per status and project, kept by triggers",
        (
            """CREATE TABLE task_counts (
                owner TEXT NOT NULL,
                status TEXT NOT NULL,
                project TEXT NOT NULL,
                n INTEGER NOT NULL,
                PRIMARY KEY (owner, status, project)
            ) WITHOUT ROWID""",
            """INSERT INTO task_counts (owner, status, project, n)
               SELECT owner, status, project, count(*) FROM tasks GROUP BY owner, status, project""",
            """CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
                INSERT INTO task_counts (owner, status, project, n) VALUES (NEW.owner, NEW.status, NEW.project, 1)
                ON CONFLICT (owner, status, project) DO UPDATE SET n = n + 1;
            END""",
            """CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
                UPDATE task_counts SET n = n - 1
                WHERE owner = OLD.owner AND status = OLD.status AND project = OLD.project;
            END""",
            """CREATE TRIGGER task_counts_update AFTER UPDATE OF status, project ON tasks
            WHEN OLD.status IS NOT NEW.status OR OLD.project IS NOT NEW.project BEGIN
                UPDATE task_counts SET n = n - 1
                WHERE owner = OLD.owner AND status = OLD.status AND project = OLD.project;
                INSERT INTO task_counts (owner, status, project, n) VALUES (NEW.owner, NEW.status, NEW.project, 1)
                ON CONFLICT (owner, status, project) DO UPDATE SET n = n + 1;
            END""",
        ),
    ),
    (
        3,
        "recurrence, zones, dependencies, due sort key; full-text search (FTS5)",
        (
            """CREATE TABLE tasks_v3 (
                owner TEXT NOT NULL,
                id INTEGER NOT NULL,
                title TEXT NOT NULL,
                notes TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'deleted')),
                priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 3),
                due TEXT,
                due_tz TEXT,
                due_date TEXT,
                due_utc TEXT,
                due_key TEXT,
                recur TEXT,
                project TEXT NOT NULL,
                tags TEXT NOT NULL DEFAULT '[]',
                parent_id INTEGER,
                depends_on TEXT NOT NULL DEFAULT '[]',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                completed_at TEXT,
                UNIQUE (owner, id)
            )""",
            """INSERT INTO tasks_v3 (owner, id, title, notes, status, priority, due, due_date, due_utc, due_key,
                   project, tags, parent_id, created_at, updated_at, completed_at)
               SELECT owner, id, title, notes, status, priority, due, due_date, due_utc,
                   coalesce(due_utc, due_date || 'T23:59:59Z'), project, tags, parent_id, created_at, updated_at,
                   completed_at
               FROM tasks ORDER BY owner, id""",
            "DROP TABLE tasks",
            "ALTER TABLE tasks_v3 RENAME TO tasks",
            "CREATE INDEX tasks_by_status ON tasks (owner, status, id)",
            "CREATE INDEX tasks_by_project ON tasks (owner, project, status, id)",
            "CREATE INDEX tasks_by_due ON tasks (owner, status, due_key, id)",
            "CREATE INDEX tasks_by_parent ON tasks (owner, parent_id, status)",
            """CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
                INSERT INTO task_counts (owner, status, project, n) VALUES (NEW.owner, NEW.status, NEW.project, 1)
                ON CONFLICT (owner, status, project) DO UPDATE SET n = n + 1;
            END""",
            """CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
                UPDATE task_counts SET n = n - 1
                WHERE owner = OLD.owner AND status = OLD.status AND project = OLD.project;
            END""",
            """CREATE TRIGGER task_counts_update AFTER UPDATE OF status, project ON tasks
            WHEN OLD.status IS NOT NEW.status OR OLD.project IS NOT NEW.project BEGIN
                UPDATE task_counts SET n = n - 1
                WHERE owner = OLD.owner AND status = OLD.status AND project = OLD.project;
                INSERT INTO task_counts (owner, status, project, n) VALUES (NEW.owner, NEW.status, NEW.project, 1)
                ON CONFLICT (owner, status, project) DO UPDATE SET n = n + 1;
            END""",
            """CREATE VIRTUAL TABLE tasks_fts USING fts5(
                title, notes, content='tasks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
            )""",
            "INSERT INTO tasks_fts (tasks_fts) VALUES ('rebuild')",
            """CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
                INSERT INTO tasks_fts (rowid, title, notes) VALUES (NEW.rowid, NEW.title, NEW.notes);
            END""",
            """CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
                INSERT INTO tasks_fts (tasks_fts, rowid, title, notes)
                VALUES ('delete', OLD.rowid, OLD.title, OLD.notes);
            END""",
            """CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, notes ON tasks BEGIN
                INSERT INTO tasks_fts (tasks_fts, rowid, title, notes)
                VALUES ('delete', OLD.rowid, OLD.title, OLD.notes);
                INSERT INTO tasks_fts (rowid, title, notes) VALUES (NEW.rowid, NEW.title, NEW.notes);
            END""",
        ),
    ),
    (
        4,
        "stable task uids for import and export",
        (
            "ALTER TABLE tasks ADD COLUMN uid TEXT",
            "UPDATE tasks SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
            "CREATE UNIQUE INDEX tasks_by_uid ON tasks (owner, uid)",
        ),
    ),
    (
        5,
        "operator-issued API tokens (hashes only)",
        (
            """CREATE TABLE api_tokens (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                user TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                label TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                revoked_at TEXT
            )""",
        ),
    ),
    (
        6,
        "indexes for due windows (today, this week, overdue)",
        (
            "CREATE INDEX tasks_by_due_date ON tasks (owner, status, due_date)",
            "CREATE INDEX tasks_by_due_utc ON tasks (owner, status, due_utc)",
        ),
    ),
    (
        7,
        "the change log by owner and id (watchers read what changed since a cursor)",
        ("CREATE INDEX changes_by_owner ON changes (owner, id)",),
    ),
    (
        8,
        "shared projects: members, links from a member's copy to the owner's task, who changed what",
        (
            """CREATE TABLE shares (
                owner TEXT NOT NULL,
                project TEXT NOT NULL,
                member TEXT NOT NULL,
                mount TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (owner, project, member),
                UNIQUE (member, mount)
            ) WITHOUT ROWID""",
            """CREATE TABLE links (
                owner TEXT NOT NULL,
                id INTEGER NOT NULL,
                origin_owner TEXT NOT NULL,
                origin_id INTEGER NOT NULL,
                PRIMARY KEY (owner, id),
                UNIQUE (origin_owner, origin_id, owner)
            ) WITHOUT ROWID""",
            "ALTER TABLE changes ADD COLUMN actor TEXT",
        ),
    ),
    (
        9,
        "reminders on tasks (relative to due, or an instant)",
        ("ALTER TABLE tasks ADD COLUMN reminders TEXT NOT NULL DEFAULT '[]'",),
    ),
    (
        10,
        "task lists that exist without tasks (CalDAV collections): name, stable path, properties",
        (
            """CREATE TABLE lists (
                owner TEXT NOT NULL,
                path TEXT NOT NULL,
                name TEXT NOT NULL,
                props TEXT NOT NULL DEFAULT '{}',
                created_at TEXT NOT NULL,
                PRIMARY KEY (owner, path),
                UNIQUE (owner, name)
            ) WITHOUT ROWID""",
            """CREATE TABLE list_undo (
                owner TEXT NOT NULL,
                grp INTEGER NOT NULL,
                path TEXT NOT NULL,
                before TEXT,
                PRIMARY KEY (owner, grp, path)
            ) WITHOUT ROWID""",
        ),
    ),
    (
        11,
        "CalDAV: the client's VTODO and resource name on tasks, the way a change came in",
        (
            "ALTER TABLE tasks ADD COLUMN ical TEXT",
            "ALTER TABLE tasks ADD COLUMN href TEXT",
            "CREATE INDEX tasks_by_href ON tasks (owner, href) WHERE href IS NOT NULL",
            "ALTER TABLE changes ADD COLUMN via TEXT",
        ),
    ),
    (
        12,
        "search index rewritten only when a title or notes change; due order and subtasks indexed as read",
        (
            # the upsert names every column, so the trigger fired on each write (a completion
            # deleted and re-added the task's words); now only when the words can differ
            "DROP TRIGGER tasks_fts_update",
            """CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, notes ON tasks
            WHEN OLD.title IS NOT NEW.title OR OLD.notes IS NOT NEW.notes BEGIN
                INSERT INTO tasks_fts (tasks_fts, rowid, title, notes)
                VALUES ('delete', OLD.rowid, OLD.title, OLD.notes);
                INSERT INTO tasks_fts (rowid, title, notes) VALUES (NEW.rowid, NEW.title, NEW.notes);
            END""",
            # sort="due" orders by coalesce(due_key, '~'), id: indexed as that, a page is read
            # from the index instead of sorting every pending task (sqlite_sql.sort_keys)
            "DROP INDEX tasks_by_due",
            "CREATE INDEX tasks_by_due ON tasks (owner, status, coalesce(due_key, '~'), id)",
            # the subtasks of a task in id order straight from the index (the planner walked
            # every pending task for list_items parent_id=N); every index below holds only
            # the tasks it can find, so a write of a task without a due date or a parent
            # leaves three indexes alone (fewer pages to write and sync per commit)
            "DROP INDEX tasks_by_parent",
            "CREATE INDEX tasks_by_parent ON tasks (owner, parent_id, status, id) WHERE parent_id IS NOT NULL",
            "DROP INDEX tasks_by_due_date",
            "CREATE INDEX tasks_by_due_date ON tasks (owner, status, due_date) WHERE due_date IS NOT NULL",
            "DROP INDEX tasks_by_due_utc",
            "CREATE INDEX tasks_by_due_utc ON tasks (owner, status, due_utc) WHERE due_utc IS NOT NULL",
        ),
    ),
    (
        13,
        "due windows counted from the due indexes alone; sort=priority read from an index",
        (
            # a window's total counts its date-only and its timed tasks apart (they never
            # overlap): the date-only ones need due_utc IS NULL, now in the index, so neither
            # count reads a task (overdue at 100,000 tasks: 220 ms -> 7 ms)
            "DROP INDEX tasks_by_due_date",
            "CREATE INDEX tasks_by_due_date ON tasks (owner, status, due_date, due_utc) WHERE due_date IS NOT NULL",
            # sort="priority": the tasks that have a priority, in the sort's order; those without
            # (most, and a new task's default, which so writes no entry here) follow in due order
            # from tasks_by_due, whose priority column filters them without reading a task
            "CREATE INDEX tasks_by_priority ON tasks (owner, status, -priority, coalesce(due_key, '~'), id) "
            "WHERE priority > 0",
            "DROP INDEX tasks_by_due",
            "CREATE INDEX tasks_by_due ON tasks (owner, status, coalesce(due_key, '~'), id, priority)",
        ),
    ),
)
