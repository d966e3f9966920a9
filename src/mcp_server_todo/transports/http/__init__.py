"""Streamable HTTP (`mcp-server-todo serve --http`), by what each module holds:

    options.py   the `serve --http` flags and `HttpOptions` (stdlib only: the CLI's parser)
    app.py       `build_app` (/mcp, /healthz, the OAuth metadata), uvicorn wiring, `run`
    guard.py     DNS-rebinding protection: `Allowed`, `HostGuard` (Host 421, Origin 403)
    drain.py     graceful shutdown: requests in flight, the streams ended after them
    auth.py      the token verifiers (operator tokens, OAuth JWTs) and the auth settings
    jwt_keys.py  the signing keys for `--auth oauth`: a key file or the issuer's JWKS
    limits.py    session limits per user and per server (429/503 with Retry-After)
    fast.py      the short path for stateless JSON-response servers (TODO_HTTP_FAST=0: off)

Stdlib only at import time: the CLI adds the flags without loading the SDK.
"""

from .app import HttpApp, build_app, run, serve_http
from .options import HttpOptions, add_arguments

__all__ = ["HttpApp", "HttpOptions", "add_arguments", "build_app", "run", "serve_http"]
