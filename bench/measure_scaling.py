"""list_items latency at 10, 10,000 and 100,000 stored tasks (bench/run.py): ours on realistic
seeded stores, with its default page and with limit=10 (the same page at every size); the
tutorials seeded with pipelined new_item calls, returning their whole list."""

from __future__ import annotations

import time
from typing import Any

from measure_stdio import fill
from seed import seeded_db
from servers import Env
from settings import OURS_LIMIT10, SERVERS, SETTLE_S, SIZES, Settings, log
from stats import rotations, summary_ms, timed
from stdio_client import Client, compact_bytes, items_returned, text_bytes


def measure_list_scaling(env: Env, settings: Settings) -> dict[str, Any]:
    """list_items latency (default arguments) at 10, 10,000 and 100,000 stored tasks.

    Ours: realistic tasks seeded straight into SQLite, first page of 50 (and, as a diagnostic,
    limit=10: the same page at every size). Tutorials: seeded with pipelined new_item calls; they
    return the whole list. 100,000 for the tutorials only when their 10,000 seeding projects it
    under the budget (else null). Every server at every size is up at once and the calls rotate
    over all of them, so a ratio between sizes is not skewed by the box's load changing over time."""
    results: dict[str, dict[str, Any]] = {s: {} for s in SERVERS}
    clients: dict[tuple[str, int], Client] = {}
    probes: dict[str, tuple[Client, dict[str, Any]]] = {}
    try:
        for size in SIZES:
            client = env.client("ours", seeded_db(env, size))
            client.start()
            client.initialize()
            clients["ours", size] = client
            results["ours"][str(size)] = {"seed_s": None}
            probes[f"ours@{size}"] = (client, {})
            probes[f"{OURS_LIMIT10}@{size}"] = (client, {"limit": 10})
        for server in SERVERS[1:]:
            per_task = None
            for size in SIZES:
                if size == 100_000:
                    projected = float("inf") if per_task is None else per_task * size
                    if projected > settings.baseline_100k_budget_s:
                        results[server][str(size)] = None
                        results[server][f"{size}_skipped"] = (
                            f"seeding projected at {projected:.0f} s > budget {settings.baseline_100k_budget_s:.0f} s"
                        )
                        log(f"{server}: skipping 100,000 tasks (seeding projected at {projected:.0f} s)")
                        continue
                client = env.client(server)
                client.start()
                client.initialize()
                clients[server, size] = client
                seed_s, _ = timed(lambda c=client, s=server, n=size: fill(c, s, n))
                log(f"{server}: seeded {size:,} tasks via new_item in {seed_s:.1f} s")
                if size == 10_000:
                    per_task = seed_s / size
                results[server][str(size)] = {"seed_s": round(seed_s, 2)}
                probes[f"{server}@{size}"] = (client, {})

        samples: dict[str, list[float]] = {p: [] for p in probes}
        last: dict[str, Any] = {}
        for probe, (client, arguments) in probes.items():  # warm-up
            for _ in range(2):
                last[probe] = client.call("list_items", arguments, timeout=300)
        # blocks of back-to-back calls per probe, rotating; a pause before each block lets the
        # previous server finish its after-work, and the block's first call (waking up) is not kept
        spent = dict.fromkeys(probes, 0.0)
        block = 5
        rounds = -(-settings.list_reps // (block - 1))
        for order in rotations(tuple(probes), rounds):
            for probe in order:
                if len(samples[probe]) >= settings.list_reps:
                    continue
                if spent[probe] > settings.list_budget_s and len(samples[probe]) >= 5:
                    continue
                client, arguments = probes[probe]
                time.sleep(SETTLE_S)
                for position in range(block):
                    seconds, last[probe] = timed(lambda c=client, a=arguments: c.call("list_items", a, timeout=300))
                    spent[probe] += seconds
                    if position > 0:
                        samples[probe].append(seconds)
        for (server, size), client in clients.items():
            entry = results[server][str(size)]
            probe = f"{server}@{size}"
            entry.update(summary_ms(samples[probe]))
            entry["items_returned"] = items_returned(last[probe])
            entry["result_bytes"] = compact_bytes(last[probe])
            entry["text_bytes"] = text_bytes(last[probe])
            entry["peak_rss_kb"] = client.peak_rss_kb()
            if server == "ours":
                limited = f"{OURS_LIMIT10}@{size}"
                entry["limit_10"] = {
                    **summary_ms(samples[limited]),
                    "items_returned": items_returned(last[limited]),
                }
        for size in SIZES:
            log(
                f"list_items at {size:,}: "
                + ", ".join(
                    f"{s} p50 {results[s][str(size)]['p50_ms']:.2f} ms" for s in SERVERS if results[s][str(size)]
                )
            )
    finally:
        for client in clients.values():
            client.close()
    return results
