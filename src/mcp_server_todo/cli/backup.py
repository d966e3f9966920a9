"""`mcp-server-todo backup [PATH]` and `restore PATH` (the work is store/backup.py's)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InvalidInput


def _sqlite_path(db: str | None) -> Path:
    from ..config import store_url_from
    from ..store import sqlite_path
    from ..store.backup import PG_ADVICE

    url = store_url_from(db)
    if url.startswith(("postgresql://", "postgres://")):
        raise InvalidInput(PG_ADVICE)
    if not url.startswith("sqlite:///"):
        raise InvalidInput(f"unknown store URL {url!r}; use sqlite:///ABSOLUTE/PATH.db")
    return sqlite_path(url)


def backup_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..store.backup import manual
    from .progress import progress_bar

    with progress_bar("Backing up", quiet=getattr(args, "quiet", False)) as report:
        path = manual(_sqlite_path(db), args.path, progress=report)
    print(path)
    return 0


def restore_command(args: argparse.Namespace, db: str | None, tz: str | None) -> int:
    from ..store.backup import restore
    from .progress import progress_bar

    source: str = args.path
    path = _sqlite_path(db)
    with progress_bar("Restoring", quiet=getattr(args, "quiet", False)) as report:
        tasks, saved = restore(path, Path(source), progress=report)
    print(f"Restored {path} from {source} ({tasks} tasks).")
    if saved is not None:
        print(f"The database it replaced is saved as {saved}.", file=sys.stderr)
    return 0
