"""Streamable HTTP: `mcp-server-todo serve --http`, the SDK's Streamable HTTP app under uvicorn.

    /mcp                                      the MCP endpoint (POST, GET stream, DELETE)
    /healthz                                  200 {"status": "ok"} when the store answers, else 503
    /.well-known/oauth-protected-resource[/mcp]   RFC 9728 metadata (--auth oauth only)

Authentication (`--auth`): `none` (loopback binds only: everyone is the local user), `tokens`
(operator-issued bearer tokens, `mcp-server-todo token create USER`), `oauth` (JWT access
tokens from an external authorization server; see auth.py). The SDK's bearer middleware answers
401 with `WWW-Authenticate` (and 403 for a missing scope). /healthz is not authenticated.

DNS-rebinding protection is on for every bind, on every path: the Host header must name this
server (the bind address and the loopback names with the port, the --public-url's host, and
each --allowed-host), and a browser's Origin must be one of the same (plus --allowed-origin).

Stateful sessions are limited per user and for the whole server (http_limits.py: 429 and 503
with Retry-After).

Stateless JSON-response servers (`--stateless --json-response`, the replica setup) answer the
handshake-era tools/call, tools/list and ping on a short path inside the SDK's app
(http_fast.py): the SDK's own request kernel, without the per-request transport, tasks and
streams of its stateless transport; the same answers (tests/test_http_fast.py compares them).
TODO_HTTP_FAST=0 turns it off.

Graceful shutdown (SIGTERM, SIGINT): stop accepting, let requests in flight finish, then end the
long-lived streams (the GET stream, subscriptions/listen), then close the store; exit code 0.
After `--shutdown-timeout` seconds whatever still runs is cancelled.

Stdlib only at import time: the CLI adds our flags to its parser without loading the SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .http_limits import MAX_SESSIONS, MAX_SESSIONS_PER_USER, SESSION_IDLE_TIMEOUT, check_session_limits
from .http_limits import add_arguments as add_session_arguments
from .logs import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    import anyio
    from mcp.server.auth.settings import AuthSettings
    from mcp.server.mcpserver import MCPServer
    from mcp.server.transport_security import TransportSecuritySettings

    from .auth import JWTVerifier, StoreTokenVerifier
    from .config import Config
    from .http_fast import FastPath
    from .server import AppState

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
WELL_KNOWN = "/.well-known/"
AUTH_MODES = ("none", "tokens", "oauth")
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
LEEWAY = 30  # auth.LEEWAY_SECONDS, without importing auth here
MAX_LEEWAY = 600


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _env_list(name: str) -> list[str]:
    return [part for part in os.environ.get(name, "").replace(",", " ").split() if part]


def add_arguments(serve: argparse.ArgumentParser) -> None:
    """The `serve` flags for HTTP (each with a TODO_* variable as its default)."""
    group = serve.add_argument_group("Streamable HTTP (serve --http)")
    group.add_argument(
        "--http", action="store_true", default=_env_flag("TODO_HTTP"), help="serve Streamable HTTP (env TODO_HTTP=1)"
    )
    group.add_argument(
        "--host", default=os.environ.get("TODO_HOST", "127.0.0.1"), help="address to bind (env TODO_HOST)"
    )
    group.add_argument(
        "--port", type=int, default=os.environ.get("TODO_PORT", "8000"), help="port (env TODO_PORT; 8000)"
    )
    group.add_argument(
        "--stateless",
        action="store_true",
        default=_env_flag("TODO_STATELESS"),
        help="no sessions: any replica can answer any request (env TODO_STATELESS=1)",
    )
    group.add_argument(
        "--json-response",
        action="store_true",
        default=_env_flag("TODO_JSON_RESPONSE"),
        help="answer POSTs with JSON instead of an SSE stream (env TODO_JSON_RESPONSE=1)",
    )
    group.add_argument(
        "--auth",
        choices=AUTH_MODES,
        default=os.environ.get("TODO_AUTH", "none"),
        help="none (loopback only), tokens (see `token create`) or oauth (env TODO_AUTH)",
    )
    group.add_argument(
        "--public-url",
        default=os.environ.get("TODO_PUBLIC_URL"),
        metavar="URL",
        help="the URL clients use for the MCP endpoint, e.g. https://todo.example.com/mcp: the OAuth "
        "resource (token audience); its host is allowed (env TODO_PUBLIC_URL)",
    )
    group.add_argument(
        "--allowed-host",
        action="append",
        default=_env_list("TODO_ALLOWED_HOSTS"),
        metavar="HOST[:PORT]",
        help="also accept this Host header (repeat; env TODO_ALLOWED_HOSTS, comma-separated)",
    )
    group.add_argument(
        "--allowed-origin",
        action="append",
        default=_env_list("TODO_ALLOWED_ORIGINS"),
        metavar="ORIGIN",
        help="also accept this browser Origin, e.g. https://app.example.com (repeat; env TODO_ALLOWED_ORIGINS)",
    )
    group.add_argument(
        "--oauth-issuer", default=os.environ.get("TODO_OAUTH_ISSUER"), metavar="URL", help="env TODO_OAUTH_ISSUER"
    )
    group.add_argument(
        "--oauth-jwks-url",
        default=os.environ.get("TODO_OAUTH_JWKS_URL"),
        metavar="URL",
        help="the issuer's signing keys (env TODO_OAUTH_JWKS_URL)",
    )
    group.add_argument(
        "--oauth-key-file",
        default=os.environ.get("TODO_OAUTH_KEY_FILE"),
        metavar="PATH",
        help="or a local PEM public key, JWK or JWKS file (env TODO_OAUTH_KEY_FILE)",
    )
    group.add_argument(
        "--oauth-scope",
        action="append",
        default=_env_list("TODO_OAUTH_SCOPES"),
        metavar="SCOPE",
        help="a scope every token must carry (repeat; env TODO_OAUTH_SCOPES); missing: 403",
    )
    group.add_argument(
        "--oauth-leeway",
        type=int,
        default=os.environ.get("TODO_OAUTH_LEEWAY", str(LEEWAY)),
        metavar="SECONDS",
        help=f"clock skew allowed on a token's exp and nbf (env TODO_OAUTH_LEEWAY; {LEEWAY})",
    )
    add_session_arguments(group)
    group.add_argument(
        "--shutdown-timeout",
        type=float,
        default=os.environ.get("TODO_SHUTDOWN_TIMEOUT", "30"),
        metavar="SECONDS",
        help="how long requests in flight may take to finish on SIGTERM (env TODO_SHUTDOWN_TIMEOUT; 30)",
    )
    group.add_argument(
        "--log-json",
        action="store_true",
        default=_env_flag("TODO_LOG_JSON"),
        help="log JSON lines with request ids to stderr (env TODO_LOG_JSON=1)",
    )


@dataclass(frozen=True)
class HttpOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    stateless: bool = False
    json_response: bool = False
    auth: str = "none"
    public_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    oauth_issuer: str | None = None
    oauth_jwks_url: str | None = None
    oauth_key_file: str | None = None
    oauth_scopes: tuple[str, ...] = ()
    oauth_leeway: int = LEEWAY
    shutdown_timeout: float = 30.0
    max_sessions: int = MAX_SESSIONS
    max_sessions_per_user: int = MAX_SESSIONS_PER_USER
    session_idle_timeout: float = SESSION_IDLE_TIMEOUT

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> HttpOptions:
        return cls(
            host=args.host,
            port=args.port,
            stateless=args.stateless,
            json_response=args.json_response,
            auth=args.auth,
            public_url=args.public_url,
            allowed_hosts=tuple(args.allowed_host or ()),
            allowed_origins=tuple(args.allowed_origin or ()),
            oauth_issuer=args.oauth_issuer,
            oauth_jwks_url=args.oauth_jwks_url,
            oauth_key_file=args.oauth_key_file,
            oauth_scopes=tuple(args.oauth_scope or ()),
            oauth_leeway=args.oauth_leeway,
            shutdown_timeout=args.shutdown_timeout,
            max_sessions=args.max_sessions,
            max_sessions_per_user=args.max_sessions_per_user,
            session_idle_timeout=args.session_idle_timeout,
        )

    def check(self) -> None:
        """Refuse settings that cannot work or are unsafe (ValueError: a usage error)."""
        if self.auth not in AUTH_MODES:
            raise ValueError(f"--auth must be one of {', '.join(AUTH_MODES)}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"--port {self.port} is not a TCP port")
        if self.auth == "none" and not is_loopback(self.host):
            raise ValueError(
                f"refusing to serve {self.host} without authentication: --auth none is for loopback addresses "
                "only (127.0.0.1, ::1, localhost); use --auth tokens or --auth oauth"
            )
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"--public-url {self.public_url!r} is not an http(s) URL")
        if self.auth == "oauth":
            if not self.oauth_issuer:
                raise ValueError("--auth oauth needs --oauth-issuer (the authorization server's issuer URL)")
            if bool(self.oauth_jwks_url) == bool(self.oauth_key_file):
                raise ValueError("--auth oauth needs exactly one of --oauth-jwks-url and --oauth-key-file")
            if self.public_url is None and not is_loopback(self.host):
                raise ValueError("--auth oauth on a public address needs --public-url (the token audience)")
            if "#" in self.oauth_issuer:
                raise ValueError("--oauth-issuer cannot contain '#' (owners are ISSUER#SUBJECT)")
        if not 0 <= self.oauth_leeway <= MAX_LEEWAY:
            raise ValueError(f"--oauth-leeway must be 0 to {MAX_LEEWAY} seconds, not {self.oauth_leeway}")
        check_session_limits(self.max_sessions, self.max_sessions_per_user, self.session_idle_timeout)

    @property
    def resource_url(self) -> str:
        """This server's MCP endpoint as clients name it (the OAuth resource and token audience)."""
        if self.public_url:
            return self.public_url.rstrip("/") if urlsplit(self.public_url).path not in ("", "/") else self.public_url
        return f"http://{url_host(self.host)}:{self.port}{MCP_PATH}"


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -- DNS-rebinding protection ----------------------------------------------------------------


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


# -- graceful shutdown -------------------------------------------------------------------------


@dataclass
class _InFlight:
    stream: bool
    scope: anyio.CancelScope | None
    started: bool = False
    finished: bool = False


_ORDINARY = _InFlight(stream=False, scope=None)  # the one entry every ordinary request in flight shares


@dataclass
class Drain:
    """ASGI middleware that knows the requests in flight, so shutdown can wait for the ordinary
    ones and then end the long-lived streams (a GET stream or subscriptions/listen never ends on
    its own; without this every restart would wait the full timeout)."""

    app: ASGIApp
    path: str = MCP_PATH
    _requests: dict[int, _InFlight] = field(default_factory=dict)
    _next: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import anyio

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stream = scope.get("method") == "GET" and scope.get("path") == self.path
        if scope.get("method") == "POST" and scope.get("path") == self.path:
            receive, body = await _buffered(receive)
            stream = b"subscriptions/listen" in body
        self._next += 1
        key = self._next
        if not stream:
            # an ordinary request is never cancelled here, only waited for: no scope, no send wrapper
            self._requests[key] = _ORDINARY
            try:
                await self.app(scope, receive, send)
            finally:
                self._requests.pop(key, None)
            return
        cancel = anyio.CancelScope()
        entry = _InFlight(stream=stream, scope=cancel)
        self._requests[key] = entry

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                entry.finished = True
            await send(message)

        try:
            with cancel:
                await self.app(scope, receive, tracking_send)
            if cancel.cancelled_caught and entry.started and not entry.finished:
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._requests.pop(key, None)

    @property
    def busy(self) -> int:
        """Requests in flight, streams not counted."""
        return sum(1 for entry in self._requests.values() if not entry.stream)

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout`) for the requests in flight, then end the streams."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.busy and loop.time() < deadline:
            await asyncio.sleep(0.05)
        for entry in list(self._requests.values()):
            if entry.stream and entry.scope is not None:
                entry.scope.cancel()
        from sse_starlette.sse import AppStatus

        AppStatus.should_exit = True  # any SSE response not seen here ends too


PEEK_BYTES = 64 * 1024


async def _buffered(receive: Receive) -> tuple[Receive, bytes]:
    """The start of the request body (up to PEEK_BYTES: enough to see a JSON-RPC method, and no
    more held before the request is authenticated), with the same messages handed on."""
    messages: list[Message] = []
    body = bytearray()
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False) or len(body) >= PEEK_BYTES:
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, bytes(body)


# -- the app ---------------------------------------------------------------------------------


@dataclass
class HttpApp:
    """What `serve --http` runs: the ASGI app, its drain, and the token verifier to close."""

    asgi: ASGIApp
    drain: Drain
    server: MCPServer[AppState]
    verifier: StoreTokenVerifier | JWTVerifier | None
    fast: FastPath | None = None  # stateless JSON-response servers: the short path (http_fast.py)


def auth_settings(
    config: Config, options: HttpOptions
) -> tuple[StoreTokenVerifier | JWTVerifier | None, AuthSettings | None]:
    from mcp.server.auth.settings import AuthSettings

    from .auth import JWTVerifier, StoreTokenVerifier

    if options.auth == "tokens":
        # no authorization server to point clients to: no protected-resource metadata either
        base = f"http://{url_host(options.host)}:{options.port}"
        return StoreTokenVerifier(config.store_url), AuthSettings(issuer_url=base, resource_server_url=None)  # type: ignore[arg-type]
    if options.auth == "oauth":
        assert options.oauth_issuer is not None
        verifier = JWTVerifier(
            issuer=options.oauth_issuer,
            audience=options.resource_url,
            jwks_url=options.oauth_jwks_url,
            key_file=options.oauth_key_file,
            leeway=options.oauth_leeway,
        )
        settings = AuthSettings(
            issuer_url=options.oauth_issuer,  # type: ignore[arg-type]
            resource_server_url=options.resource_url,  # type: ignore[arg-type]
            required_scopes=list(options.oauth_scopes) or None,
            validate_token_resource=True,
        )
        return verifier, settings
    return None, None


def build_app(config: Config, toolsets: str, options: HttpOptions) -> HttpApp:
    """The whole HTTP application: MCP at /mcp, /healthz, the OAuth metadata, the Host guard,
    request ids and the drain."""
    from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
    from pydantic import AnyHttpUrl
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    from .logs import RequestIdMiddleware
    from .server import build_server, live_of, offload

    options.check()
    verifier, auth = auth_settings(config, options)
    server = build_server(config, toolsets, token_verifier=verifier, auth=auth)

    last_reason: list[str | None] = [None]

    async def healthz(request: Request) -> Response:
        """200 when the store can be read and written; else 503 with the reason (store/faults.py)."""
        from .errors import TodoError
        from .store.faults import problem

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
        from . import http_fast

        if http_fast.enabled():
            fast = http_fast.install(server.session_manager)
    if not options.stateless:
        from .http_limits import install

        install(server.session_manager, options.max_sessions, options.max_sessions_per_user)
    drain = Drain(starlette)
    app = RequestIdMiddleware(HostGuard(drain, allowed))
    return HttpApp(asgi=app, drain=drain, server=server, verifier=verifier, fast=fast)


def _uvicorn_server(app: HttpApp, options: HttpOptions) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn, ending the long-lived streams once the requests in flight are done, and
        exiting normally (code 0) after a graceful stop instead of re-raising the signal."""

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


def run(app: HttpApp, options: HttpOptions) -> int:
    """Run a built app under uvicorn until SIGTERM/SIGINT."""
    from sse_starlette.sse import AppStatus

    # sse-starlette ends every SSE response the moment uvicorn gets the signal, answers still
    # being written included; the drain ends the streams itself once those are done
    AppStatus.enable_automatic_graceful_drain = False
    server = _uvicorn_server(app, options)
    log.info(
        "serving MCP on http://%s:%d%s (auth %s%s%s)",
        url_host(options.host),
        options.port,
        MCP_PATH,
        options.auth,
        ", stateless" if options.stateless else "",
        ", JSON responses" if options.json_response else "",
    )
    try:
        server.run()
    finally:
        closing = getattr(app.verifier, "close", None)
        if closing is not None:
            closing()
    code = 0 if server.started else 1
    _leave_running_calls(code)
    return code


def _leave_running_calls(code: int) -> None:
    """A call still running on a worker thread after the shutdown timeout (an import, an undo)
    cannot be cancelled, and Python would wait for its thread at exit: end the process now.
    Its transaction is not committed, so SQLite or PostgreSQL rolls it back."""
    if threading.current_thread() is not threading.main_thread():
        return  # not the process's own server (a test runs it on a thread)
    deadline = time.monotonic() + 0.2  # idle workers stop at once
    busy = [t for t in threading.enumerate() if t.name == "AnyIO worker thread"]
    for thread in busy:
        thread.join(max(0.0, deadline - time.monotonic()))
    left = sum(1 for thread in busy if thread.is_alive())
    if left:
        log.warning("exiting with %d call(s) unfinished after the shutdown timeout; their writes are rolled back", left)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
