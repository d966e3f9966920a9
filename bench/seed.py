"""Realistic tasks for the benchmark: the titles every server gets, and our store seeded straight
into SQLite (tags, due dates, priorities, projects, a change-log entry each), cached in
bench/.cache keyed by the schema and this seeding code."""

from __future__ import annotations

import hashlib
import inspect
import os
import random
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from servers import Env
from settings import log

BENCH = Path(__file__).resolve().parent
SEED_VERSION = 1


TITLES = (
    "Buy groceries",
    "Call the dentist",
    "Pay the electricity bill",
    "Book flights to Lisbon",
    "Review Sam's pull request",
    "Renew passport",
    "Fix the kitchen tap",
    "Email Alice about the budget",
    "Order printer ink",
    "Prepare slides for the demo",
    "Schedule the team retro",
    "Clean the garage",
    "Water the plants",
    "Write the quarterly report",
    "Buy a birthday gift for Mum",
    "Update the team wiki",
    "Cancel the gym membership",
    "Back up the laptop",
    "Read chapter 3",
    "Submit the expense report",
    "Get a haircut",
    "Pick up dry cleaning",
    "Plan the weekend hike",
    "Reply to the landlord",
)
TAGS = ("work", "home", "errand", "urgent", "reading", "health", "finance", "family", "phone", "later")
PROJECTS = ("inbox", "inbox", "work", "home", "side-project", "garden")
PRIORITIES = ("none", "none", "low", "medium", "high")


def title(i: int) -> str:
    """Varied, realistic titles ("Buy groceries 17"); the same sequence for every server.
    Title 0 is the tutorial's own task, "Buy groceries"."""
    return TITLES[0] if i == 0 else f"{TITLES[i % len(TITLES)]} {i}"


RULES = ("FREQ=WEEKLY;BYDAY=MO", "FREQ=DAILY", "FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")


def seed_ours(path: Path, count: int) -> float:
    """Fill a fresh store with `count` realistic pending tasks (tags, due dates, priorities, projects,
    recurrence rules on one in ten, some notes), many per transaction; returns seconds taken.
    Each task gets its own change-log entry, as a new_item call would make."""
    from mcp_server_todo.model import Change, Priority, Status, Task
    from mcp_server_todo.store.sqlite import SQLiteStore

    started = time.perf_counter()
    rng = random.Random(count)
    store = SQLiteStore(path, synchronous="normal")
    try:
        position = 0
        while position < count:
            batch = min(5_000, count - position)
            with store.write() as tx:
                for i in range(position, position + batch):
                    stamp = _stamp(i, count)
                    fields: dict[str, Any] = {
                        "priority": Priority(rng.choice(PRIORITIES)),
                        "due": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                        if rng.random() < 0.6
                        else None,
                        "project": rng.choice(PROJECTS),
                        "tags": rng.sample(TAGS, rng.randint(0, 3)),
                        "notes": "Remember the receipt." if rng.random() < 0.2 else "",
                        "recur": rng.choice(RULES) if rng.random() < 0.1 else None,
                    }
                    if fields["recur"] and fields["due"] is None:
                        fields["due"] = "2026-12-07"
                    task = Task.model_construct(
                        id=tx.allocate_id(),
                        title=title(i),
                        notes=fields.get("notes", ""),
                        status=Status.pending,
                        priority=fields.get("priority", Priority.none),
                        due=fields.get("due"),
                        project=fields.get("project", "inbox"),
                        tags=fields.get("tags", []),
                        recur=fields["recur"],
                        parent_id=None,
                        created_at=stamp,
                        updated_at=stamp,
                        completed_at=None,
                    )
                    tx.put(task)
                    tx.log(Change(op="add", task_id=task.id, before=None, after=task, at=stamp))
                    tx._group = 0  # one change-log group per task, as one new_item call makes
            position += batch
    finally:
        store.close()
    return time.perf_counter() - started


def _stamp(i: int, count: int) -> str:
    """A creation time spread over 2025, task i of count."""
    seconds = int(i * (365 * 86400 / max(count, 1)))
    base = time.gmtime(1735689600 + seconds)  # 2025-01-01 onwards
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", base)


def seeded_db(env: Env, count: int) -> Path:
    """A realistic store of `count` tasks, cached in bench/.cache (keyed by the schema) across runs."""
    from mcp_server_todo.store.migrations import SQLITE_MIGRATIONS

    recipe = repr((SEED_VERSION, count, SQLITE_MIGRATIONS, TITLES, TAGS, PROJECTS, PRIORITIES))
    recipe += inspect.getsource(seed_ours) + inspect.getsource(_stamp)
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    cache = BENCH / ".cache" / f"seed-{count}-{key}.db"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        for stale in cache.parent.glob(f"seed-{count}-*.db*"):
            stale.unlink()
        partial = cache.with_suffix(".partial")
        for suffix in ("", "-wal", "-shm"):
            Path(str(partial) + suffix).unlink(missing_ok=True)
        seconds = seed_ours(partial, count)
        _checkpoint(partial)
        partial.rename(cache)
        log(f"seeded {count:,} tasks into our store in {seconds:.1f} s (cached as {cache.name})")
    target = env.fresh_db(f"ours-{count}")
    shutil.copyfile(cache, target)
    with open(target, "rb+") as copy:  # no writeback of the copy while we measure
        os.fsync(copy.fileno())
    return target


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the file and drop it: the cached copy is one file."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
