"""The error tree, translated once at each boundary.

    TodoError                 anything we expect and can explain
    ├── NotFound              no such task for this owner (or not in the asked-for state)
    ├── InvalidInput          an argument breaks a rule (limits, formats, types)
    ├── Conflict              the request is valid but the task's state forbids it
    │   └── Stale             the task changed since the caller read it (a CalDAV If-Match)
    └── StorageError          the store failed (locked for too long, disk full, corrupt)
        ├── StoreFull         the disk (or the database's size limit) is full: nothing was saved
        ├── StoreReadOnly     the file, its folder or the disk is read-only: reads still work
        ├── StoreDamaged      the file is damaged or not a task database: restore a backup
        └── StoreUnreachable  the file cannot be opened or read (I/O error, vanished disk)

The server turns these into tool errors whose text says what to do next, the CLI into
a one-line message and an exit code. Anything else is a bug: logged, never leaked.
"""

from __future__ import annotations


class TodoError(Exception):
    """Base of every expected failure; `str(err)` is written for the reader (model or human)."""


class NotFound(TodoError):
    pass


class InvalidInput(TodoError):
    pass


class Conflict(TodoError):
    pass


class Stale(Conflict):
    pass


class StorageError(TodoError):
    pass


class StoreFull(StorageError):
    pass


class StoreReadOnly(StorageError):
    pass


class StoreDamaged(StorageError):
    pass


class StoreUnreachable(StorageError):
    pass
