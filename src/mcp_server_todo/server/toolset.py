"""What a tool is built from: `ToolSet` (tools collected by group, `--tools` selection, compact
definitions built on first use), the short call path every tool runs on (`_Tool.run`: unknown
and invalid arguments refused in one line, a bug answered with a log id), the annotations and
argument types tools share, and the result helpers (`result`, `error`)."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.resolve import resolve_arguments
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from ..errors import TodoError
from ..logs import log_incident
from .tool_schemas import compact

_Fn = TypeVar("_Fn", bound=Callable[..., Any])
logger = logging.getLogger(__name__)


Id = Annotated[int, Field(strict=True, description="Task id, as shown by list_items (#id).")]
PriorityArg = Literal["none", "low", "medium", "high"]
Str = Annotated[str, Field(strict=True)]

READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
ADD = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
IDEMPOTENT = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)


class _Tool(Tool):
    """A tool on a short path: arguments validated once, with errors that read as one clear
    line for the model (not pydantic's multi-line report with links), and our own
    `CallToolResult` returned as built. Its structured content comes from the very models
    that define the output schema, so re-validating it on every call would only cost time;
    tests/mcp/test_server.py validates every tool's results against its published schema."""

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        unknown = sorted(set(arguments) - set(self.parameters.get("properties", {})))
        if unknown:
            # silently ignoring a misspelt filter would return the wrong tasks
            known = ", ".join(self.parameters.get("properties", {})) or "none"
            shown = ", ".join(name if name.isprintable() and name.strip() else repr(name) for name in unknown)
            text = f"Invalid arguments for {self.name}: unknown argument {shown}; the arguments are {known}."
            return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
        try:
            # as sent first: the SDK's JSON pre-parsing alone would turn a text argument that
            # happens to be JSON (an import's content, notes) into a list or an object
            validated = self.fn_metadata.arg_model.model_validate(arguments).model_dump_one_level()
        except ValidationError as first:
            # then with the refused ones read as JSON text (Claude Desktop sends lists so)
            refused = {err["loc"][0] for err in first.errors() if err["loc"]}
            parsed = self.fn_metadata.pre_parse_json({k: v for k, v in arguments.items() if k in refused})
            try:
                validated = self.fn_metadata.arg_model.model_validate(arguments | parsed).model_dump_one_level()
            except ValidationError as exc:
                return CallToolResult(
                    content=[TextContent(type="text", text=argument_errors(self.name, exc))], is_error=True
                )
        kwargs = {self.context_kwarg: context} if self.context_kwarg else {}
        try:
            if self.resolved_params:
                # resolvers (elicitation, roots) as the SDK's Tool.run drives them
                resolved = await resolve_arguments(self.resolved_params, self.resolver_plans, validated, context)
                if isinstance(resolved, InputRequiredResult):
                    return self.fn_metadata.convert_result(resolved) if convert_result else resolved
                kwargs |= resolved
            return await self.fn_metadata.call_fn(self.fn, self.is_async, validated, kwargs)
        except (MCPError, ToolError) as exc:
            if isinstance(exc, UnexpectedToolError) and exc.__cause__ is not None:
                return _internal_error(self.name, exc.__cause__)
            raise
        except Exception as exc:
            return _internal_error(self.name, exc)


def _internal_error(tool: str, exc: BaseException) -> CallToolResult:
    """A bug: its traceback goes to the log under a log id, the client gets only that id."""
    text = log_incident(logger, exc, "Tool %r raised an unexpected exception", tool)
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def argument_errors(tool: str, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "arguments"
        if err["type"] == "missing":
            problems.append(f"{where} is required")
        else:
            shown = json.dumps(err.get("input"), default=str)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            problems.append(f"{where}: {err['msg'].lower()} (got {shown})")
    return f"Invalid arguments for {tool}: " + "; ".join(problems) + "."


class ToolSet:
    """Collects tools by group; `--tools core|all|group,...` picks which are served. A tool's
    definition (pydantic models, schemas) is built only when its group is first served:
    start-up pays for what the client will see, nothing more."""

    def __init__(self) -> None:
        self._pending: dict[str, list[tuple[Callable[..., Any], ToolAnnotations, dict[str, Any] | None]]] = {}
        self._built: dict[str, list[Tool]] = {}
        self._no_back_channel: set[str] = set()

    @property
    def groups(self) -> list[str]:
        return list(self._pending)

    def tool(
        self,
        annotations: ToolAnnotations,
        group: str = "core",
        *,
        meta: dict[str, Any] | None = None,
        back_channel: bool = True,
    ) -> Callable[[_Fn], _Fn]:
        """Register a tool. `back_channel=False` declares that it never uses the request's back
        channel (elicitation, roots, sampling, progress, log messages): over stdio such a call
        may be answered on the short path (transports/stdio_fast.py). A tool with argument
        resolvers (elicitation, roots) cannot declare it."""

        def register(fn: _Fn) -> _Fn:
            self._pending.setdefault(group, []).append((fn, annotations, meta))
            if not back_channel:
                self._no_back_channel.add(fn.__name__)
            self._built.pop(group, None)
            return fn

        return register

    def group(self, name: str) -> list[Tool]:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = [_build(*entry) for entry in self._pending[name]]
            for tool in built:
                if tool.name in self._no_back_channel and tool.resolved_params:
                    raise TypeError(f"tool {tool.name} resolves arguments through the client: it uses its back channel")
        return built

    def without_back_channel(self) -> frozenset[str]:
        """The tools declared `back_channel=False` (see `tool`)."""
        return frozenset(self._no_back_channel)

    def select(self, spec: str) -> list[Tool]:
        """`core`, `all`, or a comma-separated list of groups (core is always included); case and
        spaces around a name do not matter (`Core, View`)."""
        wanted = set(group_names(spec)) or {"core"}
        if "all" in wanted:
            wanted = set(self._pending)
        unknown = wanted - set(self._pending)
        if unknown:
            known = ", ".join(sorted(self._pending))
            raise ValueError(f"unknown tool group(s) {', '.join(sorted(unknown))}; choose from all, {known}")
        wanted.add("core")
        return [tool for group in self._pending if group in wanted for tool in self.group(group)]


def _build(fn: Callable[..., Any], annotations: ToolAnnotations, meta: dict[str, Any] | None) -> Tool:
    description = " ".join(inspect.cleandoc(fn.__doc__ or "").split())
    built = _Tool.from_function(fn, annotations=annotations, description=description, meta=meta)
    built.parameters = compact(built.parameters)
    if built.fn_metadata.output_schema is not None:
        built.fn_metadata.output_schema = compact(built.fn_metadata.output_schema, output=True)
    return built


def group_names(spec: str) -> list[str]:
    """The tool groups a `--tools` value names, in order: case and spaces around a name do not
    matter (`Core, View` is `core,view`)."""
    return [part.strip().lower() for part in spec.split(",") if part.strip()]


SHOWN_MAX = 100
"""At most this many tasks in one result of a bulk call (completing or trashing a parent of
20,000 subtasks): the rest are counted in the text. The SDK serializes a result on the event
loop, and a model reads no further than that anyway."""


def shown(tasks: list[Any]) -> tuple[list[Any], int]:
    """The first `SHOWN_MAX` of `tasks`, and how many are left out."""
    return tasks[:SHOWN_MAX], max(0, len(tasks) - SHOWN_MAX)


def result(text: str, model: BaseModel) -> CallToolResult:
    # null fields (no due date, no parent...) are left out: a page of 50 tasks stays small
    data = model.model_dump(mode="json", exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def error(exc: TodoError) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)
