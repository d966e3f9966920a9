"""Import and export over MCP: the `import_items` tool (group "import") and the
`todo://export/{format}{?project}` resource template. The work is transfer.py's.

`import_items` takes the file's text (`content`) or a `path` to a file under one of the
client's roots, asked for with the SDK's `ListRoots` resolver (so it works on both protocol
generations); a path outside every root is refused, and a client that shares no roots must
send the text. Over HTTP a path is refused too: it would name a file on the server's disk,
not the user's. Everything runs as the requester's owner (context.service_of): an import over
HTTP lands in that user's list only, and an export holds only their tasks.

It previews by default (`dry_run` true): the same import on a read snapshot, writing nothing
and locking nothing, so a model can show the user what would change; `dry_run=false`
imports, one undo step. The result lists the counts and, item by item, what was added,
updated or skipped and why (the first `ITEMS_SHOWN`).

Export is a resource so a client can read or attach it: todotxt, ical, taskwarrior,
markdown or json; `?project=NAME` for one project. It is text/plain whatever the format
(one template has one MIME type; the format is in the URI).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.mcpserver.resolve import ListRoots, Resolve
from mcp_types import CallToolResult, ListRootsResult
from pydantic import BaseModel, Field

from ... import formats
from ...errors import InvalidInput, NotFound, TodoError
from ...service import ImportReport, TodoService, Transfer
from ...service.reports import report_lines
from ..context import AppState, Ctx, service_of
from ..toolset import ADD, Str, error, result
from .registry import tools

EXPORT = "todo://export/{format}{?project}"
ITEMS_SHOWN = 100
if TYPE_CHECKING:
    ImportFormat = str
else:  # the registry's names, in its order (formats.REGISTRY): a new format needs no edit here
    ImportFormat = Literal[formats.FORMATS]


class ImportedItem(BaseModel):
    line: int
    action: str = Field(description="added, updated, skipped or problem.")
    id: int | None = None
    title: str | None = None
    reason: str | None = None


class ImportResult(BaseModel):
    format: str
    dry_run: bool
    added: int
    updated: int
    skipped: int
    problems: int
    items: list[ImportedItem] = Field(description="Item by item (the first 100): what happened and why.")


def transfer_for(service: TodoService) -> Transfer:
    return service.transfer()


def _model(report: ImportReport) -> ImportResult:
    items = [
        ImportedItem(line=i.line, action=i.action, id=i.id, title=i.title or None, reason=i.reason or None)
        for i in report.items[:ITEMS_SHOWN]
    ]
    return ImportResult(
        format=report.format,
        dry_run=report.dry_run,
        added=report.added,
        updated=report.updated,
        skipped=report.skipped,
        problems=report.problems,
        items=items,
    )


def _text(report: ImportReport) -> str:
    lines = [report.summary(), *report_lines(report, 20)]
    if report.dry_run and (report.added or report.updated):
        lines.append("Call import_items again with dry_run=false to import.")
    return "\n".join(lines)


# ---- roots --------------------------------------------------------------------------


def _has_roots(ctx: Ctx) -> bool:
    caps = ctx.client_capabilities
    return caps is not None and caps.roots is not None


def _over_http(ctx: Ctx) -> bool:
    """The request came over HTTP (the transport attached its request): the client is
    elsewhere, and its roots are folders on its own machine, not the server's."""
    return ctx.request_context.request is not None


async def _roots(ctx: Ctx, path: str | None) -> ListRoots | ListRootsResult:
    """Ask the client for its roots only when a path was given and it can answer."""
    if path is None or not _has_roots(ctx) or _over_http(ctx):
        return ListRootsResult(roots=[])
    return ListRoots()


def _local(uri_or_path: str) -> Path:
    if uri_or_path.startswith("file:"):
        parsed = urlparse(uri_or_path)
        return Path(url2pathname(unquote(parsed.path)))
    return Path(uri_or_path).expanduser()


def resolve_path(path: str, roots: ListRootsResult) -> Path:
    """The file `path` names, if it lies under one of the roots (symlinks followed first)."""
    if "\x00" in path:
        raise InvalidInput("path contains a NUL character (\\u0000), which no file name has; send the file's path")
    folders = [_local(str(root.uri)).resolve() for root in roots.roots if str(root.uri).startswith("file:")]
    if not folders:
        raise InvalidInput(
            "this client shares no roots (folders) with the server, so it cannot read files; "
            "pass the file's text as content instead"
        )
    given = _local(path)
    candidates = [given] if given.is_absolute() else [folder / given for folder in folders]
    for candidate in candidates:
        resolved = candidate.resolve()
        if not any(resolved.is_relative_to(folder) for folder in folders):
            continue
        if not resolved.is_file():
            raise NotFound(f"no file {path!r} under your roots")
        return resolved
    shown = ", ".join(str(folder) for folder in folders)
    raise InvalidInput(f"{path!r} is outside your roots ({shown}); only files under them can be read")


# ---- the tool ------------------------------------------------------------------------


def _import(
    service: TodoService, content: str | None, file: Path | None, fmt: str | None, dry_run: bool
) -> ImportReport:
    transfer = transfer_for(service)
    if not dry_run:
        transfer.back_up()  # an automatic backup (SQLite), rotated
    if file is None:
        text = content or ""
        try:
            text.encode("utf-8")  # a JSON string may carry lone surrogates; a file never does
        except UnicodeEncodeError as exc:
            raise InvalidInput(
                f"content holds an unpaired UTF-16 surrogate at character {exc.start + 1}; send valid Unicode text"
            ) from None
        name = formats.name_of(fmt) if fmt else formats.sniff(text[:8192])
        return transfer.import_lines(io.StringIO(text), name, dry_run=dry_run)
    with file.open(encoding="utf-8-sig") as handle:
        head = handle.read(8192)
        handle.seek(0)
        name = formats.name_of(fmt) if fmt else formats.sniff(head, file.name)
        return transfer.import_lines(handle, name, dry_run=dry_run, source=file.name)


@tools.tool(ADD, group="import")
async def import_items(
    ctx: Ctx,
    roots: Annotated[ListRootsResult, Resolve(_roots)],
    content: Annotated[Str | None, Field(description="The file's text.")] = None,
    path: Annotated[Str | None, Field(description="Or a file under one of your roots.")] = None,
    format: Annotated[ImportFormat | None, Field(description="Default: guessed from the text.")] = None,
    dry_run: Annotated[bool, Field(description="Default true: preview only. false imports.")] = True,
) -> Annotated[CallToolResult, ImportResult]:
    """Import tasks from todo.txt, iCalendar, Taskwarrior, Todoist CSV, Markdown or a json dump.
    Previews by default; dry_run=false imports (one undo reverts it). Re-importing a file adds
    nothing twice."""
    if (content is None) == (path is None):
        return error(InvalidInput("give content (the file's text) or path (a file under your roots), not both"))
    if path is not None and _over_http(ctx):
        return error(
            InvalidInput("over HTTP a path would name a file on the server, not yours; pass the file's text as content")
        )
    service = service_of(ctx)
    try:
        file = resolve_path(path, roots) if path is not None else None
        report = await anyio.to_thread.run_sync(
            _import, service, content, file, format, dry_run, abandon_on_cancel=True
        )
    except TodoError as exc:
        return error(exc)
    except (OSError, UnicodeDecodeError) as exc:
        return error(InvalidInput(f"cannot read {path}: {exc}"))
    return result(_text(report), _model(report))


# ---- the resource -------------------------------------------------------------------


def export_text(service: TodoService, fmt: str, project: str | None) -> str:
    out = io.StringIO()
    transfer_for(service).export(fmt, out, project=project)
    return out.getvalue()


def register(server: MCPServer[AppState]) -> None:
    names = ", ".join(formats.writable_names())

    @server.resource(
        EXPORT,
        name="export",
        title="Export",
        description=f"Every task as a file to save or hand to another app: {names} (json keeps everything). "
        "?project=NAME for one project.",
        mime_type="text/plain",
    )
    async def export(format: str, ctx: Ctx, project: str | None = None) -> str:
        service = service_of(ctx)
        try:
            if formats.name_of(format) not in formats.writable_names():
                raise InvalidInput(f"{format!r} cannot be exported; use {names}")
            return await anyio.to_thread.run_sync(export_text, service, format, project, abandon_on_cancel=True)
        except TodoError as exc:
            raise ResourceNotFoundError(str(exc)) from None
