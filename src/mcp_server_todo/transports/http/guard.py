"""DNS-rebinding protection on every path: `Allowed` (the Host and Origin values this server
answers to) and `HostGuard`, the ASGI middleware that answers 421 for a foreign Host and 403 for
a foreign browser Origin before authentication.

The Host header must name this server (the bind address and the loopback names with the port,
the --public-url's host, and each --allowed-host), and a browser's Origin must be one of the
same (plus --allowed-origin).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ...logs import ASGIApp, Receive, Scope, Send
from .options import HttpOptions, url_host

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

log = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class Allowed:
    """Host and Origin values this server answers to; `name:*` matches any port."""

    hosts: tuple[str, ...]
    origins: tuple[str, ...]

    @classmethod
    def of(cls, options: HttpOptions) -> Allowed:
        port = options.port
        names = list(LOOPBACK_NAMES)
        bound = url_host(options.host)
        if not _unspecified(options.host) and bound not in names:
            names.append(bound)
        hosts = [f"{name}:{port}" for name in names]
        origins = [f"http://{name}:{port}" for name in names]
        if options.public_url:
            parts = urlsplit(options.public_url)
            hosts.append(parts.netloc)
            origins.append(f"{parts.scheme}://{parts.netloc}")
        for host in options.allowed_hosts:
            hosts.append(host)
            if not _has_port(host):
                hosts.append(f"{host}:*")
        origins.extend(origin.rstrip("/") for origin in options.allowed_origins)
        return cls(tuple(dict.fromkeys(hosts)), tuple(dict.fromkeys(origins)))

    def settings(self) -> TransportSecuritySettings:
        from mcp.server.transport_security import TransportSecuritySettings

        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=list(self.hosts), allowed_origins=list(self.origins)
        )

    def host_ok(self, host: str | None) -> bool:
        return host is not None and _matches(host, self.hosts)

    def origin_ok(self, origin: str | None) -> bool:
        return not origin or _matches(origin, self.origins)


def _has_port(host: str) -> bool:
    return "]:" in host if host.startswith("[") else ":" in host


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _matches(value: str, allowed: tuple[str, ...]) -> bool:
    value = value.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if value == pattern or (pattern.endswith(":*") and value.startswith(pattern[:-1])):
            return True
    return False


class HostGuard:
    """Host (421) and Origin (403) checks on every path, before authentication. The SDK checks
    /mcp again with the same settings; this covers /healthz and the metadata too, and answers
    a rebinding attempt before any token is looked at. The OAuth metadata is public and meant
    for cross-origin fetches, so only its Host is checked."""

    def __init__(self, app: ASGIApp, allowed: Allowed) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = origin = None
            for key, value in scope.get("headers", []):  # the last of repeated ones, as before
                name = key.lower()
                if name == b"host":
                    host = bytes(value).decode("latin-1")
                elif name == b"origin":
                    origin = bytes(value).decode("latin-1")
            if not self.allowed.host_ok(host):
                log.warning("refused a request with Host %r", host)
                await _plain(send, 421, "Invalid Host header")
                return
            if not str(scope.get("path", "")).startswith(WELL_KNOWN) and not self.allowed.origin_ok(origin):
                log.warning("refused a request with Origin %r", origin)
                await _plain(send, 403, "Invalid Origin header")
                return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
