"""Durability with real processes: SIGKILL in the middle of a stream of writes loses no
acknowledged task and leaves a sound file; two servers on one file never collide."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from support.rawclient import RawServer, ServerGone

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def add_request(request_id: str, title: str) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": "new_item", "arguments": {"title": title, "tags": ["bulk"]}},
    }


def read_db(db: Path) -> tuple[str, dict[int, str], int]:
    """(integrity_check result, {id: title}, number of 'add' change-log entries)."""
    conn = sqlite3.connect(db)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tasks = dict(conn.execute("SELECT id, title FROM tasks ORDER BY id").fetchall())
        adds = conn.execute("SELECT count(*) FROM changes WHERE op = 'add'").fetchone()[0]
    finally:
        conn.close()
    return integrity, tasks, adds


def acknowledged_add(message: dict[str, Any], titles: dict[str, str]) -> tuple[int, str]:
    """The (task id, title) of an add the server confirmed; fails on any error."""
    assert "result" in message, message
    result = message["result"]
    assert not result.get("isError"), result
    task = result["structuredContent"]["items"][0]
    assert task["title"] == titles[message["id"]], (task, message["id"])
    return task["id"], task["title"]


# ---- 5. kill -9 in the middle of writes -------------------------------------------------


def _stream_then_kill(db: Path, home: Path, round_no: int, kill_after: int) -> tuple[dict[int, str], int]:
    """Stream adds, SIGKILL the server once `kill_after` are acknowledged; returns every
    acknowledged {id: title} (including replies already on the pipe) and how many were sent."""
    total = 5_000
    titles = {f"r{round_no}-{n}": f"round {round_no} task {n}" for n in range(total)}
    sent = 0
    acked: dict[int, str] = {}
    with RawServer(db, home) as server:
        server.initialize()

        def writer() -> None:
            nonlocal sent
            try:
                for request_id, title in titles.items():
                    server.send(add_request(request_id, title))
                    sent += 1
            except (BrokenPipeError, OSError, ValueError):
                pass  # the server was killed under us: that is the point

        thread = threading.Thread(target=writer, name="adds")
        thread.start()
        try:
            while len(acked) < kill_after:
                task_id, title = acknowledged_add(server.next_response(), titles)
                acked[task_id] = title
            in_flight = sent - len(acked)
            server.kill()
        finally:
            if server.proc.returncode is None:
                server.kill()
            thread.join(30)
        assert not thread.is_alive()
        assert in_flight > 0, "the kill did not land in the middle of the stream"
        # replies written before the kill were acknowledged too
        while True:
            try:
                message = server.next_response(timeout=5)
            except ServerGone:
                break
            task_id, title = acknowledged_add(message, titles)
            acked[task_id] = title
    assert len(set(acked.values())) == len(acked)
    return acked, sent


def test_sigkill_mid_stream_loses_no_acknowledged_task(db_path: Path, isolated_env: Path) -> None:
    acknowledged: dict[int, str] = {}
    for round_no, kill_after in enumerate((150, 40, 300)):
        acked, sent = _stream_then_kill(db_path, isolated_env, round_no, kill_after)
        assert len(acked) < sent
        assert not acked.keys() & acknowledged.keys(), "an id was handed out twice"
        acknowledged.update(acked)

        integrity, stored, adds = read_db(db_path)
        assert integrity == "ok"
        missing = {i: t for i, t in acknowledged.items() if stored.get(i) != t}
        assert not missing, f"acknowledged but not stored: {list(missing.items())[:5]}"
        # an add is all or nothing: ids are dense, each with its log entry
        assert list(stored) == list(range(1, len(stored) + 1))
        assert adds == len(stored)

    # a fresh server opens the file, sees every task and carries on after the last id
    with RawServer(db_path, isolated_env) as server:
        server.initialize()
        for filters in ({"status": "all"}, {"status": "pending"}, {"status": "all", "tag": "bulk"}):
            listed = server.ok("list_items", {**filters, "limit": 1})
            assert listed["total"] == len(stored), filters
        assert server.task("new_item", {"title": "after the crashes"})["id"] == len(stored) + 1
        assert server.close() == 0
    assert read_db(db_path)[0] == "ok"


# ---- 6. two servers, one file -----------------------------------------------------------


def test_two_servers_on_one_file_add_1000_tasks_without_collisions(db_path: Path, isolated_env: Path) -> None:
    per_server = 500
    servers = [RawServer(db_path, isolated_env) for _ in range(2)]
    replies: list[list[dict[str, Any]]] = [[], []]
    failures: list[BaseException] = []
    titles = {f"s{k}-{n}": f"server {k} task {n}" for k in range(2) for n in range(per_server)}
    try:
        for server in servers:
            server.initialize()
        start = threading.Barrier(4)

        def send_all(k: int) -> None:
            try:
                start.wait(10)
                for n in range(per_server):  # pipelined: no waiting for replies
                    request_id = f"s{k}-{n}"
                    servers[k].send(add_request(request_id, titles[request_id]))
            except BaseException as exc:
                failures.append(exc)

        def collect_all(k: int) -> None:
            try:
                start.wait(10)
                for n in range(per_server):
                    replies[k].append(servers[k].wait_for(f"s{k}-{n}", timeout=60))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=fn, args=(k,)) for k in range(2) for fn in (send_all, collect_all)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        assert not any(thread.is_alive() for thread in threads)
        assert not failures, failures
        for server in servers:
            server.assert_alive()
            for filters in ({"status": "all"}, {"status": "pending"}, {"tag": "bulk"}):
                assert server.ok("list_items", {**filters, "limit": 1})["total"] == 2 * per_server, filters
    finally:
        codes = [server.close() for server in servers]
    assert codes == [0, 0]

    errors = [m for batch in replies for m in batch if "error" in m or m["result"].get("isError")]
    assert not errors, errors[:3]
    assert not any("database is locked" in str(m).lower() for batch in replies for m in batch)
    acked = [acknowledged_add(m, titles) for batch in replies for m in batch]
    ids = sorted(task_id for task_id, _ in acked)
    assert ids == list(range(1, 2 * per_server + 1)), "ids must be unique and dense"

    integrity, stored, adds = read_db(db_path)
    assert integrity == "ok"
    assert stored == dict(acked)
    assert adds == 2 * per_server
