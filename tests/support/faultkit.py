"""Real storage faults for the tests (no mocks): a tiny file system that fills up, a read-only
file or mount, a damaged page. Mounting needs root (CI runs as root); without it the test is
skipped with the reason, except `page_limit`, SQLite's own "database or disk is full" that
works everywhere."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.env import subprocess_env


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "1m") -> Iterator[Path]:
    """A private tmpfs of `size` mounted on `folder` for the block."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real full disk needs a tmpfs mount: run as root (CI does)")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True)


def fill(folder: Path) -> None:
    """Write a filler file until the disk holding `folder` has no space left."""
    block = b"\0" * 4096
    with open(folder / "filler", "wb", buffering=0) as out:
        try:
            while True:
                out.write(block)
        except OSError:
            pass
    for size in (512, 64, 1):  # the last crumbs too
        with contextlib.suppress(OSError), open(folder / f"filler-{size}", "wb", buffering=0) as out:
            while True:
                out.write(b"\0" * size)


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """`path` made read-only for everyone, root included (chattr +i; chmod when not root)."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not supported here: {done.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        return
    mode = path.stat().st_mode
    path.chmod(0o444)
    try:
        yield
    finally:
        path.chmod(mode)


def damage_tasks_page(db: Path) -> int:
    """Write garbage over one leaf page of the tasks table (the file is closed: no WAL left)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = [row[0] for row in conn.execute("SELECT pageno FROM dbstat WHERE name = 'tasks' AND pagetype = 'leaf'")]
    finally:
        conn.close()
    assert pages, "the tasks table has no leaf page to damage"
    page = pages[len(pages) // 2]
    with open(db, "r+b") as out:
        out.seek((page - 1) * size)
        out.write(b"\xde\xad\xbe\xef" * (size // 4))
    return int(page)


def run_cli(home: Path, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI as a process, at the default log level."""
    return subprocess.run(
        [sys.executable, "-m", "mcp_server_todo", *argv],
        capture_output=True,
        text=True,
        env=subprocess_env(home),
        input=stdin,
        timeout=60,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The CLI's error: exactly one line on stderr, no traceback, a non-zero exit."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]
