"""The house rule "no module over 400 lines" (docs/architecture.md), checked on every module of src/."""

from __future__ import annotations

from pathlib import Path

import mcp_server_todo

LIMIT = 400


def test_no_module_of_the_package_is_over_400_lines() -> None:
    root = Path(mcp_server_todo.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 50, f"found only {len(modules)} modules under {root}"
    sizes = {path.relative_to(root).as_posix(): len(path.read_text(encoding="utf-8").splitlines()) for path in modules}
    over = {name: lines for name, lines in sizes.items() if lines > LIMIT}
    assert not over, f"over {LIMIT} lines (split them by what they hold): {over}"
