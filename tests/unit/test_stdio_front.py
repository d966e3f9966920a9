"""The stdio front end and its snapshot, in process over real pipes: which requests it answers
(only what the SDK answered before, under the same session), what it hands to the real
transport (every other line, in order, the initialize to replay, a partial line), the keys a
snapshot is filed under, and files that are corrupt or foreign."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mcp_server_todo.transports import stdio_snapshot
from mcp_server_todo.transports.stdio_front import Handoff, answer_until
from mcp_server_todo.transports.stdio_snapshot import Recorder, Session, Snapshot

HELLO = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
META = {"_meta": {stdio_snapshot.MODERN_KEY: "2026-07-28"}}
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": HELLO}
TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


def answered(message: dict[str, Any], result: str) -> bytes:
    spelled = json.dumps(message["id"]).encode()
    return b'{"jsonrpc":"2.0","id":' + spelled + b',"result":' + result.encode() + b"}"


@pytest.fixture
def snapshot(tmp_path: Path) -> Snapshot:
    """A snapshot the recorder filled from what an SDK answered to INIT and TOOLS."""
    made = Snapshot({"k": 1}, {"XDG_CACHE_HOME": str(tmp_path)})
    recorder = Recorder(made)
    for message, result in ((INIT, '{"protocolVersion":"2025-11-25"}'), (TOOLS, '{"tools":[]}')):
        recorder.asked(message)
        recorder.answered(message["id"], answered(message, result))
    return made


@pytest.fixture
def pipes() -> Iterator[tuple[int, int, int, int, int, int]]:
    """stdin (read, write), stdout (read, write), ready (read, write)."""
    fds = [fd for _ in range(3) for fd in os.pipe()]
    yield tuple(fds)  # type: ignore[misc]
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def front(snapshot: Snapshot, pipes: tuple[int, ...], data: bytes) -> tuple[Handoff, list[bytes]]:
    """Feed `data` to the front end, then say the server is ready; its handoff and written lines."""
    in_read, in_write, out_read, out_write, ready_read, ready_write = pipes
    os.write(in_write, data)
    os.close(in_write)  # stdin's end: the front end stops reading and waits for the server
    os.write(ready_write, b".")
    handoff = answer_until(ready_read, snapshot, stdin_fd=in_read, stdout_fd=out_write)
    os.close(out_write)
    written = b""
    while chunk := os.read(out_read, 65536):
        written += chunk
    return handoff, written.splitlines()


def test_answers_the_initialize_and_lists_it_recorded_with_the_clients_id(snapshot: Snapshot, pipes: Any) -> None:
    data = line(INIT) + line({"jsonrpc": "2.0", "method": "notifications/initialized"}) + line({**TOOLS, "id": "t-9"})
    handoff, written = front(snapshot, pipes, data + b'{"jsonrpc":"2.0","id":3,"meth')
    assert written == [answered(INIT, '{"protocolVersion":"2025-11-25"}'), answered({"id": "t-9"}, '{"tools":[]}')]
    assert handoff.lines == data.splitlines(keepends=True)[:2]  # initialize (replayed quietly), the notification
    assert handoff.quiet == {1} and handoff.answered == 2
    assert handoff.rest == b'{"jsonrpc":"2.0","id":3,"meth'


@pytest.mark.parametrize(
    "messages",
    [
        [TOOLS, INIT],  # a list before initialize: the SDK refuses it, so the front end cannot answer
        [{**INIT, "params": {**HELLO, "capabilities": {"sampling": {}}}}, TOOLS],  # another client's session
        [INIT, {**TOOLS, "params": {"cursor": "x"}}],  # a page never asked before
        [INIT, {**TOOLS, "params": META}],  # a 2026 request on a handshake connection: the SDK's error
        [{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": META}],  # a 2026 session never recorded
    ],
)
def test_leaves_everything_else_to_the_sdk_in_order(snapshot: Snapshot, pipes: Any, messages: Any) -> None:
    data = b"".join(line(m) for m in messages)
    handoff, written = front(snapshot, pipes, data)
    assert b"".join(handoff.lines) == data
    if messages[0] is INIT:  # only the initialize is answered (and replayed quietly)
        assert written == [answered(INIT, '{"protocolVersion":"2025-11-25"}')] and handoff.quiet == {1}
    else:
        assert written == [] and handoff.quiet == set()


@pytest.mark.parametrize("request_id", [1.5, None, True, "é", 'a"b', ["x"]])
def test_an_id_of_uncertain_spelling_is_left_to_the_sdk(snapshot: Snapshot, pipes: Any, request_id: Any) -> None:
    handoff, written = front(snapshot, pipes, line({**INIT, "id": request_id}))
    assert written == [] and handoff.quiet == set()


def test_malformed_lines_and_a_second_initialize_wait_for_the_sdk(snapshot: Snapshot, pipes: Any) -> None:
    odd = [
        b"{bad\n",
        b"[1]\n",
        json.dumps({**TOOLS, "id": 7}).encode("utf-16") + b"\n",  # not UTF-8: the SDK's parse error
        line({**TOOLS, "id": 8, "extra": True}),  # a member a request does not have
        line({**TOOLS, "id": 9, "jsonrpc": "1.0"}),
        line({**INIT, "id": 5}),
    ]
    data = line(INIT) + b"".join(odd) + line({**TOOLS, "id": 6})
    handoff, written = front(snapshot, pipes, data)
    assert [json.loads(w)["id"] for w in written] == [1, 6]
    assert handoff.lines == [line(INIT), *odd]


def test_the_era_is_decided_by_the_first_request_as_in_the_sdk() -> None:
    legacy, modern, other = Session(), Session(), Session()
    assert legacy.key_of(INIT) is not None and legacy.era == "legacy"
    assert modern.key_of({**TOOLS, "params": META}) is not None and modern.era == "modern"
    assert modern.key_of(TOOLS) is None  # no envelope on a modern connection: the SDK decides
    assert other.key_of({"jsonrpc": "2.0", "id": 1, "method": "ping"}) is None and other.era == "none"
    assert other.key_of(INIT) is None
    assert legacy.key_of({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {}}) is None


def test_the_file_is_written_atomically_and_read_back_only_under_its_key(snapshot: Snapshot, tmp_path: Path) -> None:
    assert Path(snapshot.path).parent == tmp_path / "mcp-server-todo"
    assert [p.name for p in Path(snapshot.path).parent.iterdir()] == [Path(snapshot.path).name]  # no temporary left
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    assert Snapshot({"k": 1}, environ).load().answers == snapshot.answers
    assert Snapshot({"k": 2}, environ).load().answers == {}  # another key: another file
    for garbage in (b"\xff\x00", b"[]", b'{"key": {"k": 1}, "answers": []}', b'{"key": {"k": 0}, "answers": {}}'):
        Path(snapshot.path).write_bytes(garbage)
        assert Snapshot({"k": 1}, environ).load().answers == {}


def test_an_error_answer_or_an_id_asked_twice_is_not_recorded(tmp_path: Path) -> None:
    made = Snapshot({"k": 1}, {"XDG_CACHE_HOME": str(tmp_path)})
    recorder = Recorder(made)
    recorder.asked(INIT)
    recorder.drop(1)
    recorder.answered(1, answered(INIT, "{}"))
    recorder.asked({**TOOLS, "id": 1})
    recorder.asked({**TOOLS, "id": 1, "method": "prompts/list"})
    recorder.answered(1, answered(TOOLS, "{}"))
    assert made.answers == {} and not os.path.exists(made.path)


def test_the_key_follows_the_source_the_settings_and_the_todo_environment() -> None:
    key = stdio_snapshot.snapshot_key({"tools": "core"}, {"TODO_TZ": "UTC", "HOME": "/x"})
    assert key["env"] == {"TODO_TZ": "UTC"} and key["settings"] == {"tools": "core"}
    assert any(name.startswith("mcp-") for name in key["distributions"])
    assert key == stdio_snapshot.snapshot_key({"tools": "core"}, {"TODO_TZ": "UTC", "HOME": "/y"})
    assert stdio_snapshot.enabled({}) and not stdio_snapshot.enabled({"TODO_SNAPSHOT": "0"})


def test_the_front_end_and_the_plain_stdio_options_load_only_the_standard_library() -> None:
    script = (
        "import sys, json\n"
        "from mcp_server_todo.cli.serve_args import parse_plain_stdio\n"
        "from mcp_server_todo.transports import stdio_front, stdio_snapshot\n"
        "assert parse_plain_stdio(['--db', 'x', '--tools', 'all']).tools == 'all'\n"
        "stdio_snapshot.snapshot_key({}, {})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    loaded = {name.partition(".")[0] for name in json.loads(done.stdout)}
    assert not {"mcp", "mcp_types", "pydantic", "anyio", "platformdirs", "click"} & loaded, loaded
    assert "mcp_server_todo.transports.http" not in json.loads(done.stdout)


def test_the_oldest_answers_and_files_make_room(tmp_path: Path) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    for n in range(stdio_snapshot.MAX_FILES + 3):
        made = Snapshot({"k": n}, environ)
        recorder = Recorder(made)
        recorder.asked(INIT)
        recorder.answered(1, answered(INIT, "{}"))
        os.utime(made.path, ns=(n * 10**9, n * 10**9))
    files = list((tmp_path / "mcp-server-todo").iterdir())
    assert len(files) == stdio_snapshot.MAX_FILES and Path(made.path) in files
    assert not Path(Snapshot({"k": 0}, environ).path).exists()
    recorder = Recorder(made)
    for n in range(stdio_snapshot.MAX_ANSWERS + 5):
        message = {**INIT, "id": n, "params": {**HELLO, "clientInfo": {"name": "t", "version": str(n)}}}
        recorder.session = Session()
        recorder.asked(message)
        recorder.answered(n, answered(message, "{}"))
    assert len(made.answers) == stdio_snapshot.MAX_ANSWERS
    assert '"version":"4"' not in "".join(made.answers) and '"version":"5"' in "".join(made.answers)


@pytest.mark.parametrize("variable", ["TODO_HTTP", "TODO_DAV"])
def test_a_server_the_environment_makes_more_than_stdio_is_parsed_in_full(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_server_todo.cli.serve_args import parse_plain_stdio, serve_parser

    assert parse_plain_stdio(["--db", "x"]) is not None
    monkeypatch.setenv(variable, "1")
    assert parse_plain_stdio(["--db", "x"]) is None
    assert getattr(serve_parser().parse_args(["--db", "x"]), variable.removeprefix("TODO_").lower()) is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_the_snapshot_switch_reads_off_like_the_other_switches(value: str) -> None:
    assert not stdio_snapshot.enabled({"TODO_SNAPSHOT": value})
