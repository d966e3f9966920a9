"""Backups of a SQLite store: automatic ones before every migration and every import, and the
`backup [PATH]` and `restore PATH` commands.

Every copy goes through SQLite's online backup API (`sqlite3.Connection.backup`): a consistent
snapshot of the database, WAL included, taken while servers keep running. Automatic backups
are kept next to the database, in `<data folder>/backups/<name>-YYYYmmdd-HHMMSS-<reason>.db`,
the newest `KEEP` of them (env TODO_BACKUPS; 0 turns them off); backups made with `backup`
(reason "manual") are never rotated away.

`restore PATH` checks that PATH is a task database whose integrity is ok and whose schema this
release knows, backs the current database up first ("before-restore"), then copies PATH into
the live database with the backup API in reverse: under SQLite's write lock, so a server that is
running meanwhile simply sees the restored tasks on its next read (its watchers may miss the
notifications of changes that vanished). If the current file is too damaged for SQLite to
write into, it is replaced as a file instead (its -wal and -shm removed): stop the servers first.

PostgreSQL stores are backed up with pg_dump and restored with pg_restore (docs/deploy.md).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from ..errors import InvalidInput, StorageError, StoreDamaged
from . import faults

log = logging.getLogger(__name__)

KEEP = 10
"""Automatic backups kept (the newest); TODO_BACKUPS overrides, 0 turns them off."""
AUTOMATIC = ("before-migration", "before-import", "before-restore")
PG_ADVICE = (
    "PostgreSQL stores are backed up with pg_dump and restored with pg_restore "
    "(pg_dump -Fc -f todo.dump URL; pg_restore --clean -d URL todo.dump; see docs/deploy.md)"
)
BACKUP_STEP_PAGES = 1024
"""Pages copied per step when progress is reported (4 MiB with SQLite's default page size)."""

Progress = Callable[[int, int], None]
"""`progress(done, total)`: called as a copy goes, in database pages (the command line's bar)."""

_NAME = re.compile(r"^(?P<stem>.+)-(?P<at>\d{8}-\d{6})(?:-(?P<n>\d+))?-(?P<reason>[a-z-]+)\.db$")


def backups_dir(db: Path) -> Path:
    return db.parent / "backups"


def keep() -> int:
    value = os.environ.get("TODO_BACKUPS", "").strip()
    if not value:
        return KEEP
    try:
        return max(0, int(value))
    except ValueError:
        raise InvalidInput(f"TODO_BACKUPS must be a number of backups to keep; got {value!r}") from None


def backups(db: Path) -> list[Path]:
    """The backups of `db` in its backups folder, newest first."""
    folder = backups_dir(db)
    try:
        found = [p for p in folder.iterdir() if _is_backup_of(p, db)]
    except OSError:
        return []
    return sorted(found, key=_order, reverse=True)


def _order(path: Path) -> tuple[str, int]:
    """Time stamp, then the number of a second backup within the same second."""
    match = _NAME.match(path.name)
    return (match["at"], int(match["n"] or 1)) if match else ("", 0)


def _is_backup_of(path: Path, db: Path) -> bool:
    match = _NAME.match(path.name)
    return match is not None and match["stem"] == db.stem and path.is_file()


def _reason(path: Path) -> str:
    match = _NAME.match(path.name)
    return match["reason"] if match else ""


def newest_backup(db: Path) -> Path | None:
    found = backups(db)
    return found[0] if found else None


def _new_name(db: Path, reason: str) -> Path:
    """A new name, ordered after every backup already there (a second one within the same second
    gets a number, above any used, so names never repeat even after rotation)."""
    folder = backups_dir(db)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    latest = max((_order(p) for p in backups(db)), default=("", 0))
    if latest[0] < stamp:
        return folder / f"{db.stem}-{stamp}-{reason}.db"
    stamp, n = latest[0], latest[1] + 1  # never sort before an earlier backup (clock moved back)
    return folder / f"{db.stem}-{stamp}-{n}-{reason}.db"


def _backup(src: sqlite3.Connection, dst: sqlite3.Connection, progress: Progress | None) -> None:
    """`src.backup(dst)`: in one step, or in steps of `BACKUP_STEP_PAGES` that `progress` hears of."""
    if progress is None:
        src.backup(dst)
        return
    report = progress

    def step(_status: int, remaining: int, total: int) -> None:
        report(total - remaining, total)

    src.backup(dst, pages=BACKUP_STEP_PAGES, progress=step)


def copy_database(source: Path, target: Path, progress: Progress | None = None) -> None:
    """A consistent copy of the SQLite database `source` (WAL included) into the new file `target`,
    written beside it first and renamed into place (a half-written backup never has the name).
    `progress(done, total)` hears of it in steps of `BACKUP_STEP_PAGES` pages."""
    partial = target.with_name(target.name + ".partial")
    src = sqlite3.connect(f"file:{quote(source.as_posix())}?mode=ro", uri=True)
    try:
        with faults.translated(source):
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        dst = sqlite3.connect(partial)
        try:
            with faults.translated(target):
                _backup(src, dst, progress)
                dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()


def _has_data(db: Path) -> bool:
    try:
        conn = sqlite3.connect(f"file:{quote(db.as_posix())}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(
            conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None  # our own table names
            for table in ("tasks", "changes", "api_tokens", "lists")
            if table in tables
        )
    except sqlite3.Error:
        return True  # unreadable somewhere: better a copy too many
    finally:
        conn.close()


def take(db: Path, reason: str) -> Path | None:
    """An automatic backup of `db` before a migration or an import, then the rotation; None when
    there is nothing to back up (no file, no data) or TODO_BACKUPS=0. A backup that cannot be
    written stops the caller: better no import than an import without its backup."""
    limit = keep()
    if limit == 0 or not db.is_file() or not _has_data(db):
        return None
    target = _new_name(db, reason)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_database(db, target)
    except OSError as exc:
        raise StorageError(
            f"cannot write a backup of {db} into {target.parent} ({exc.strerror or exc}); nothing was changed"
        ) from exc
    log.info("backed up %s to %s", db, target)
    rotate(db, limit)
    return target


def rotate(db: Path, limit: int) -> None:
    automatic = [p for p in backups(db) if _reason(p) in AUTOMATIC]
    for old in automatic[limit:]:
        old.unlink(missing_ok=True)


def before_import(store: object) -> None:
    """The automatic backup at the start of a real (not dry-run) import; nothing for PostgreSQL."""
    path = getattr(store, "path", None)
    if isinstance(path, Path):
        take(path, "before-import")


# -- the commands -----------------------------------------------------------------------------


def manual(db: Path, target: str | None, progress: Progress | None = None) -> Path:
    """`mcp-server-todo backup [PATH]`: into the backups folder, or PATH (a file, or a folder);
    `progress(done, total)` as the copy goes."""
    if not db.is_file():
        raise InvalidInput(f"there is no task database at {db} yet; nothing to back up")
    if target is None:
        path = _new_name(db, "manual")
    else:
        path = Path(target).expanduser()
        if path.is_dir():
            path = path / _new_name(db, "manual").name
        if path.exists():
            raise InvalidInput(f"{path} already exists; choose another name (a backup never overwrites a file)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    try:
        copy_database(db, path.absolute(), progress)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror or exc}; no backup was made") from exc
    return path.absolute()


def check_backup(path: Path) -> tuple[int, int]:
    """(schema version, tasks) of a file that is a task database with integrity ok, else InvalidInput."""
    from .migrations import SQLITE_MIGRATIONS

    if not path.is_file():
        raise InvalidInput(f"no file {path}")
    try:
        conn = sqlite3.connect(f"file:{quote(path.absolute().as_posix())}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InvalidInput(f"{path} cannot be opened: {exc}") from None
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise InvalidInput(f"{path} is damaged ({'; '.join(problems[:2])}); choose another backup")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"schema_migrations", "tasks", "changes"} <= tables:
            raise InvalidInput(f"{path} is a SQLite file but not an mcp-server-todo database")
        version = int(conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0)
        tasks = int(conn.execute("SELECT count(*) FROM tasks").fetchone()[0])
    except sqlite3.Error as exc:
        raise InvalidInput(f"{path} is not a usable task database ({exc})") from None
    finally:
        conn.close()
    latest = SQLITE_MIGRATIONS[-1][0]
    if version > latest:
        raise InvalidInput(f"{path} comes from a newer mcp-server-todo (schema {version}); upgrade first")
    return version, tasks


def restore(db: Path, source: Path, progress: Progress | None = None) -> tuple[int, Path | None]:
    """Replace the database `db` by the backup `source`: (tasks restored, the backup of the old one);
    `progress(done, total)` as the copy into `db` goes (under its write lock all along: SQLite
    keeps the destination locked from the first step to the last)."""
    source = source.expanduser().absolute()
    _, tasks = check_backup(source)
    if source == db.absolute():
        raise InvalidInput(f"{source} is the database itself; name a backup")
    saved = _save_current(db) if db.exists() else None
    db.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{quote(source.as_posix())}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(db, timeout=30)
        try:
            with faults.translated(db):
                _backup(src, dst, progress)  # under the live database's write lock
                ok = [row[0] for row in dst.execute("PRAGMA quick_check")] == ["ok"]
        except StoreDamaged as exc:  # SQLite cannot write into it: replace the file below
            log.info("cannot restore into %s through SQLite (%s); replacing the file", db, exc)
            ok = False
        except sqlite3.Error as exc:
            raise StorageError(f"cannot restore into {db} ({exc}); it is unchanged, try again") from exc
        finally:
            dst.close()
    finally:
        src.close()
    if not ok:
        _replace_file(db, source)
    faults.forget(str(db))
    return tasks, saved


def _save_current(db: Path) -> Path:
    """The current database, saved before a restore; a raw copy when SQLite cannot read it."""
    target = _new_name(db, "before-restore")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        copy_database(db, target)
    except (sqlite3.Error, StorageError) as exc:
        log.info("cannot back up %s through SQLite (%s); copying the files", db, exc)
        shutil.copy2(db, target)
        for suffix in ("-wal",):
            side = Path(f"{db}{suffix}")
            if side.exists():
                shutil.copy2(side, Path(f"{target}{suffix}"))
    return target


def _replace_file(db: Path, source: Path) -> None:
    fresh = db.with_name(db.name + ".restoring")
    fresh.unlink(missing_ok=True)
    copy_database(source, fresh)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, db)
