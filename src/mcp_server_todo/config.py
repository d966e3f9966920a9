"""Where the store is and which time zone dates are read in: flags, then TODO_* variables,
then defaults (a SQLite file in the user's data directory, the system time zone)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from .dates import zone
from .store import sqlite_url

APP_NAME = "mcp-server-todo"


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / DB_FILE_NAME


DB_FILE_NAME = "todo.db"
"""The task file in a folder given as the store (`--db ~/Tasks`, the bundle's Task folder)."""


def db_file(value: str) -> Path:
    """A store path as a file: an existing folder means the task file `todo.db` in it."""
    path = Path(value).expanduser()
    return path / DB_FILE_NAME if path.is_dir() else path


def store_url_from(db: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """`db` may be a store URL (sqlite:///..., postgresql://...), a file path or a folder (its
    todo.db); without it, TODO_DB (or TODO_STORE) of `environ`, else the default file."""
    value = db or environ.get("TODO_DB") or environ.get("TODO_STORE")
    if not value:
        return sqlite_url(default_db_path())
    if "://" in value:
        return value
    return sqlite_url(db_file(value))


@dataclass
class Config:
    store_url: str
    tz: tzinfo = field(default_factory=zone)

    @classmethod
    def resolve(cls, db: str | None = None, tz: str | None = None) -> Config:
        return cls(store_url=store_url_from(db), tz=zone(tz))
