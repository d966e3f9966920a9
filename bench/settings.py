"""What bench/run.py measures and how much of it: the servers, the store sizes, the run counts of a
full and a `--quick` run, and the progress log (stderr)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

SERVERS = ("ours", "tutorial_v1", "tutorial_v2")
OURS_LIMIT10 = "ours_limit10"  # diagnostic: list_items(limit=10), the same page at every store size
OURS_NORMAL = "ours_sync_normal"  # diagnostic: ours with TODO_SYNC=normal, to show what fsync costs
OURS_SDK = "ours_sdk_path"  # diagnostic: ours with TODO_STDIO_FAST=0, every call through the SDK's dispatcher
SIZES = (10, 10_000, 100_000)
SETTLE_S = 0.05  # pause before a block of calls to another server, so one's after-work is not timed in the next


@dataclass(frozen=True)
class Settings:
    """Run counts and budgets of one run."""

    cold_runs: int
    warmup: int
    calls: int
    block: int
    list_reps: int
    list_budget_s: float
    baseline_100k_budget_s: float
    http_rounds: int  # rounds of the HTTP measure (each server measured once per round, at c=8)
    http_seconds: float  # seconds per HTTP measurement, after its warm-up
    http_warmup: float


FULL = Settings(
    cold_runs=7,
    warmup=30,
    calls=300,
    block=10,
    list_reps=60,
    list_budget_s=12.0,
    baseline_100k_budget_s=60.0,
    http_rounds=5,
    http_seconds=3.0,
    http_warmup=0.5,
)
QUICK = Settings(
    cold_runs=3,
    warmup=10,
    calls=60,
    block=10,
    list_reps=15,
    list_budget_s=3.0,
    baseline_100k_budget_s=0.0,
    http_rounds=3,
    http_seconds=1.5,
    http_warmup=0.5,
)


def log(message: str) -> None:
    """A progress line on stderr (stdout is the results)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
