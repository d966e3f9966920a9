"""The doctor's storage checks (install.py prints them): can the store be written (file,
folder, mount, free space), is it intact (`PRAGMA quick_check`), and where are its backups.
The advice names the real backup files; for PostgreSQL it points to pg_dump."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import TodoError
from .install import FAIL, OK, Check

if TYPE_CHECKING:
    from .store.sqlite import SQLiteStore


def restore_hint(path: Path) -> str:
    """What to do with a damaged or unusable database: restore the newest backup, by name."""
    from .store.backup import backups, backups_dir

    found = backups(path)
    if not found:
        return (
            f"stop every client, move {path.name} aside, then restore a copy of your own or start afresh "
            f"(no backups in {backups_dir(path)})"
        )
    more = f" ({len(found)} backups in {found[0].parent})" if len(found) > 1 else ""
    return f"stop every client, then run: mcp-server-todo restore {found[0]}{more}"


def open_hint(exc: TodoError, path: Path) -> str:
    """What to do about a store that does not open: a place to fix, or a file to restore."""
    from .errors import StoreFull, StoreReadOnly, StoreUnreachable

    if isinstance(exc, StoreFull | StoreReadOnly | StoreUnreachable):
        return "fix what the line above says, then run doctor again"
    return restore_hint(path) + "; or choose another file with --db"


def writable_check(path: Path) -> Check:
    from .store.faults import place_problem

    problem = place_problem(path)
    if problem is None:
        return Check(OK, "store writable", "yes (file, folder and disk)")
    return Check(FAIL, "store writable", problem, "fix it, then run doctor again; until then nothing can be saved")


def integrity_check(store: SQLiteStore, path: Path) -> Check:
    try:
        rows = store.quick_check()
    except (TodoError, sqlite3.Error) as exc:
        return Check(FAIL, "store integrity", f"quick_check failed: {exc.__cause__ or exc}", restore_hint(path))
    if rows == ["ok"]:
        return Check(OK, "store integrity", "quick_check ok")
    return Check(FAIL, "store integrity", "; ".join(rows[:3]), restore_hint(path))


def backups_check(path: Path) -> Check:
    from .store.backup import backups, backups_dir, keep

    found = backups(path)
    if not found:
        detail = f"none yet in {backups_dir(path)} (one is made before every import and upgrade)"
        return Check(OK, "backups", detail)
    age = _age(time.time() - found[0].stat().st_mtime)
    detail = f"{len(found)} in {found[0].parent}, newest {found[0].name} ({age} ago; the newest {keep()} kept)"
    return Check(OK, "backups", detail)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def sqlite_checks(store: SQLiteStore, path: Path) -> list[Check]:
    return [writable_check(path), integrity_check(store, path), backups_check(path)]


def postgres_backup_check() -> Check:
    return Check(OK, "backups", "PostgreSQL: take them with pg_dump -Fc, restore with pg_restore (docs/deploy.md)")


__all__ = ["open_hint", "postgres_backup_check", "restore_hint", "sqlite_checks"]
