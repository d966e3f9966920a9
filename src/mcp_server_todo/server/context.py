"""Who a request is for: `AppState` (what the lifespan opens once per process), the
handlers' `Ctx`, `service_of(ctx)` (the requester's service), and the owner of a request
(`owner_of_request`) or of a verified access token (`owner_of_token`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context

from ..service import TodoService
from ..store import LOCAL_OWNER


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
