"""bench/run.py's report (bench/report.py): one table with every target of issue 16, each a
ratio with pass or miss; a measure that failed makes its targets miss (n/a), never a
traceback, and the others are still judged."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def report() -> Any:
    before = set(sys.modules)
    sys.path.insert(0, str(BENCH))
    try:
        import report as module  # type: ignore[import-not-found]  # bench/report.py: bench/ is scripts

        yield module
    finally:
        sys.path.remove(str(BENCH))
        for name in set(sys.modules) - before:  # bench's top-level names (settings, stats...) go
            where = getattr(sys.modules[name], "__file__", None)
            if where and Path(where).parent == BENCH:
                del sys.modules[name]


def results() -> dict[str, Any]:
    """A run's results, shaped as the measures write them (figures made up)."""
    calls = {op: {"p50_ms": 1.0, "p99_ms": 2.0} for op in ("new_item", "list_items", "complete_item")}
    return {
        "cold_start": {
            "ours": {"median_ms": 200.0, "import_only_median_ms": 150.0, "peak_rss_kb": 70_000},
            "tutorial_v1": {"median_ms": 500.0, "import_only_median_ms": 400.0, "peak_rss_kb": 50_000},
            "tutorial_v2": {"median_ms": 600.0, "import_only_median_ms": 500.0, "peak_rss_kb": 68_000},
        },
        "calls": {
            "ours": {**calls, "peak_rss_kb": 80_000},
            "tutorial_v1": {**calls, "peak_rss_kb": 50_000},
            "tutorial_v2": {**calls, "peak_rss_kb": 70_000},
            "ours_sync_normal": {**calls, "peak_rss_kb": 80_000},
        },
        "list_scaling": {
            "ours": {
                "10": {"p50_ms": 1.0, "limit_10": {"p50_ms": 1.0}},
                "100000": {"p50_ms": 1.4, "limit_10": {"p50_ms": 1.1}},
            },
            "tutorial_v1": {"10": {"p50_ms": 1.0}},
        },
        "text_bytes": {
            server: {"text_bytes_10": n, "text_bytes_50": 5 * n, "overhead_bytes_10": 1, "overhead_bytes_50": 5}
            for server, n in (("ours", 200), ("tutorial_v1", 500))
        },
        "http": {"ours_sqlite": {"calls_per_s": 780.0, "p50_ms": 9.0}, "tutorial": {"calls_per_s": 600.0}},
    }


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


def test_every_target_of_issue_16_is_judged(report: Any) -> None:
    rows = by_name(report.ratios(results()))
    expected = {
        "1 cold start ours/tutorial_v1": (0.4, "<= 0.5", True),
        "2 new_item p50 ours/tutorial_v1": (1.0, "<= 1.0", True),
        "2 complete_item p50 ours/tutorial_v1": (1.0, "<= 1.0", True),
        "2 list_items p50 ours/tutorial_v1": (1.0, "<= 1.0", True),
        "3 list page ours@100k/ours@10, limit=10": (1.1, "<= 1.2", True),
        "4 HTTP c=8 calls/s ours_sqlite/tutorial": (1.3, ">= 1.2", True),
        "5 peak RSS ours/tutorial_v2": (1.143, "<= 1.1", False),
    }
    for name, (value, target, passed) in expected.items():
        assert (rows[name]["value"], rows[name]["target"], rows[name]["pass"]) == (value, target, passed), name
    assert rows["list p50 ours@100k/ours@10"]["pass"] is True  # an older target, still judged
    assert rows["peak RSS at cold start ours/tutorial_v2"]["pass"] is None  # a diagnostic


def test_a_slower_http_server_misses_the_at_least_target(report: Any) -> None:
    run = results()
    run["http"]["ours_sqlite"]["calls_per_s"] = 660.0  # 1.1 x the tutorial
    row = by_name(report.ratios(run))["4 HTTP c=8 calls/s ours_sqlite/tutorial"]
    assert (row["value"], row["pass"]) == (1.1, False)


def test_a_failed_measure_misses_its_targets_and_the_table_says_so(report: Any) -> None:
    run = results()
    del run["http"]
    run["failed"] = {"http": "RuntimeError('ours_sqlite did not start within 30 s')"}
    run["ratios"] = report.ratios(run)
    rows = by_name(run["ratios"])
    assert rows["4 HTTP c=8 calls/s ours_sqlite/tutorial"]["value"] is None
    assert rows["4 HTTP c=8 calls/s ours_sqlite/tutorial"]["pass"] is False
    assert rows["1 cold start ours/tutorial_v1"]["pass"] is True  # the others are still judged
    table = report.table(run)
    line = next(line for line in table.splitlines() if line.startswith("4 HTTP"))
    assert line.split()[-4:] == ["n/a", ">=", "1.2", "MISS"], line
    assert "FAILED http: RuntimeError('ours_sqlite did not start within 30 s')" in table
    json.dumps(run)  # what run.py writes
