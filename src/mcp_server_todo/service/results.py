"""What the task operations return besides tasks: a completion's parts, an undone change."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Task


@dataclass
class Completed:
    done: list[Task] = field(default_factory=list)
    """Tasks completed by this call (subtasks included)."""
    unchanged: list[Task] = field(default_factory=list)
    """Tasks that were already done."""
    created: list[Task] = field(default_factory=list)
    """Next occurrences of recurring tasks."""


@dataclass
class Undone:
    """One reverted change: what the operation was, and the task after the revert (None if removed)."""

    op: str
    task_id: int
    title: str
    task: Task | None
