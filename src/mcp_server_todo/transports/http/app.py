"""Streamable HTTP: `mcp-server-todo serve --http`, the SDK's Streamable HTTP app under uvicorn.

    /mcp                                      the MCP endpoint (POST, GET stream, DELETE)
    /healthz                                  200 {"status": "ok"} when the store answers, else 503
    /.well-known/oauth-protected-resource[/mcp]   RFC 9728 metadata (--auth oauth only)
    /dav/, /.well-known/caldav                CalDAV (the `caldav` extra; ../dav/app.py)

Authentication (`--auth`): `none` (loopback binds only: everyone is the local user), `tokens`
(operator-issued bearer tokens, `mcp-server-todo token create USER`), `oauth` (JWT access
tokens from an external authorization server; see auth.py). The SDK's bearer middleware answers
401 with `WWW-Authenticate` (and 403 for a missing scope). /healthz is not authenticated.

DNS-rebinding protection is on for every bind, on every path (guard.py). The flags and their
checks are in options.py.

Stateful sessions are limited per user and for the whole server (limits.py: 429 and 503
with Retry-After).

Stateless JSON-response servers (`--stateless --json-response`, the replica setup) answer the
handshake-era tools/call, tools/list and ping on a short path inside the SDK's app
(fast.py): the SDK's own request kernel, without the per-request transport, tasks and
streams of its stateless transport; the same answers (tests/mcp/test_http_fast.py compares them).
TODO_HTTP_FAST=0 turns it off.

Graceful shutdown (SIGTERM, SIGINT): stop accepting, let requests in flight finish, then end the
long-lived streams (the GET stream, subscriptions/listen), then close the store; exit code 0.
After `--shutdown-timeout` seconds whatever still runs is cancelled (drain.py).

Stdlib only at import time (the package's face imports it): the SDK loads when an app is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...logs import ASGIApp
from .drain import Drain, leave_running_calls
from .guard import Allowed, HostGuard
from .options import HEALTH_PATH, MCP_PATH, HttpOptions, url_host

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ...config import Config
    from ...server import AppState
    from .auth import JWTVerifier, StoreTokenVerifier
    from .fast import FastPath

log = logging.getLogger(__name__)


@dataclass
class HttpApp:
    """What `serve --http` runs: the ASGI app, its drain, and the token verifier to close."""

    asgi: ASGIApp
    drain: Drain
    server: MCPServer[AppState]
    verifier: StoreTokenVerifier | JWTVerifier | None
    fast: FastPath | None = None  # stateless JSON-response servers: the short path (fast.py)


def build_app(config: Config, toolsets: str, options: HttpOptions) -> HttpApp:
    """The whole HTTP application: MCP at /mcp, /healthz, the OAuth metadata, the Host guard,
    request ids and the drain."""
    from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
    from pydantic import AnyHttpUrl
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    from ...logs import RequestIdMiddleware
    from ...server import build_server, live_of, many_clients, offload
    from .auth import auth_settings

    options.check()
    verifier, auth = auth_settings(config, options)
    server = build_server(config, toolsets, token_verifier=verifier, auth=auth)

    last_reason: list[str | None] = [None]

    async def healthz(request: Request) -> Response:
        """200 when the store can be read and written; else 503 with the reason (store/health.py)."""
        from ...errors import TodoError
        from ...store.health import problem

        try:
            service = live_of(server).service
            await offload(service, lambda s: s.last_change_id())
            reason = problem(service.store)  # no transaction: os.access, statvfs, the last write fault
        except TodoError as exc:
            reason = str(exc)
        except Exception as exc:
            log.warning("health check failed: %s", type(exc).__name__)
            reason = "the store is not open (starting or stopping)"
        if reason is not None:
            if reason != last_reason[0]:  # once per new reason: load balancers ask every few seconds
                log.warning("health check: %s", reason)
            last_reason[0] = reason
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        last_reason[0] = None
        return JSONResponse({"status": "ok"})

    server.custom_route(HEALTH_PATH, methods=["GET"])(healthz)  # not authenticated: load balancers call it

    if auth is not None and auth.resource_server_url is not None:
        # the SDK serves RFC 9728's path-inserted URL (/.well-known/oauth-protected-resource/mcp);
        # clients that look at the root (the MCP spec's fallback) find the same document there
        resource = AnyHttpUrl(options.resource_url)
        inserted = urlsplit(str(build_resource_metadata_url(resource))).path
        root = "/.well-known/oauth-protected-resource"
        if inserted != root:
            route = create_protected_resource_routes(
                resource_url=resource,
                authorization_servers=[auth.issuer_url],
                scopes_supported=auth.required_scopes,
            )[0]
            server.custom_route(root, methods=["GET", "OPTIONS"])(route.endpoint)

    async def well_known_caldav(request: Request) -> Response:
        """RFC 6764: clients given only the host find CalDAV here."""
        from starlette.responses import RedirectResponse

        return RedirectResponse("/dav/", status_code=301)

    server.custom_route("/.well-known/caldav", methods=["GET", "PROPFIND"])(well_known_caldav)

    allowed = Allowed.of(options)
    starlette = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=options.json_response,
        stateless_http=options.stateless,
        transport_security=allowed.settings(),
        host=options.host,
        session_idle_timeout=options.session_idle_timeout,
        max_sessions=options.max_sessions,
    )
    fast = None
    if options.stateless and options.json_response:
        from .fast import enabled
        from .fast import install as install_fast_path

        if enabled():
            fast = install_fast_path(server.session_manager)
    if not options.stateless:
        from .limits import install as install_session_limits

        install_session_limits(server.session_manager, options.max_sessions, options.max_sessions_per_user)
    starlette.router.routes.append(_dav_mount(server, verifier, options.dav_login_delay))
    drain = Drain(starlette, around=many_clients)  # a write's fsync awaited off the loop
    app = RequestIdMiddleware(HostGuard(drain, allowed))
    return HttpApp(asgi=app, drain=drain, server=server, verifier=verifier, fast=fast)


def _dav_mount(
    server: MCPServer[AppState], verifier: StoreTokenVerifier | JWTVerifier | None, login_delay: float = 1.0
) -> Any:
    """/dav: CalDAV when the `caldav` extra is installed (dav/app.py), else 501 saying how."""
    from starlette.routing import Mount

    from ...server import live_of
    from ...service import TodoService
    from ..dav.app import DAV_PATH, DavApp, available, not_installed, radicale_app

    if not available():
        return Mount(DAV_PATH, app=not_installed)
    services: dict[str, TodoService] = {}

    def service_for(owner: str) -> TodoService:
        base = live_of(server).service
        if owner not in services or services[owner].store is not base.store:
            services[owner] = TodoService(base.store, owner=owner, tz=base.tz, via="caldav")
        return services[owner]

    def feed_user(token: str) -> str | None:
        """The user of a feed token (dav/feed.py), whatever `--auth` is: the URL is the secret."""
        from .auth import token_hash

        user: str | None = live_of(server).service.store.user_for_token(token_hash(token))  # type: ignore[attr-defined]
        return user

    user_of = getattr(verifier, "user_of", None)
    lookup = user_of if user_of is not None else (None if verifier is None else lambda token: None)
    return Mount(DAV_PATH, app=DavApp(radicale_app(service_for, lookup), login_delay, (feed_user, service_for)))


def bound_urls(options: HttpOptions, port: int) -> list[str]:
    """The start-up lines of a server bound to `port` (the real one when `--port 0`): the MCP
    endpoint, and the CalDAV root when it is served."""
    base = f"http://{url_host(options.host)}:{port}"
    extras = ", stateless" if options.stateless else ""
    extras += ", JSON responses" if options.json_response else ""
    lines = [f"MCP on {base}{MCP_PATH} (auth {options.auth}{extras})"]
    if options.dav:
        who = "any user name and password" if options.auth == "none" else "a user and their token as password"
        lines.append(f"CalDAV on {base}/dav/ ({who})")
    return lines


def _uvicorn_server(app: HttpApp, options: HttpOptions, say: Callable[[str], None] | None = None) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn, ending the long-lived streams once the requests in flight are done, and
        exiting normally (code 0) after a graceful stop instead of re-raising the signal."""

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:  # bound: the URLs with the real port
                port = next((sock.getsockname()[1] for srv in self.servers for sock in srv.sockets), options.port)
                for line in bound_urls(options, port):
                    (say or log.info)(line)

        async def shutdown(self, sockets: Any = None) -> None:
            draining = asyncio.ensure_future(app.drain.drain(options.shutdown_timeout))
            try:
                await super().shutdown(sockets)
            finally:
                draining.cancel()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    config = uvicorn.Config(
        app.asgi,
        host=options.host.strip("[]"),
        port=options.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=int(options.shutdown_timeout) or 1,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )
    return Server(config)


def serve_http(config: Config, toolsets: str, options: HttpOptions) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a graceful stop, 1 if the server could not start."""
    return run(build_app(config, toolsets, options), options)


def run(app: HttpApp, options: HttpOptions, say: Callable[[str], None] | None = None) -> int:
    """Run a built app under uvicorn until SIGTERM/SIGINT. Once bound, each line of
    `bound_urls` goes to `say` (the command line prints them on stderr), else to the log."""
    from sse_starlette.sse import AppStatus

    # sse-starlette ends every SSE response the moment uvicorn gets the signal, answers still
    # being written included; the drain ends the streams itself once those are done
    AppStatus.enable_automatic_graceful_drain = False
    server = _uvicorn_server(app, options, say)
    try:
        server.run()
    finally:
        closing = getattr(app.verifier, "close", None)
        if closing is not None:
            closing()
    code = 0 if server.started else 1
    leave_running_calls(code)
    return code
