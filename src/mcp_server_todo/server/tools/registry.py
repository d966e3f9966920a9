"""`tools`: the one `ToolSet` every tool group module registers its tools in (the package's
`__init__` imports the groups, in tools/list order)."""

from __future__ import annotations

from ..toolset import ToolSet

tools = ToolSet()
