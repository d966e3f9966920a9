"""`TodoServer`: the SDK's `MCPServer` with protocol answers that follow our error rules.

- prompts/get for an unknown prompt, with an unknown argument or a missing required one
  answers JSON-RPC -32602 (invalid params) with a message naming the prompt or the argument.
  The SDK answers these with code 0 (2025-11-25) or -32603 (2026-07-28) and logs a traceback.
- An unexpected exception (a bug) in a prompt or a resource answers -32603 "internal error
  (log id N)", and the log line with the traceback carries the same id (logs.log_incident).
  Tools do the same in toolset._Tool.run, as a tool error.

Only public methods are overridden: `get_prompt` and `read_resource`, which the SDK's
request handlers call on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, UnexpectedResourceError
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, GetPromptResult, InputRequiredResult
from pydantic import AnyUrl, ValidationError

from ..logs import log_incident
from .context import AppState

logger = logging.getLogger(__name__)


class TodoServer(MCPServer[AppState]):
    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[AppState, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        prompts = {prompt.name: prompt for prompt in await self.list_prompts()}
        prompt = prompts.get(name)
        if prompt is None:
            known = ", ".join(sorted(prompts)) or "none"
            raise MCPError(code=INVALID_PARAMS, message=f"unknown prompt {_shown(name)}; the prompts are {known}")
        params = prompt.arguments or []
        unknown = sorted(set(arguments or {}) - {arg.name for arg in params})
        if unknown:
            known = ", ".join(arg.name for arg in params) or "none"
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"prompt {name}: unknown argument {', '.join(map(_shown, unknown))}; the arguments are {known}",
            )
        missing = [arg.name for arg in params if arg.required and arg.name not in (arguments or {})]
        if missing:
            raise MCPError(code=INVALID_PARAMS, message=f"prompt {name}: {', '.join(missing)} is required")
        try:
            return await super().get_prompt(name, arguments, context)
        except MCPError:
            raise
        except Exception as exc:
            invalid = _validation_error(exc)
            if invalid is not None and invalid.title.rsplit(".", 1)[-1] == name:
                fields = sorted({".".join(str(part) for part in err["loc"]) for err in invalid.errors()})
                raise MCPError(
                    code=INVALID_PARAMS, message=f"prompt {name}: invalid argument {', '.join(fields)}"
                ) from None
            message = log_incident(logger, _root(exc), "Prompt %r raised an unexpected exception", name)
            raise MCPError(code=INTERNAL_ERROR, message=message) from None

    async def read_resource(
        self, uri: AnyUrl | str, context: Context[AppState, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        try:
            return await super().read_resource(uri, context)
        except UnexpectedResourceError as exc:
            message = log_incident(logger, exc.__cause__ or exc, "Resource %r raised an unexpected exception", str(uri))
            raise MCPError(code=INTERNAL_ERROR, message=message, data={"uri": str(uri)}) from None
        except ResourceError:
            raise


def _shown(text: str) -> str:
    """A name the client sent, quoted on one line and cut short."""
    quoted = repr(text)
    return quoted if len(quoted) <= 40 else quoted[:37] + "..."


def _root(exc: BaseException) -> BaseException:
    """The original exception under the SDK's wrappers (ValueError("Error rendering prompt"))."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def _validation_error(exc: BaseException) -> ValidationError | None:
    """The pydantic error behind the SDK's "Error rendering prompt": its check of the arguments
    (titled with the prompt function's name) or, for a bug, any other."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ValidationError):
            return seen
        seen = seen.__cause__
    return None
