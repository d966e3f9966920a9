"""The health of a SQLite store for `doctor`: the file (there, creatable, not a folder), that
it opens, its schema version, can it be written (file, folder, mount, free space), is it
intact (`PRAGMA quick_check`), where are its backups, and the task counts. The advice names
the real backup files."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TodoError
from .health import FAIL, OK, WARN, Check, task_counts

if TYPE_CHECKING:
    from .sqlite import SQLiteStore


def _creatable(path: Path) -> bool:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)


def check_url(url: str) -> list[Check]:
    """The file at a sqlite:/// URL; if it is there, open (and migrate) it and ask its health."""
    from . import sqlite_path

    path = sqlite_path(url)
    checks = [Check(OK, "store", url)]
    if path.is_dir():
        return [*checks, Check(FAIL, "store file", f"{path} is a directory", "point --db at a file")]
    if not path.exists():
        if _creatable(path):
            return [*checks, Check(OK, "store file", "not created yet; it is created on first use")]
        return [
            *checks,
            Check(FAIL, "store file", f"cannot create {path}", "choose a writable place with --db or TODO_DB"),
        ]
    checks.append(Check(OK, "store file", f"{path} ({path.stat().st_size} bytes)"))
    return checks + _open_checks(url, path)


def _open_checks(url: str, path: Path) -> list[Check]:
    """Open (and migrate) the store, then its health: schema, integrity and counts."""
    from . import open_store

    try:
        store = open_store(url)
    except TodoError as exc:
        return [Check(FAIL, "store opens", str(exc), open_hint(exc, path))]
    try:
        return [Check(OK, "store opens", "yes"), *store.health()]
    finally:
        store.close()


def health(store: SQLiteStore) -> list[Check]:
    """Schema, writable, integrity, backups and task counts of an open SQLite store; a store
    that cannot be read is one FAIL check."""
    try:
        integrity = [writable_check(store.path), integrity_check(store, store.path), backups_check(store.path)]
        return [_schema_check(store.schema_version()), *integrity, task_counts(store)]
    except (TodoError, sqlite3.Error) as exc:
        return [Check(FAIL, "store", f"cannot be read: {exc}")]


def _schema_check(version: int) -> Check:
    from .migrations import SQLITE_MIGRATIONS

    latest = SQLITE_MIGRATIONS[-1][0]
    if version > latest:
        detail = f"version {version}, newer than this release ({latest})"
        return Check(WARN, "store schema", detail, "upgrade mcp-server-todo everywhere this store is used")
    return Check(OK, "store schema", f"version {version} (current)")


def restore_hint(path: Path) -> str:
    """What to do with a damaged or unusable database: restore the newest backup, by name."""
    from .backup import backups, backups_dir

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
    from ..errors import StoreFull, StoreReadOnly, StoreUnreachable

    if isinstance(exc, StoreFull | StoreReadOnly | StoreUnreachable):
        return "fix what the line above says, then run doctor again"
    return restore_hint(path) + "; or choose another file with --db"


def writable_check(path: Path) -> Check:
    from .faults import place_problem

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
    from .backup import backups, backups_dir, keep

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


__all__ = ["check_url", "health", "open_hint", "restore_hint"]
