"""One write path: only the service (and the store itself) calls a store transaction's write
methods, and the service opens a store's write transaction in one place, `service.sharing.write`,
which wraps it so shared projects stay in step. A second writer (an import engine, a transport or
a tool writing rows itself), or a service write that skips the fan-out, fails here by name and line.

import-linter cannot say this (it sees imports, not calls), so the source is walked instead. The
write methods are read off the store Protocols (everything `ReadTx` lacks, but the sharing
reads listed here), so a write method added later counts as one by default."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import mcp_server_todo
from mcp_server_todo.store import ReadTx, StoreTx, WriteTx

PACKAGE = Path(mcp_server_todo.__file__).parent
OPENER = Path("service", "sharing.py")
"""The one module that opens `store.write(...)` outside the store."""
SHARING_READS = {"owner", "as_owner", "has_shares", "project_in_use", "link_of", "copies_of", "copies_from"}
"""The write transaction's sharing primitives that only read."""
NOT_TRANSACTIONS = {
    ("server/__init__.py", "states"),
    ("server/live.py", "self._services"),
    ("cli/transfer.py", "os"),
}
"""(module, receiver) of the calls outside the service whose method shares a write method's
name (`remove`, `log`) on something that is no transaction: a list, `os`."""


def _methods(protocol: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(protocol) if not name.startswith("_")}


READS = _methods(ReadTx) | SHARING_READS
"""The transaction methods that only read: what a read transaction offers, and the sharing reads."""
WRITES = (_methods(StoreTx) | _methods(WriteTx)) - READS


def _opens_a_write(node: ast.AST) -> bool:
    """`with <anything>.write(...)`: a store's write transaction (files are written by calls,
    never entered)."""
    return isinstance(node, ast.With | ast.AsyncWith) and any(
        isinstance(item.context_expr, ast.Call)
        and isinstance(item.context_expr.func, ast.Attribute)
        and item.context_expr.func.attr == "write"
        for item in node.items
    )


def _writes(source: str, shown_as: str, *, in_service: bool = False) -> list[str]:
    """The writes in `source` that its place may not make, in source order, as
    "shown_as:line: what". In the service, only opening a write transaction outside `OPENER`
    counts; elsewhere every call of a write method too, whatever its receiver is called."""
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source, shown_as)):
        if _opens_a_write(node) and shown_as != str(OPENER):
            found.append((node.lineno, node.col_offset, f"{shown_as}:{node.lineno}: with ....write(...)"))
        if in_service or not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in WRITES:
            receiver = ast.unparse(func.value)
            if (shown_as, receiver) not in NOT_TRANSACTIONS:
                found.append((node.lineno, node.col_offset, f"{shown_as}:{node.lineno}: {receiver}.{func.attr}(...)"))
        elif (
            isinstance(func, ast.Name)
            and func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in WRITES
        ):
            found.append(
                (node.lineno, node.col_offset, f"{shown_as}:{node.lineno}: getattr(..., {node.args[1].value!r})")
            )
    return [entry for *_, entry in sorted(found)]


def test_the_protocols_reads_are_known() -> None:
    """A read renamed or dropped from the Protocols must leave READS too (else it hides a write)."""
    assert _methods(StoreTx) | _methods(WriteTx) >= READS
    assert {"put", "put_many", "remove", "log", "log_many", "mark_undone", "add_link", "forget"} <= WRITES


def test_only_the_service_writes_and_only_through_the_fan_out() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    outside = [path for path in modules if path.relative_to(PACKAGE).parts[0] not in ("service", "store")]
    service = [path for path in modules if path.relative_to(PACKAGE).parts[0] == "service"]
    assert len(outside) > 10 and len(service) > 5, "the walk looks in the wrong place"
    writes = [
        write
        for paths, in_service in ((outside, False), (service, True))
        for path in paths
        for write in _writes(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)), in_service=in_service)
    ]
    assert writes == [], "writes outside the service's one write path (route them through TodoService):\n" + "\n".join(
        writes
    )


def test_the_walk_catches_a_second_writer() -> None:
    """The check itself: a module writing through a transaction is reported whatever its names,
    a list is not; in the service, a write transaction opened past the fan-out is reported."""
    source = (
        "def sneak(backend, w, task, change, items):\n"
        "    with backend.write('me') as t:\n"
        "        t.put(task)\n"
        "        w.log(change)\n"
        "        getattr(w, 'put_many')([task])\n"
        "    items.sort()\n"
        "    print('x', file=None)\n"
    )
    assert _writes(source, "probe.py") == [
        "probe.py:2: with ....write(...)",
        "probe.py:3: t.put(...)",
        "probe.py:4: w.log(...)",
        "probe.py:5: getattr(..., 'put_many')",
    ]
    assert _writes(source, "service/undo.py", in_service=True) == ["service/undo.py:2: with ....write(...)"]
    assert _writes(source, str(OPENER), in_service=True) == []
