"""Session limits over real HTTP (issue 11, point 4): one token holder who opens sessions in a
loop gets 429 with Retry-After at --max-sessions-per-user while everyone else goes on working;
the whole server answers 503 with Retry-After at --max-sessions; a session that ends (DELETE,
idle timeout) frees its slot. The real server as a subprocess on 127.0.0.1 (`--auth tokens`)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest
from support.http import MCP_HEADERS, HttpServer, bearer, dialog, http_server, initialize_body, make_token, mcp_client

from mcp_server_todo.transports.http import HttpOptions, add_arguments

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

PER_USER = 3
TOTAL = 5


@dataclass
class Team:
    server: HttpServer
    tokens: dict[str, str]

    def open(self, user: str) -> httpx2.Response:
        """A raw `initialize` without a session id: the request that opens a session."""
        return httpx2.post(
            self.server.url, json=initialize_body(), headers={**MCP_HEADERS, **bearer(self.tokens[user])}, timeout=30
        )

    def end(self, user: str, session_id: str) -> httpx2.Response:
        headers = {**bearer(self.tokens[user]), "Mcp-Session-Id": session_id, "Mcp-Protocol-Version": "2025-11-25"}
        return httpx2.delete(self.server.url, headers=headers, timeout=30)

    def ping(self, user: str, session_id: str) -> httpx2.Response:
        headers = {
            **MCP_HEADERS,
            **bearer(self.tokens[user]),
            "Mcp-Session-Id": session_id,
            "Mcp-Protocol-Version": "2025-11-25",
        }
        return httpx2.post(self.server.url, json={"jsonrpc": "2.0", "id": 7, "method": "ping"}, headers=headers)


@pytest.fixture
def team(db_path: Path, isolated_env: Path) -> Iterator[Team]:
    tokens = {user: make_token(db_path, isolated_env, user) for user in ("alice", "bob", "carol")}
    limits = ("--max-sessions", str(TOTAL), "--max-sessions-per-user", str(PER_USER))
    with http_server(db_path, isolated_env, "--auth", "tokens", *limits) as server:
        yield Team(server, tokens)


def session_of(reply: httpx2.Response) -> str:
    assert reply.status_code == 200, (reply.status_code, reply.text)
    return reply.headers["mcp-session-id"]


def retry_after(reply: httpx2.Response, status: int) -> int:
    assert reply.status_code == status, (reply.status_code, reply.text)
    seconds = int(reply.headers["retry-after"])
    assert 1 <= seconds <= 1800, seconds  # at most the idle timeout: the slot is free by then
    assert reply.json()["error"]["message"], reply.text
    return seconds


def test_one_user_over_the_limit_gets_429_and_everyone_else_works(team: Team) -> None:
    alices = [session_of(team.open("alice")) for _ in range(PER_USER)]

    refused = team.open("alice")
    retry_after(refused, 429)
    assert f"Too many open sessions for this user ({PER_USER})" in refused.json()["error"]["message"]
    assert "mcp-session-id" not in refused.headers

    # alice's open sessions still work; bob is not affected at all (a whole SDK dialog)
    assert team.ping("alice", alices[0]).status_code == 200

    async def bobs_dialog() -> None:
        with anyio.fail_after(60):
            async with mcp_client(team.server.url, team.tokens["bob"]) as client:
                await dialog(client)

    anyio.run(bobs_dialog)

    # the 2026-07-28 generation has no sessions: alice can still use it at her limit
    async def alices_modern_dialog() -> None:
        with anyio.fail_after(60):
            async with mcp_client(team.server.url, team.tokens["alice"], mode="2026-07-28") as client:
                assert not (await client.call_tool("new_item", {"title": "still works"})).is_error

    anyio.run(alices_modern_dialog)
    retry_after(team.open("alice"), 429)

    # ending a session (DELETE) frees its slot for its owner at once
    assert team.end("alice", alices.pop()).status_code == 200
    alices.append(session_of(team.open("alice")))
    retry_after(team.open("alice"), 429)

    # the whole server is full (alice 3 + bob 2 = 5): the next user gets 503, not 429
    bobs = [session_of(team.open("bob")) for _ in range(TOTAL - PER_USER)]
    full = team.open("carol")
    retry_after(full, 503)
    assert "too many open sessions" in full.json()["error"]["message"]
    assert team.end("bob", bobs[0]).status_code == 200
    session_of(team.open("carol"))
    assert "Traceback" not in team.server.stderr()


def test_concurrent_openings_cannot_slip_past_the_limit(team: Team) -> None:
    async def burst() -> list[int]:
        statuses: list[int] = []
        headers = {**MCP_HEADERS, **bearer(team.tokens["alice"])}
        async with httpx2.AsyncClient(timeout=30) as http:

            async def one() -> None:
                reply = await http.post(team.server.url, json=initialize_body(), headers=headers)
                statuses.append(reply.status_code)

            async with anyio.create_task_group() as tg:
                for _ in range(PER_USER + 4):
                    tg.start_soon(one)
        return statuses

    statuses = anyio.run(burst)
    assert sorted(statuses) == [200] * PER_USER + [429] * 4, statuses
    session_of(team.open("bob"))


def test_idle_sessions_free_their_slot(db_path: Path, isolated_env: Path) -> None:
    token = make_token(db_path, isolated_env, "alice")
    idle = 2.0
    flags = ("--auth", "tokens", "--max-sessions-per-user", "1", "--session-idle-timeout", str(idle))
    with http_server(db_path, isolated_env, *flags) as server:
        team = Team(server, {"alice": token})
        session_of(team.open("alice"))
        assert retry_after(team.open("alice"), 429) <= idle  # the session ends within the idle timeout
        deadline = time.monotonic() + 30
        while (reply := team.open("alice")).status_code == 429 and time.monotonic() < deadline:
            time.sleep(0.25)
        session_of(reply)


def test_stateless_servers_have_no_session_limits(db_path: Path, isolated_env: Path) -> None:
    with http_server(db_path, isolated_env, "--stateless", "--max-sessions-per-user", "1") as server:
        for _ in range(3):
            reply = httpx2.post(server.url, json=initialize_body(), headers=MCP_HEADERS, timeout=30)
            assert reply.status_code == 200, reply.text


def parse(*argv: str) -> HttpOptions:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return HttpOptions.from_args(parser.parse_args(list(argv)))


def test_session_flags_defaults_environment_and_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    options = parse()
    assert (options.max_sessions, options.max_sessions_per_user, options.session_idle_timeout) == (1000, 20, 1800)
    monkeypatch.setenv("TODO_MAX_SESSIONS", "50")
    monkeypatch.setenv("TODO_MAX_SESSIONS_PER_USER", "5")
    monkeypatch.setenv("TODO_SESSION_IDLE_TIMEOUT", "60")
    options = parse()
    assert (options.max_sessions, options.max_sessions_per_user, options.session_idle_timeout) == (50, 5, 60)
    assert parse("--max-sessions-per-user", "7").max_sessions_per_user == 7
    options.check()
    parse("--max-sessions", "10").check()  # the per-user default above it is fine: it never applies first
    for argv, message in [
        (("--max-sessions", "0"), "--max-sessions must be at least 1"),
        (("--max-sessions-per-user", "0"), "--max-sessions-per-user must be at least 1"),
        (("--session-idle-timeout", "0"), "--session-idle-timeout must be a positive number"),
        (("--session-idle-timeout", "inf"), "--session-idle-timeout must be a positive number"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse(*argv).check()


def test_a_second_protocol_version_header_cannot_slip_past_the_limit(team: Team) -> None:
    """The SDK routes on the first mcp-protocol-version header: the limit must read the same one
    (a handshake version first and a modern one after opened sessions without being counted)."""
    headers = [
        *MCP_HEADERS.items(),
        *bearer(team.tokens["alice"]).items(),
        ("mcp-protocol-version", "2025-11-25"),
        ("mcp-protocol-version", "2026-07-28"),
    ]
    statuses = [
        httpx2.post(team.server.url, json=initialize_body(), headers=headers, timeout=30).status_code
        for _ in range(PER_USER + 1)
    ]
    assert statuses == [200] * PER_USER + [429], statuses
    session_of(team.open("bob"))
