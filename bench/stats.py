"""Statistics of the benchmark's samples, and the rotating order that keeps any server from always
going first."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of the samples, interpolated between the nearest ranks."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(samples: list[float]) -> dict[str, Any]:
    """n, p50, p99, mean and min of samples in seconds, as milliseconds."""
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 0.5) * 1000, 3),
        "p99_ms": round(percentile(samples, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "min_ms": round(min(samples) * 1000, 3),
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, value) of one call of fn."""
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def rotations(items: tuple[str, ...], rounds: int) -> Iterator[tuple[str, ...]]:
    """Round-robin orders that rotate, so no server always goes first."""
    for r in range(rounds):
        k = r % len(items)
        yield items[k:] + items[:k]
