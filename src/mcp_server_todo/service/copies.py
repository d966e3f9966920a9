"""A member's copy of a shared task (sharing.py): the member's id, their name for the project,
links by their ids, and a UID of the member's namespace. UIDs are unique per owner, so a copy
made of the owner's task gets a UID derived from the member and the owner's UID (never one of
the member's own); a task the member adds to a mount keeps, in their copy, the UID their client
gave it (their phone must find it again), while the owner's task gets that UID unless one of
the owner's tasks has it (then a fresh one). A copy keeps its UID through later writes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ..model import Share, Task


def copy_of(origin: Task, share: Share, copy_id: int, ids: Callable[[int], int | None], uid: str | None = None) -> Task:
    """`share.member`'s copy of the owner's task: their id, their name for the project, and
    parent and dependencies by their ids (dropped when the member does not see them)."""
    parent = None if origin.parent_id is None else ids(origin.parent_id)
    depends = [i for i in (ids(d) for d in origin.depends_on) if i is not None]
    uid = uid or uuid.uuid5(uuid.NAMESPACE_URL, f"{share.member}:{origin.uid}").hex  # never one of the member's own
    return origin.model_copy(
        update={"id": copy_id, "uid": uid, "project": share.mount, "parent_id": parent, "depends_on": depends}
    )
