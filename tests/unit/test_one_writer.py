"""One write path: only the service (and the store itself) calls a store transaction's write
methods or opens a store's write transaction. A second writer (an import engine, a transport
or a tool writing rows itself) fails here, by name and line.

import-linter cannot say this (it sees imports, not calls), so the source is walked instead."""

from __future__ import annotations

import ast
from pathlib import Path

import mcp_server_todo

PACKAGE = Path(mcp_server_todo.__file__).parent
WRITERS = ("service", "store")
"""The packages allowed to write: the service, and the store's own internals."""
TX_WRITES = {
    "put",
    "put_many",
    "log_many",
    "mark_undone",
    "join_group",
    "reserve_ids",
    "allocate_id",
    "add_share",
    "remove_share",
    "add_link",
    "remove_link",
    "forget",
    "lock_sharing",
}
"""Write methods of a store transaction whose names nothing else in src/ uses."""
AMBIGUOUS = {"remove", "log"}
"""Write methods whose names lists, sets and loggers share: caught on a receiver named like a
transaction (`tx`, `raw`, `view`, `shared`...)."""
TX_NAMES = ("tx", "raw", "view", "shared", "transaction")


def _receiver(node: ast.expr) -> str:
    return ast.unparse(node).lower()


def _writes(source: str, shown_as: str) -> list[str]:
    """The write calls in `source`, in source order, as "shown_as:line: receiver.method(...)"."""
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source, shown_as)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, receiver = node.func.attr, _receiver(node.func.value)
        last = receiver.rsplit(".", 1)[-1]
        if (
            name in TX_WRITES
            or (name in AMBIGUOUS and any(word in last for word in TX_NAMES))
            or (name == "write" and "store" in last)
        ):
            found.append((node.lineno, node.col_offset, f"{shown_as}:{node.lineno}: {receiver}.{name}(...)"))
    return [entry for *_, entry in sorted(found)]


def test_only_the_service_and_the_store_write() -> None:
    outside = [path for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).parts[0] not in WRITERS]
    assert len(outside) > 10, "few modules outside service/ and store/: the walk looks in the wrong place"
    writes = [
        write for path in outside for write in _writes(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    ]
    assert writes == [], "writes outside the service (route them through TodoService):\n" + "\n".join(writes)


def test_the_walk_catches_a_second_writer() -> None:
    """The check itself: a module writing through a transaction is reported, a list is not."""
    source = (
        "def sneak(store, task, change):\n"
        "    with store.write('me') as tx:\n"
        "        tx.put(task)\n"
        "        tx.log(change)\n"
        "        tx.remove(task.id)\n"
        "    items = [1]\n"
        "    items.remove(1)\n"
        "    self.service.store.write()\n"
    )
    assert _writes(source, "probe.py") == [
        "probe.py:2: store.write(...)",
        "probe.py:3: tx.put(...)",
        "probe.py:4: tx.log(...)",
        "probe.py:5: tx.remove(...)",
        "probe.py:8: self.service.store.write(...)",
    ]
