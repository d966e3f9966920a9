"""The tools, one module per group; `tools` holds them all and `tools.select("core,history")`
picks the groups `--tools` names.

| group   | module      | tools |
|---------|-------------|-------|
| core    | tasks.py    | list_items, new_item, complete_item, update_item, undo |
| core    | trash.py    | delete_item (asks before deleting several) |
| history | history.py  | history |
| share   | sharing.py  | share_project, unshare_project, list_shares |
| import  | transfer.py | import_items (and the export resource) |
| trash   | trash.py    | empty_trash |
| view    | view.py     | show_tasks (and the MCP Apps view) |

A tool is registered when its module is imported: the import order below is the order of
tools/list (core first), so keep it.
"""

from __future__ import annotations

from . import tasks, history, sharing, transfer, trash, view  # isort: skip  (tools/list order)
from .registry import tools

__all__ = ["history", "sharing", "tasks", "tools", "transfer", "trash", "view"]
