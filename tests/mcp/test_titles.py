"""Titles with tabs and line breaks (issue 11, point 14): stored as given, shown with a visible
mark (⏎) in the one-line views, escaped reversibly in the formats whose lines cannot hold one;
NUL and the other control characters are still refused."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import TextResourceContents
from support.env import MODES
from support.mcp import text as text_of

from mcp_server_todo import formats
from mcp_server_todo.cli.main import main
from mcp_server_todo.config import Config
from mcp_server_todo.formats import ImportedTask, Options
from mcp_server_todo.render import LINE_BREAK, one_line
from mcp_server_todo.server import build_server

pytestmark = pytest.mark.anyio

TITLES = [
    "Call Ana\nabout the flat",
    "Pack:\tpassport\ttickets",
    "From Windows\r\nsecond line",
    "From an old Mac\rsecond line",
    "Unicode line\u2028separator",
    "C:\\new folder\\data.txt",
    "a literal \\n is not a break",
    "backslash then break \\\nand \\\\ two",
]


async def new(client: Client, title: str) -> dict[str, Any]:
    result = await client.call_tool("new_item", {"title": title})
    assert not result.is_error, result
    assert result.structured_content is not None
    task: dict[str, Any] = result.structured_content["items"][0]
    return task


async def test_titles_with_tabs_and_line_breaks_are_stored_as_given(client: Client) -> None:
    ids = {title: (await new(client, title))["id"] for title in TITLES}
    listed = await client.call_tool("list_items", {"limit": 50})
    assert listed.structured_content is not None
    assert {t["id"]: t["title"] for t in listed.structured_content["items"]} == {v: k for k, v in ids.items()}
    one = await client.read_resource(f"todo://tasks/{ids[TITLES[0]]}")
    assert isinstance(one.contents[0], TextResourceContents)
    assert '"title":"Call Ana\\nabout the flat"' in one.contents[0].text
    updated = await client.call_tool("update_item", {"id": ids[TITLES[1]], "title": "Now\ntwo lines"})
    assert updated.structured_content is not None
    assert updated.structured_content["items"][0]["title"] == "Now\ntwo lines"


@pytest.fixture(params=MODES)
async def every_tool(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Client]:
    async with Client(build_server(Config.resolve(str(db_path), "UTC"), "all"), mode=request.param) as client:
        yield client


async def test_one_line_views_show_a_line_break_as_a_mark(every_tool: Client) -> None:
    client = every_tool
    task = await new(client, "Call Ana\nabout the flat")
    await new(client, "Pack:\tpassport")
    lines = text_of(await client.call_tool("list_items")).split("\n")
    assert f"#{task['id']} Call Ana{LINE_BREAK}about the flat" in lines
    assert f"#{task['id'] + 1} Pack:\tpassport" in lines  # a tab fits on the line
    added = text_of(await client.call_tool("new_item", {"title": "x\r\ny"}))
    assert "\n" not in added and f"x{LINE_BREAK}y" in added
    history = text_of(await client.call_tool("history", {}))
    assert f"Call Ana{LINE_BREAK}about the flat" in history
    assert all(line.startswith("[") for line in history.split("\n")), history
    undone = text_of(await client.call_tool("undo", {}))
    assert undone.endswith(f"x{LINE_BREAK}y (removed)") and "\n" not in undone
    pending = await client.read_resource("todo://tasks/pending")
    assert isinstance(pending.contents[0], TextResourceContents)
    assert f"Call Ana{LINE_BREAK}about the flat" in pending.contents[0].text
    listed = await client.list_resources()
    assert f"#{task['id']} Call Ana{LINE_BREAK}about the flat" in {r.name for r in listed.resources}


@pytest.mark.parametrize(
    ("title", "needle"),
    [
        ("a\x00b", "NUL character"),
        ("bell\x07", "control character U+0007"),
        ("vertical\x0btab", "control character U+000B"),
        ("\x1b[31mred", "control character U+001B"),
        ("next\x85line", "control character U+0085"),
    ],
)
async def test_nul_and_other_control_characters_are_still_refused(client: Client, title: str, needle: str) -> None:
    result = await client.call_tool("new_item", {"title": title})
    assert result.is_error and needle in text_of(result), text_of(result)
    assert "title" in text_of(result)


def test_one_line() -> None:
    assert one_line("a\r\nb\nc\rd\u2028e\u2029f\tg") == "a⏎b⏎c⏎d⏎e⏎f\tg"
    assert one_line("plain") == "plain"


@pytest.mark.parametrize("fmt", formats.writable_names())
async def test_every_format_round_trips_the_titles(client: Client, tmp_path: Path, fmt: str) -> None:
    for title in TITLES:
        await new(client, title)
    exported = await client.read_resource(f"todo://export/{fmt}")
    assert isinstance(exported.contents[0], TextResourceContents)
    text = exported.contents[0].text
    if fmt in ("todotxt", "markdown"):
        body = [line for line in text.split("\n") if "uid:" in line]
        assert len(body) == len(TITLES), text  # one line per task, whatever its title
        assert "Call Ana\\nabout the flat" in text and "C:\\\\new folder\\data.txt" in text
    other = build_server(Config.resolve(str(tmp_path / "other.db"), "UTC"), "all")
    async with Client(other) as fresh:
        imported = await fresh.call_tool("import_items", {"content": text, "format": fmt, "dry_run": False})
        assert not imported.is_error, text_of(imported)
        listed = await fresh.call_tool("list_items", {"limit": 50})
    assert listed.structured_content is not None
    expected = TITLES
    if fmt == "ical":  # RFC 5545 TEXT has one line break, \n: CRLF and CR come back as LF
        expected = [title.replace("\r\n", "\n").replace("\r", "\n") for title in TITLES]
    assert sorted(t["title"] for t in listed.structured_content["items"]) == sorted(expected)


@pytest.mark.parametrize("fmt", ["todotxt", "markdown"])
def test_a_backslash_in_someone_elses_file_is_read_as_typed(fmt: str) -> None:
    line = "2026-03-01 Open C:\\new\\notes" if fmt == "todotxt" else "- [ ] Open C:\\new\\notes"
    options = Options(tz=None, now=None)  # type: ignore[arg-type]
    (task,) = list(formats.get(fmt).read(io.StringIO(line + "\n"), options))
    assert isinstance(task, ImportedTask) and task.title == "Open C:\\new\\notes"


def test_the_cli_table_shows_a_line_break_as_a_mark(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    import anyio

    async def add() -> None:
        async with Client(build_server(Config.resolve(str(db_path), "UTC"))) as client:
            await new(client, "Call Ana\nabout the flat")
            await new(client, "Pack:\tpassport")

    anyio.run(add)
    assert main(["--db", str(db_path), "list"]) == 0
    header, *rows = capsys.readouterr().out.rstrip("\n").split("\n")
    assert header.startswith("ID") and len(rows) == 2
    assert rows[0].endswith(f"Call Ana{LINE_BREAK}about the flat") and rows[1].endswith("Pack:\tpassport")
