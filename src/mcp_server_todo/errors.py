"""The error tree, translated once at each boundary.

    TodoError                 anything we expect and can explain
    ├── NotFound              no such task for this owner (or not in the asked-for state)
    ├── InvalidInput          an argument breaks a rule (limits, formats, types)
    ├── Conflict              the request is valid but the task's state forbids it
    └── StorageError          the store failed (locked for too long, disk full, corrupt)

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


class StorageError(TodoError):
    pass
