"""The `serve --http` flags (each with a TODO_* variable as its default) and `HttpOptions`, the
settings they make, checked before anything is served.

Stdlib only at import time: the CLI adds these flags to its parser without loading the SDK.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from .limits import MAX_SESSIONS, MAX_SESSIONS_PER_USER, SESSION_IDLE_TIMEOUT, check_session_limits
from .limits import add_arguments as add_session_arguments

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
AUTH_MODES = ("none", "tokens", "oauth")
LEEWAY = 30  # auth.LEEWAY_SECONDS, without importing auth here
MAX_LEEWAY = 600
HTTP_PORT = 8000
DAV_PORT = 5232  # Radicale's, which calendar apps' docs and users know
DAV_LOGIN_DELAY = 1.0  # dav/logins.py LOGIN_DELAY, without importing the dav package here
MAX_DAV_LOGIN_DELAY = 30.0


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
        "--dav",
        action="store_true",
        default=_env_flag("TODO_DAV"),
        help=f"local CalDAV for calendar apps on this machine: the HTTP server on port {DAV_PORT} by default, "
        "needs the caldav extra (env TODO_DAV=1)",
    )
    group.add_argument(
        "--port",
        type=int,
        default=os.environ.get("TODO_PORT"),
        help=f"port (env TODO_PORT; {HTTP_PORT}, or {DAV_PORT} with --dav)",
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
        "--dav-login-delay",
        type=float,
        default=os.environ.get("TODO_DAV_LOGIN_DELAY", str(DAV_LOGIN_DELAY)),
        metavar="SECONDS",
        help=f"how long a failed CalDAV login waits for its 401 (env TODO_DAV_LOGIN_DELAY; {DAV_LOGIN_DELAY})",
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
    dav_login_delay: float = DAV_LOGIN_DELAY
    dav: bool = False  # `serve --dav`: CalDAV is the point, so the extra is required

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> HttpOptions:
        return cls(
            host=args.host,
            port=args.port if args.port is not None else DAV_PORT if args.dav else HTTP_PORT,
            dav=args.dav,
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
            dav_login_delay=args.dav_login_delay,
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
        if not 0 <= self.dav_login_delay <= MAX_DAV_LOGIN_DELAY:
            raise ValueError(
                f"--dav-login-delay must be 0 to {MAX_DAV_LOGIN_DELAY:g} seconds, not {self.dav_login_delay:g}"
            )
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
