"""The command line's import and export: `mcp-server-todo export` and `import FILE`, the
progress line of a long import and the report's notable lines. The engine is the service's
(`service.transfer`); this module only opens files, prints and maps to exit codes."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import argparse

from .. import formats
from ..errors import InvalidInput
from ..service import Transfer
from ..service.reports import report_lines
from ..service.transfer import not_utf8
from .progress import Report, progress_bar, reading, shown

__all__ = ["export_command", "import_command", "progress_lines"]


# ---- progress for the command line ------------------------------------------------------


def progress_lines(
    file: Iterable[str], total: int, stream: TextIO | None = None, *, every: float = 0.25
) -> Iterator[str]:
    """The file's lines, with a progress line on `stream` (stderr) when it is a terminal or
    the file is large (over 10 MB): "importing: 45% (1,234,567 lines)", redrawn in place on a
    terminal, every 10 % otherwise. `total` is the size in bytes, 0 if unknown (a pipe);
    characters are counted against it, close enough for a progress line."""
    out = stream if stream is not None else sys.stderr
    tty = out.isatty()
    if not tty and total < 10_000_000:
        yield from file
        return
    done = count = 0
    last = time.monotonic()
    step = 10
    for line in file:
        done += len(line)
        count += 1
        yield line
        percent = min(100, done * 100 // total) if total else None
        now = time.monotonic()
        if tty and now - last >= every:
            out.write("\r" + _progress(percent, count))
            out.flush()
            last = now
        elif not tty and percent is not None and percent >= step:
            out.write(_progress(percent, count) + "\n")
            step = percent - percent % 10 + 10
    if tty:
        out.write("\r" + _progress(100 if total else None, count) + "\n")
        out.flush()


def _progress(percent: int | None, count: int) -> str:
    return f"importing: {percent}% ({count:,} lines)" if percent is not None else f"importing: {count:,} lines"


# ---- the command line: `export` and `import` --------------------------------------------

DETAIL_LINES = 50
"""Outcome lines `import` prints (problems, skips and warnings; the rest are counted)."""
SNIFF_CHARS = 8192


def export_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    """`mcp-server-todo export`: to `--output` (written whole, then moved into place; an
    existing file only with `--force`) or stdout. A project without tasks is not found."""
    from ..config import Config
    from ..errors import Conflict, NotFound
    from ..store import LOCAL_OWNER, open_store

    fmt, project, output = args.format, args.project, args.output
    owner = getattr(args, "owner", None) or LOCAL_OWNER
    to_file = output is not None and output != "-"
    if to_file and os.path.exists(output) and not getattr(args, "force", False):
        raise Conflict(f"{output} exists; add --force to replace it")

    config = Config.resolve(db, tz)
    store = open_store(config.store_url)
    try:
        transfer = Transfer(store, owner=owner, tz=config.tz)
        if project is not None:
            from ..service import TodoService

            if TodoService(store, owner=owner).list_tasks(status="all", project=project, limit=1).total == 0:
                raise NotFound(f"project {project!r} has no tasks; run `mcp-server-todo projects` to see them")
        if not to_file:
            transfer.export(fmt, sys.stdout, project=project)
            return 0
        with progress_bar("Exporting", quiet=getattr(args, "quiet", False)) as report:
            count = _export_file(transfer, fmt, project, output, report)
    finally:
        store.close()
    print(f"Exported {count} task{'s' if count != 1 else ''} to {output} ({formats.name_of(fmt)})", file=sys.stderr)
    return 0


def _export_file(transfer: Transfer, fmt: str, project: str | None, output: str, report: Report) -> int:
    partial = f"{output}.partial-{os.getpid()}"
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            count = transfer.export(fmt, out, project=project, progress=report)
        os.replace(partial, output)
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return count


def import_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    """`mcp-server-todo import FILE`: committed in batches (one undo step), a summary and the
    notable outcomes."""
    from ..config import Config
    from ..store import LOCAL_OWNER, open_store

    path, fmt, dry_run, strict = args.file, args.format, args.dry_run, args.strict
    owner = getattr(args, "owner", None) or LOCAL_OWNER

    config = Config.resolve(db, tz)
    with _open_input(path) as file:
        head, lines = _peek(file)
        name = formats.name_of(fmt) if fmt else formats.sniff(head, None if path == "-" else path)
        store = open_store(config.store_url)
        try:
            transfer = Transfer(store, owner=owner, tz=config.tz)
            if not dry_run:
                transfer.back_up()  # an automatic backup (SQLite), rotated
            quiet = getattr(args, "quiet", False)
            with progress_bar("Importing", quiet=quiet) as bar:  # a bar on a terminal
                if shown(quiet):
                    lines = reading(lines, _size(file), bar)
                elif not quiet:  # a log line every 10 % of a large file
                    lines = progress_lines(lines, _size(file))
                report = transfer.import_lines(
                    lines,
                    name,
                    dry_run=dry_run,
                    strict=strict,
                    source=None if path == "-" else os.path.basename(path),
                )
        finally:
            store.close()
    print(report.summary())
    for line in report_lines(report, DETAIL_LINES):
        print(line)
    return 0


class _open_input:
    """The file to import (or stdin for "-"), text in UTF-8 with or without a BOM."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file: TextIO | None = None

    def __enter__(self) -> TextIO:
        if self.path == "-":
            return sys.stdin
        try:
            self.file = open(self.path, encoding="utf-8-sig")  # closed in __exit__
        except OSError as exc:
            raise InvalidInput(f"cannot read {self.path}: {exc.strerror or exc}") from None
        return self.file

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


def _peek(file: TextIO) -> tuple[str, Iterator[str]]:
    """The first few kilobytes (to guess the format) and all the lines, without seeking."""
    first: list[str] = []
    size = 0
    try:
        for line in file:
            first.append(line)
            size += len(line)
            if size >= SNIFF_CHARS:
                break
    except UnicodeDecodeError as exc:
        raise not_utf8(exc) from None

    def lines() -> Iterator[str]:
        yield from first
        yield from file

    return "".join(first), lines()


def _size(file: TextIO) -> int:
    try:
        return os.fstat(file.fileno()).st_size
    except (OSError, ValueError):
        return 0
