"""The real server over Streamable HTTP, as a subprocess on 127.0.0.1: the SDK client's dialog
with a bearer token (both protocol generations), 401 without one, stateless and JSON-response
modes, /healthz, Host/Origin checks, the refusal to serve a public address without auth,
graceful shutdown with a request in flight, request ids and what the logs never contain. The helpers live in
support/http.py."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from support.env import server_command, subprocess_env
from support.http import (
    MCP_HEADERS,
    START_TIMEOUT,
    bearer,
    dialog,
    free_port,
    http_server,
    initialize_body,
    make_token,
    mcp_client,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


# ---- 1. the dialog through the SDK's HTTP client, with and without a token ---------------------


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_dialog_over_http_with_a_bearer_token(mode: str, db_path: Path, isolated_env: Path) -> None:
    token = make_token(db_path, isolated_env, "alice")
    with http_server(db_path, isolated_env, "--auth", "tokens") as server:

        async def run() -> None:
            with anyio.fail_after(30):
                async with mcp_client(server.url, token, mode=mode) as client:
                    assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
                    await dialog(client)
                    # the task is alice's: the resource reads it, by her short per-owner id
                    text = (await client.read_resource("todo://tasks/2")).contents[0]
                    assert "Book a dentist appointment" in getattr(text, "text", "")

        anyio.run(run)
        assert server.stop() == 0
        assert server.stdout == b""  # stdout stays clean (logs go to stderr)
    # stored under alice, not under the local (stdio) user
    import sqlite3

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        owners = {row[0] for row in conn.execute("SELECT owner FROM tasks")}
    finally:
        conn.close()
    assert owners == {"alice"}


def test_no_token_or_a_bad_one_gets_401_with_www_authenticate(db_path: Path, isolated_env: Path) -> None:
    token = make_token(db_path, isolated_env, "alice")
    with http_server(db_path, isolated_env, "--auth", "tokens") as server:
        for headers in ({}, bearer("todo_not-a-real-token"), bearer(token[:-2]), {"Authorization": token}):
            reply = httpx2.post(server.url, json=initialize_body(), headers={**MCP_HEADERS, **headers})
            assert reply.status_code == 401, (headers, reply.text)
            assert reply.headers["www-authenticate"].startswith("Bearer "), reply.headers
            assert 'error="invalid_token"' in reply.headers["www-authenticate"]
        ok = httpx2.post(server.url, json=initialize_body(), headers={**MCP_HEADERS, **bearer(token)})
        assert ok.status_code == 200, ok.text

        statuses: list[int] = []

        async def record(response: httpx2.Response) -> None:
            statuses.append(response.status_code)

        async def without_token() -> None:
            async with (
                httpx2.AsyncClient(event_hooks={"response": [record]}) as http,
                Client(streamable_http_client(server.url, http_client=http), mode="legacy") as client,  # type: ignore[arg-type]
            ):
                await client.call_tool("list_items", {})

        with pytest.raises(Exception):  # noqa: B017 - the SDK client reports the refusal as a generic error
            anyio.run(without_token)
        assert statuses == [401], statuses
        # no token anywhere in the logs
        assert token not in server.stderr()


def test_revoked_token_stops_working(db_path: Path, isolated_env: Path) -> None:
    token = make_token(db_path, isolated_env, "alice")
    env = subprocess_env(isolated_env)
    listed = subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "token", "list", "--db", str(db_path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "alice" in listed and "active" in listed and token not in listed
    with http_server(db_path, isolated_env, "--auth", "tokens") as server:
        headers = {**MCP_HEADERS, **bearer(token)}
        assert httpx2.post(server.url, json=initialize_body(), headers=headers).status_code == 200
        subprocess.run(
            [sys.executable, "-m", "mcp_server_todo", "token", "revoke", "1", "--db", str(db_path)],
            env=env,
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10  # verified tokens are cached for a few seconds
        while httpx2.post(server.url, json=initialize_body(), headers=headers).status_code == 200:
            assert time.monotonic() < deadline, "a revoked token still works after 10 s"
            time.sleep(0.25)
    again = subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", "token", "revoke", "1", "--db", str(db_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "no active token 1" in again.stderr  # not found


# ---- 2. stateless and JSON-response modes -------------------------------------------------------


@pytest.mark.parametrize(
    "flags", [("--stateless",), ("--json-response",), ("--stateless", "--json-response")], ids=lambda f: "+".join(f)
)
def test_dialog_in_stateless_and_json_response_modes(flags: tuple[str, ...], db_path: Path, isolated_env: Path) -> None:
    with http_server(db_path, isolated_env, *flags) as server:

        async def run() -> None:
            with anyio.fail_after(30):
                async with mcp_client(server.url, None, mode="legacy") as client:
                    await dialog(client)
                async with mcp_client(server.url, None, mode="auto") as client:  # 2026-07-28
                    listed = await client.call_tool("list_items", {})
                    assert [t["title"] for t in listed.structured_content["items"]] == ["Book a dentist appointment"]

        anyio.run(run)
        reply = httpx2.post(server.url, json=initialize_body(), headers=MCP_HEADERS)
        assert reply.status_code == 200
        if "--json-response" in flags:
            assert reply.headers["content-type"].startswith("application/json")
            assert reply.json()["result"]["protocolVersion"] == "2025-11-25"
        if "--stateless" in flags:
            assert "mcp-session-id" not in reply.headers  # no session: any replica can answer
            listed = httpx2.post(
                server.url,
                json={"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_items"}},
                headers={**MCP_HEADERS, "MCP-Protocol-Version": "2025-11-25"},
            )
            assert listed.status_code == 200 and "Book a dentist appointment" in listed.text


# ---- 3. health, Host and Origin, binding rules ---------------------------------------------------


@pytest.mark.parametrize("mode", [(), ("--stateless", "--json-response")], ids=["sessions", "stateless-json"])
def test_healthz_host_and_origin_checks(mode: tuple[str, ...], db_path: Path, isolated_env: Path) -> None:
    with http_server(db_path, isolated_env, "--allowed-host", "todo.example.com", *mode) as server:
        health = httpx2.get(server.base + "/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert len(health.headers["x-request-id"]) >= 8

        for path in ("/healthz", "/mcp"):
            evil = httpx2.post(
                server.base + path, json=initialize_body(), headers={**MCP_HEADERS, "Host": "evil.example"}
            )
            assert evil.status_code == 421, (path, evil.status_code)
        origin = httpx2.post(
            server.url, json=initialize_body(), headers={**MCP_HEADERS, "Origin": "http://evil.example"}
        )
        assert origin.status_code == 403
        named = httpx2.post(server.url, json=initialize_body(), headers={**MCP_HEADERS, "Host": "todo.example.com"})
        assert named.status_code == 200
        local = httpx2.post(
            server.url, json=initialize_body(), headers={**MCP_HEADERS, "Origin": f"http://localhost:{server.port}"}
        )
        assert local.status_code == 200
        # a tools/call (the stateless JSON short path's request) gets the same checks
        listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_items"}}
        versioned = {**MCP_HEADERS, "MCP-Protocol-Version": "2025-11-25"}
        assert httpx2.post(server.url, json=listed, headers={**versioned, "Host": "evil.example"}).status_code == 421
        assert (
            httpx2.post(server.url, json=listed, headers={**versioned, "Origin": "http://x.example"}).status_code == 403
        )
        named = httpx2.post(server.url, json=listed, headers={**versioned, "Host": "todo.example.com"})
        assert named.status_code == (200 if mode else 400)  # with sessions: 400 for want of a session id
        # a request id given by the client (a proxy's) is kept
        assert httpx2.get(server.base + "/healthz", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == (
            "abc-123"
        )


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_public_bind_without_auth_is_refused(host: str, db_path: Path, isolated_env: Path) -> None:
    done = subprocess.run(
        server_command(db_path, "--http", "--host", host, "--port", str(free_port())),
        capture_output=True,
        text=True,
        env=subprocess_env(isolated_env),
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "without authentication" in done.stderr and "--auth tokens" in done.stderr
    assert done.stdout == ""


def test_oauth_settings_must_be_complete(db_path: Path, isolated_env: Path) -> None:
    done = subprocess.run(
        server_command(db_path, "--http", "--auth", "oauth", "--oauth-issuer", "https://issuer.example"),
        capture_output=True,
        text=True,
        env=subprocess_env(isolated_env),
        timeout=60,
    )
    assert done.returncode == 2 and "--oauth-jwks-url" in done.stderr


def test_configuration_from_the_environment(db_path: Path, isolated_env: Path) -> None:
    port = free_port()
    env = {**subprocess_env(isolated_env), "TODO_HTTP": "1", "TODO_PORT": str(port), "TODO_AUTH": "tokens"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_server_todo", "serve", "--db", str(db_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                reply = httpx2.post(f"http://127.0.0.1:{port}/mcp", json=initialize_body(), headers=MCP_HEADERS)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        assert reply.status_code == 401  # TODO_AUTH=tokens took effect
    finally:
        proc.terminate()
        assert proc.wait(20) == 0


# ---- 4. graceful shutdown ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [(), ("--stateless", "--json-response")], ids=["sessions", "stateless-json"])
def test_sigterm_lets_a_request_in_flight_finish_and_exits_0(
    mode: tuple[str, ...], db_path: Path, isolated_env: Path
) -> None:
    import sqlite3

    with http_server(db_path, isolated_env, "--log-level", "INFO", *mode) as server:
        results: dict[str, Any] = {}
        blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)

        async def run() -> None:
            with anyio.fail_after(30):
                await session()

        async def session() -> None:
            async with mcp_client(server.url, None, mode="legacy") as client:
                await client.list_tools()  # cached now: validating the result needs no second request
                # another process holds the write lock: the call waits for it, in flight
                blocker.execute("BEGIN IMMEDIATE")

                async def slow() -> None:
                    results["added"] = await client.call_tool("new_item", {"title": "written during shutdown"})

                async with anyio.create_task_group() as tg:
                    tg.start_soon(slow)
                    await anyio.sleep(0.5)
                    server.proc.send_signal(signal.SIGTERM)
                    await anyio.sleep(0.5)
                    assert server.proc.poll() is None  # still waiting for the call to finish
                    blocker.execute("COMMIT")
                # the client also held the session's GET stream open: shutdown ended it

        try:
            anyio.run(run)
        finally:
            blocker.close()
        code = server.stop()
        log = server.stderr()
    assert code == 0, log
    added = results["added"]
    assert not added.is_error and added.structured_content["items"][0]["title"] == "written during shutdown"
    assert "timeout graceful shutdown exceeded" not in log
    # the signal arrived while the call was in flight: the server began shutting down before answering it
    assert log.index("Shutting down") < log.rindex("POST /mcp 200"), log


def test_sigterm_ends_open_listen_streams_promptly(db_path: Path, isolated_env: Path) -> None:
    with http_server(db_path, isolated_env, "--shutdown-timeout", "20") as server:
        stopped: dict[str, float] = {}

        async def run() -> None:
            with anyio.fail_after(30):
                async with mcp_client(server.url, None, mode="auto") as client:
                    assert client.protocol_version == "2026-07-28"
                    try:
                        async with client.listen(resource_subscriptions=["todo://tasks/pending"]) as sub:
                            signalled = time.monotonic()
                            server.proc.send_signal(signal.SIGTERM)
                            async for _ in sub:
                                pass
                    except Exception:  # an ended stream may surface as an error; what matters is the exit
                        pass
                    stopped["stream"] = time.monotonic() - signalled

        anyio.run(run)
        start = time.monotonic()
        assert server.stop() == 0, server.stderr()
    # the server did not wait for its 20 s timeout: the stream was ended once nothing else ran
    assert stopped["stream"] < 5 and time.monotonic() - start < 5, stopped


# ---- 5. logs: JSON lines, request ids, no secrets ------------------------------------------------


def test_json_logs_have_request_ids_and_no_tokens_or_task_text(db_path: Path, isolated_env: Path) -> None:
    token = make_token(db_path, isolated_env, "alice")
    secret = "Call the notary about the inheritance"
    with http_server(db_path, isolated_env, "--auth", "tokens", "--log-level", "INFO", "--log-json") as server:

        async def run() -> None:
            async with mcp_client(server.url, token) as client:
                await client.call_tool("new_item", {"title": secret, "notes": "secret notes"})
                await client.call_tool("list_items", {})
                await client.call_tool("complete_item", {"id": 1})

        anyio.run(run)
        reply = httpx2.post(server.url, json=initialize_body(), headers={**MCP_HEADERS, **bearer(token)})
        rid = reply.headers["x-request-id"]
        assert server.stop() == 0
        log = server.stderr()
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert records, log
    for record in records:
        assert {"time", "level", "logger", "message", "request_id"} <= set(record), record
    access = [r for r in records if r["logger"] == "mcp_server_todo.access"]
    assert any(r["request_id"] == rid and r["status"] == 200 for r in access), access
    assert all(r["request_id"] for r in access)
    assert token not in log and token[5:20] not in log
    assert secret not in log and "secret notes" not in log


# ---- 6. settings, in process ---------------------------------------------------------------------


def test_options_checks_and_allowed_hosts() -> None:
    from mcp_server_todo.transports.http.guard import Allowed
    from mcp_server_todo.transports.http.options import HttpOptions, is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "127.5.5.5", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.com", "localhost.example.com"))
    for bad, message in (
        (HttpOptions(host="0.0.0.0"), "without authentication"),
        (HttpOptions(auth="oauth"), "--oauth-issuer"),
        (HttpOptions(auth="oauth", oauth_issuer="https://i", oauth_jwks_url="https://i/k", oauth_key_file="k"), "one"),
        (HttpOptions(host="0.0.0.0", auth="oauth", oauth_issuer="https://i", oauth_jwks_url="u"), "--public-url"),
        (HttpOptions(auth="magic"), "--auth"),
        (HttpOptions(public_url="todo.example.com"), "not an http"),
    ):
        with pytest.raises(ValueError, match=message):
            bad.check()
    HttpOptions(host="0.0.0.0", auth="tokens").check()

    options = HttpOptions(
        host="0.0.0.0",
        port=9000,
        auth="tokens",
        public_url="https://todo.example.com/mcp/",
        allowed_hosts=("internal.lan", "proxy:8443"),
        allowed_origins=("https://app.example.com/",),
    )
    assert options.resource_url == "https://todo.example.com/mcp"
    allowed = Allowed.of(options)
    for host in (
        "127.0.0.1:9000",
        "localhost:9000",
        "[::1]:9000",
        "todo.example.com",
        "internal.lan",
        "internal.lan:80",
    ):
        assert allowed.host_ok(host), host
    for host in (None, "", "0.0.0.0:9000", "127.0.0.1:9001", "evil.example", "todo.example.com.evil:443", "proxy:9"):
        assert not allowed.host_ok(host), host
    assert allowed.origin_ok(None) and allowed.origin_ok("https://app.example.com")
    assert allowed.origin_ok("https://todo.example.com") and allowed.origin_ok("http://localhost:9000")
    assert not allowed.origin_ok("https://evil.example") and not allowed.origin_ok("http://localhost:9001")
    assert HttpOptions(host="::1", port=8000).resource_url == "http://[::1]:8000/mcp"


@pytest.mark.anyio
async def test_healthz_is_503_while_the_store_is_not_open(db_path: Path) -> None:
    from mcp_server_todo.config import Config
    from mcp_server_todo.transports.http import HttpOptions, build_app

    app = build_app(Config.resolve(str(db_path), "UTC"), "core", HttpOptions())
    transport = httpx2.ASGITransport(app=app.asgi)  # no lifespan: the store was never opened
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        reply = await http.get("/healthz")
    assert reply.status_code == 503
    assert reply.json() == {"status": "unavailable", "reason": "the store is not open (starting or stopping)"}
