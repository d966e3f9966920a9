"""The service: every operation on tasks, and the only writer of store transactions.

`tasks.py` holds the operations (`TodoService`), `reads.py` the reads, `cursor.py` the page
cursor, `rules.py` the parent and dependency rules, `sharing.py` the fan-out to the members
of shared projects, `undo.py` undo and an import's batches, `transfer.py` (with `importer.py`,
`import_values.py`, `reports.py`) the import/export engine. Pure domain logic over a `Store`:
no MCP, no SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .inputs import BULK_MAX
from .reads import DUE_FILTERS, Page, TaskReads
from .reports import DETAIL_MAX, ImportReport, Outcome
from .results import Completed, Undone
from .tasks import TodoService

if TYPE_CHECKING:
    from .transfer import Transfer

__all__ = [
    "BULK_MAX",
    "DETAIL_MAX",
    "DUE_FILTERS",
    "Completed",
    "ImportReport",
    "Outcome",
    "Page",
    "TaskReads",
    "TodoService",
    "Transfer",
    "Undone",
]


def __getattr__(name: str) -> Any:
    """`Transfer` (the import/export engine, with the formats registry) loads on first use: the
    task commands and the stdio server's start-up do without it."""
    if name == "Transfer":
        from .transfer import Transfer

        return Transfer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
