"""The stdio measures of bench/run.py: cold start (spawn to tools/list answered, with the import
floor and peak RSS), the text a model reads for a 10- and a 50-task list, and the per-call
latency of new_item, list_items and complete_item."""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Any

from seed import seed_ours, title
from servers import Env
from settings import OURS_NORMAL, OURS_SDK, SERVERS, SETTLE_S, Settings
from stats import rotations, summary_ms, timed
from stdio_client import Client, ServerError, compact_bytes, items_returned, task_id, text_bytes


def measure_cold_start(env: Env, settings: Settings) -> dict[str, Any]:
    """spawn -> initialize -> notifications/initialized -> tools/list response; also tools/list size."""
    db = env.fresh_db("ours-cold")
    seed_ours(db, 10)
    samples: dict[str, list[float]] = {s: [] for s in SERVERS}
    init: dict[str, list[float]] = {s: [] for s in SERVERS}
    rss: dict[str, list[int]] = {s: [] for s in SERVERS}
    tools_bytes: dict[str, int] = {}
    tools_count: dict[str, int] = {}
    imports: dict[str, list[float]] = {s: [] for s in SERVERS}
    # one discarded round first: byte-compiles and warms the page cache for every server
    for index, order in enumerate(rotations(SERVERS, settings.cold_runs + 1)):
        for server in order:
            python, module = env.import_floor(server)
            probe = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
            done = subprocess.run([python, "-c", probe], check=True, capture_output=True, text=True, env=env.env)
            if index > 0:
                imports[server].append(float(done.stdout.strip().splitlines()[-1]))
            with env.client(server, db) as client:
                client.initialize()
                initialized = time.perf_counter()
                result = client.request("tools/list", {})
                done = time.perf_counter()
                if index > 0:
                    samples[server].append(done - client.t_spawn)
                    init[server].append(initialized - client.t_spawn)
                    kb = client.peak_rss_kb()
                    if kb:
                        rss[server].append(kb)
                tools_bytes[server] = compact_bytes(result)
                tools_count[server] = len(result.get("tools", []))
    return {
        server: {
            "runs": len(samples[server]),
            "median_ms": round(statistics.median(samples[server]) * 1000, 1),
            "min_ms": round(min(samples[server]) * 1000, 1),
            "max_ms": round(max(samples[server]) * 1000, 1),
            "initialize_median_ms": round(statistics.median(init[server]) * 1000, 1),
            "import_only": env.import_floor(server)[1],
            "import_only_median_ms": round(statistics.median(imports[server]) * 1000, 1),
            "peak_rss_kb": int(statistics.median(rss[server])) if rss[server] else None,
            "tools_list_bytes": tools_bytes[server],
            "tools": tools_count[server],
        }
        for server in SERVERS
    }


def fill(client: Client, server: str, count: int) -> list[int]:
    """Add tasks until `count` are pending, with titles title(0..count-1): the tutorial starts with
    title(0), "Buy groceries", already there; ours starts empty."""
    first = 0 if server.startswith("ours") else 1
    calls = [("new_item", {"title": title(i)}) for i in range(first, count)]
    return [task_id(r) for r in client.call_many(calls)] if calls else []


def measure_text_bytes(env: Env) -> dict[str, Any]:
    """Text the model reads for a 10- and a 50-task list; identical title-only tasks on every server."""
    out: dict[str, Any] = {}
    for server in SERVERS:
        with env.client(server) as client:
            client.initialize()
            fill(client, server, 10)
            list10 = client.call("list_items")
            client.call_many([("new_item", {"title": title(i)}) for i in range(10, 50)], window=8)
            list50 = client.call("list_items")
        titles10 = sum(len(title(i).encode()) for i in range(10))
        titles50 = sum(len(title(i).encode()) for i in range(50))
        out[server] = {
            "text_bytes_10": text_bytes(list10),
            "text_bytes_50": text_bytes(list50),
            "mean_title_chars_50": round(sum(len(title(i)) for i in range(50)) / 50, 1),
            "title_bytes_10": titles10,
            "title_bytes_50": titles50,
            "overhead_bytes_10": text_bytes(list10) - titles10,
            "overhead_bytes_50": text_bytes(list50) - titles50,
            "content_blocks_10": len(list10.get("content", [])),
            "content_blocks_50": len(list50.get("content", [])),
            "result_bytes_10": compact_bytes(list10),
            "result_bytes_50": compact_bytes(list50),
            "structured_bytes_50": compact_bytes(list50.get("structuredContent"))
            if list50.get("structuredContent") is not None
            else None,
            "sample_text_10": "".join(b.get("text", "") for b in list10.get("content", []))[:400],
        }
    return out


def measure_calls(env: Env, settings: Settings) -> dict[str, Any]:
    """new_item -> list_items -> complete_item loops on a list of 10 pending tasks, interleaved in
    blocks across the servers (all stay up; an idle server costs nothing). Also runs ours with
    TODO_SYNC=normal, as a diagnostic of what the durable (fsync per write) default costs, and ours
    with TODO_STDIO_FAST=0 (every call through the SDK's dispatcher), what the short path saves."""
    servers = (*SERVERS, OURS_NORMAL, OURS_SDK)
    times: dict[str, dict[str, list[float]]] = {
        s: {"new_item": [], "list_items": [], "complete_item": []} for s in servers
    }
    clients = {s: env.client(s) for s in servers}
    counters = dict.fromkeys(servers, 1000)
    try:
        for server, client in clients.items():
            client.start()
            client.initialize()
            fill(client, server, 9)

        def iteration(server: str, record: bool) -> None:
            client = clients[server]
            counters[server] += 1
            t_new, created = timed(lambda: client.call("new_item", {"title": title(counters[server])}))
            t_list, listed = timed(lambda: client.call("list_items"))
            if items_returned(listed) != 10:
                raise ServerError(f"{server}: expected 10 pending tasks, got {items_returned(listed)}")
            new_id = task_id(created)
            t_done, _ = timed(lambda: client.call("complete_item", {"id": new_id}))
            if record:
                times[server]["new_item"].append(t_new)
                times[server]["list_items"].append(t_list)
                times[server]["complete_item"].append(t_done)

        for server in servers:
            for _ in range(settings.warmup):
                iteration(server, record=False)
        rounds = settings.calls // settings.block
        for order in rotations(servers, rounds):
            for server in order:
                time.sleep(SETTLE_S)
                for position in range(settings.block + 1):
                    iteration(server, record=position > 0)  # the first call after a pause is not kept
        rss = {s: c.peak_rss_kb() for s, c in clients.items()}
    finally:
        for client in clients.values():
            client.close()
    return {
        server: {**{op: summary_ms(t) for op, t in times[server].items()}, "peak_rss_kb": rss[server]}
        for server in servers
    }
