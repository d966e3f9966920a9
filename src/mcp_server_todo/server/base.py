"""What every part of the MCP surface shares: the app state, argument types, annotations,
and `ToolSet`, which builds compact tool definitions on a short call path."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.resolve import resolve_arguments
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from ..errors import TodoError
from ..logs import log_incident
from ..schema import compact
from ..service import TodoService
from ..store import LOCAL_OWNER, WouldBlock, nowait

_Fn = TypeVar("_Fn", bound=Callable[..., Any])
_T = TypeVar("_T")
logger = logging.getLogger(__name__)


@dataclass
class AppState:
    """What the lifespan opens once per process and every handler reaches through ctx:
    the service of the local user (stdio) and, for authenticated HTTP requests, one service
    per owner over the same store."""

    service: TodoService
    extras: dict[str, Any] = field(default_factory=dict)
    _owners: dict[str, TodoService] = field(default_factory=dict)

    def service_for(self, owner: str) -> TodoService:
        if owner == self.service.owner:
            return self.service
        found = self._owners.get(owner)
        if found is None:
            found = self._owners[owner] = TodoService(self.service.store, owner=owner, tz=self.service.tz)
        return found

    def for_request(self) -> TodoService:
        """The service of whoever sent the current request (never another user's)."""
        return self.service_for(owner_of_request())


def owner_of_request() -> str:
    """The owner of the current request: the authenticated principal over HTTP, else the
    local user. Identity comes from the verified access token only, never from headers."""
    return owner_of_token(get_access_token())


def owner_of_token(token: AccessToken | None) -> str:
    """`ISSUER#SUB` for an OAuth token, the user for an operator token (user names cannot hold
    '#'), LOCAL_OWNER without a token. A token's `client_id` (or `azp`) names an app, never an
    owner: a verified token without a subject is a verifier's bug, refused here too."""
    if token is None:
        return LOCAL_OWNER
    if not isinstance(token.subject, str) or not token.subject:
        raise PermissionError("an access token without a subject names no owner")
    issuer = (token.claims or {}).get("iss")
    return f"{issuer}#{token.subject}" if issuer else token.subject


def service_of(ctx: Ctx) -> TodoService:
    return ctx.request_context.lifespan_context.for_request()


Ctx = Context[AppState, Any]
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
    tests/test_server.py validates every tool's results against its published schema."""

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

    @property
    def groups(self) -> list[str]:
        return list(self._pending)

    def tool(
        self, annotations: ToolAnnotations, group: str = "core", *, meta: dict[str, Any] | None = None
    ) -> Callable[[_Fn], _Fn]:
        def register(fn: _Fn) -> _Fn:
            self._pending.setdefault(group, []).append((fn, annotations, meta))
            self._built.pop(group, None)
            return fn

        return register

    def group(self, name: str) -> list[Tool]:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = [_build(*entry) for entry in self._pending[name]]
        return built

    def select(self, spec: str) -> list[Tool]:
        """`core`, `all`, or a comma-separated list of groups (core is always included)."""
        wanted = {part.strip() for part in spec.split(",") if part.strip()} or {"core"}
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


def result(text: str, model: BaseModel) -> CallToolResult:
    # null fields (no due date, no parent...) are left out: a page of 50 tasks stays small
    data = model.model_dump(mode="json", exclude_none=True)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def error(exc: TodoError) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)


async def offload(service: TodoService, fn: Callable[[TodoService], _T], *, heavy: bool = False) -> _T:
    """Run a service call on the event loop when the store needs no waiting (the common, short
    calls: no thread hop), else on a worker thread where waiting for another process's lock is
    harmless. A `heavy` call (an import, an export, an undo, a search: any whose cost the
    caller cannot bound small) always runs on a worker thread, so it never stalls the loop."""
    if not heavy:
        try:
            with nowait():
                return fn(service)
        except WouldBlock:
            pass
    # abandoned if cancelled (a shutdown past its timeout): the thread cannot be stopped, and
    # waiting for it would hold up the exit; what it had not committed is rolled back
    return await anyio.to_thread.run_sync(fn, service, abandon_on_cancel=True)


async def call(ctx: Ctx, fn: Callable[[TodoService], CallToolResult], *, heavy: bool = False) -> CallToolResult:
    """A tool's service call; expected failures become tool errors that say what to do."""
    try:
        return await offload(service_of(ctx), fn, heavy=heavy)
    except TodoError as exc:
        return error(exc)
