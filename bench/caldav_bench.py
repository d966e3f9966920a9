"""CalDAV benchmark (issue 13, "Performance"): a phone's first sync, and its incremental syncs.

    .venv/bin/python bench/caldav_bench.py [--quick] [--out FILE]

- **First sync of a 1,000-task list** through the `caldav` client library, as DAVx5 or
  Thunderbird does it: a new client finds the principal and its lists, runs a sync-collection
  with no token (hrefs and ETags), then fetches the tasks with calendar-multiget, 100 per
  REPORT. Target: under 2 s. Also recorded: the library's own `load_objects=True`, which
  fetches with one GET per task (1,001 requests). Baseline in the same run: Radicale 3.9
  alone, with its own file storage, serving the same 1,000 VTODOs (the text our server serves),
  so the ratio ours/radicale_fs is what our storage plugin costs against Radicale's.
- **Incremental sync at 100,000 stored tasks**: `serve --dav` on the store of bench/run.py
  (100,000 realistic pending tasks, a third of them in `inbox`); one task of `inbox` changes
  (through the service, outside the timing, as an MCP call would), then a sync-collection
  REPORT with the previous token, which must list exactly that task. Timed as the round trip
  on loopback (an upper bound of the server time). Target: under 50 ms. The full sync of the
  same list (sync-collection with no token, hrefs and ETags only) gives the ratio
  incremental/full. Also recorded (info): the PROPFIND of the list's getctag and sync-token that
  clients send on every poll, and the list's ETags by PROPFIND Depth 1 (clients without
  sync-collection).

JSON goes to bench/results/caldav.json (or --out) and is printed, with the ratios; progress on
stderr; the servers' stderr in bench/results/logs/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import httpx2  # noqa: E402
import seed  # noqa: E402  (bench/seed.py: the titles, the seeded store of run.py)
import servers  # noqa: E402  (bench/servers.py: the servers' environment)

LOGS = BENCH / "results" / "logs"
LIST_SIZE = 1_000
BIG = 100_000
FIRST_SYNC_TARGET_S = 2.0
INCREMENTAL_TARGET_MS = 50.0
DAV = "{DAV:}"
MULTIGET = 100  # hrefs per calendar-multiget


def log(message: str) -> None:
    print(f"[caldav-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- servers ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def server(name: str, argv: list[str]) -> Iterator[str]:
    """Start a server on a free port; yields its base URL once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    LOGS.mkdir(parents=True, exist_ok=True)
    argv = [part.replace("{port}", str(port)) for part in argv]
    with open(LOGS / f"caldav-{name}.log", "ab") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=servers.server_env())
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {LOGS}/caldav-{name}.log")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.request("OPTIONS", base + "/", timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def ours(db: Path) -> list[str]:
    return [sys.executable, "-m", "mcp_server_todo", "serve", "--dav", "--port", "{port}", "--db", str(db)]


def radicale_fs(folder: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        "",
        "--server-hosts",
        "127.0.0.1:{port}",
        "--storage-filesystem-folder",
        str(folder),
        "--auth-type",
        "none",
        "--rights-type",
        "owner_only",
        "--web-type",
        "none",
        "--logging-level",
        "warning",
    ]


# ---- data ---------------------------------------------------------------------------------------------


def seed_list(db: Path, count: int) -> list[str]:
    """`count` realistic tasks in the local user's inbox, added through the service (100 per
    transaction); returns each task's VTODO resource as our server serves it."""
    from mcp_server_todo.service import TodoService
    from mcp_server_todo.store import open_store, sqlite_url
    from mcp_server_todo.transports.dav.vtodo import served_text

    store = open_store(sqlite_url(db))
    try:
        service = TodoService(store)
        items = [
            {
                "title": seed.title(i),
                "due": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}" if i % 5 < 3 else None,
                "tags": [seed.TAGS[i % len(seed.TAGS)]] if i % 3 else [],
                "priority": seed.PRIORITIES[i % len(seed.PRIORITIES)],
                "notes": "Remember the receipt." if i % 5 == 0 else "",
            }
            for i in range(count)
        ]
        cleaned = [{k: v for k, v in item.items() if v is not None} for item in items]
        tasks = [task for at in range(0, count, 100) for task in service.add_many(cleaned[at : at + 100])]
        uids = {task.id: str(task.uid) for task in tasks}
        return [served_text(task, uids) for task in tasks]
    finally:
        store.close()


def radicale_folder(folder: Path, resources: list[str]) -> None:
    """Radicale's own file storage holding the same VTODOs in user `local`'s list `inbox`."""
    collection = folder / "collection-root" / "local" / "inbox"
    collection.mkdir(parents=True)
    props = {"tag": "VCALENDAR", "C:supported-calendar-component-set": "VTODO", "D:displayname": "inbox"}
    (collection / ".Radicale.props").write_text(json.dumps(props), encoding="utf-8")
    for n, text in enumerate(resources):
        (collection / f"item-{n}.ics").write_text(text, encoding="utf-8")


# ---- measurements -------------------------------------------------------------------------------------


def first_sync(base: str, path: str, multiget: bool = True) -> tuple[float, int]:
    """A new client's first sync of one list: (seconds, tasks loaded). `multiget`: the tasks in
    calendar-multiget REPORTs of `MULTIGET` each, as DAVx5 and Thunderbird fetch them; else the
    `caldav` library's own `load_objects=True`, one GET per task."""
    import caldav

    started = time.perf_counter()
    client = caldav.DAVClient(url=base + path, username="local", password="x")
    [todos] = [c for c in client.principal().calendars() if c.get_display_name() == "inbox"]
    synced = list(todos.get_objects_by_sync_token(load_objects=not multiget, disable_fallback=True))
    if multiget:
        urls = [obj.url for obj in synced]
        synced = [obj for at in range(0, len(urls), MULTIGET) for obj in todos.multiget(urls[at : at + MULTIGET])]
    count = sum(1 for obj in synced if obj.data)
    return time.perf_counter() - started, count


def measure_first_sync(work: Path, runs: int) -> dict[str, Any]:
    db = work / "list-1000.db"
    resources = seed_list(db, LIST_SIZE)
    folder = work / "radicale-fs"
    radicale_folder(folder, resources)
    results: dict[str, Any] = {}
    for name, argv, path in (("ours", ours(db), "/dav/"), ("radicale_fs", radicale_fs(folder), "/")):
        with server(name, argv) as base:
            cold, count = first_sync(base, path)
            assert count == LIST_SIZE, (name, count)
            warm = [first_sync(base, path)[0] for _ in range(runs)]
            each, count = first_sync(base, path, multiget=False)
            assert count == LIST_SIZE, (name, count)
        results[name] = {"first_run_s": round(cold, 3), **summary_s(warm), "one_get_per_task_s": round(each, 3)}
        log(
            f"first sync of {LIST_SIZE:,} tasks, {name}: {results[name]['median_s']:.3f} s "
            f"(first run {cold:.3f} s; one GET per task {each:.3f} s)"
        )
    return results


def sync_report(http: httpx2.Client, path: str, token: str) -> tuple[str, int, float]:
    """One sync-collection REPORT: (new token, responses listed, seconds)."""
    body = (
        '<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    started = time.perf_counter()
    answer = http.request("REPORT", path, content=body, headers={"Content-Type": "application/xml"})
    seconds = time.perf_counter() - started
    assert answer.status_code == 207, answer.text[:300]
    root = ET.fromstring(answer.content)
    return root.findtext(DAV + "sync-token") or "", len(root.findall(DAV + "response")), seconds


def measure_incremental(work: Path, changes: int) -> dict[str, Any]:
    from mcp_server_todo.service import TodoService
    from mcp_server_todo.store import open_store, sqlite_url

    env = servers.Env(main_python=sys.executable, v1_python="", work=work, logs=LOGS)
    db = seed.seeded_db(env, BIG)
    store = open_store(sqlite_url(db))
    service = TodoService(store)
    ids = [task.id for task in service.list_tasks(project="inbox", limit=changes).items]
    try:
        with server("ours-100k", ours(db)) as base, httpx2.Client(base_url=base, timeout=120) as http:
            path = "/dav/local/inbox/"
            token, in_list, full = sync_report(http, path, "")
            log(f"full sync-collection of inbox ({in_list:,} tasks of {BIG:,}): {full * 1000:.0f} ms")
            times = []
            for n, task_id in enumerate(ids):
                service.update(task_id, title=f"Changed on the laptop {n}")
                token, listed, seconds = sync_report(http, path, token)
                assert listed == 1, listed
                times.append(seconds * 1000)
            _, _, full_again = sync_report(http, path, "")
            poll = propfind_ms(http, path)
            log(f"a client's poll (PROPFIND getctag + sync-token of inbox): {poll:.0f} ms")
            listing = propfind_ms(http, path, "1", "<D:getetag/>")
            log(f"the list's ETags (PROPFIND Depth 1 getetag of inbox): {listing:.0f} ms")
    finally:
        store.close()
    incremental = summary_ms(times)
    log(f"incremental sync after one change: median {incremental['median_ms']:.1f} ms, p90 {incremental['p90_ms']:.1f}")
    return {
        "stored_tasks": BIG,
        "list_tasks": in_list,
        "full_sync_ms": [round(full * 1000, 1), round(full_again * 1000, 1)],
        "incremental": incremental,
        "poll_propfind_ms": round(poll, 1),
        "etag_listing_ms": round(listing, 1),
    }


def propfind_ms(http: httpx2.Client, path: str, depth: str = "0", props: str = "<CS:getctag/><D:sync-token/>") -> float:
    """By default what a client sends on every poll before deciding to sync: the list's getctag
    and sync-token (PROPFIND, Depth 0); with Depth 1 and getetag, the ETag listing a client
    without sync-collection compares. Milliseconds."""
    body = (
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
        f"<D:prop>{props}</D:prop></D:propfind>"
    )
    started = time.perf_counter()
    answer = http.request("PROPFIND", path, content=body, headers={"Depth": depth, "Content-Type": "application/xml"})
    assert answer.status_code == 207, answer.text[:300]
    return (time.perf_counter() - started) * 1000


def summary_s(samples: list[float]) -> dict[str, Any]:
    return {"median_s": round(statistics.median(samples), 3), "max_s": round(max(samples), 3), "runs": len(samples)}


def summary_ms(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 2),
        "max_ms": round(ordered[-1], 2),
        "runs": len(ordered),
    }


def ratios(results: dict[str, Any]) -> list[dict[str, Any]]:
    first = results["first_sync"]
    inc = results["incremental_sync"]
    full_ms = min(inc["full_sync_ms"])
    rows = [
        ("first sync, 1,000 tasks: ours (s)", first["ours"]["median_s"], FIRST_SYNC_TARGET_S, "target"),
        ("first sync: ours / radicale_fs", first["ours"]["median_s"] / first["radicale_fs"]["median_s"], None, "info"),
        ("incremental sync at 100k (ms)", inc["incremental"]["median_ms"], INCREMENTAL_TARGET_MS, "target"),
        ("incremental / full sync at 100k", inc["incremental"]["median_ms"] / full_ms, None, "info"),
        ("poll PROPFIND at 100k (ms)", inc["poll_propfind_ms"], None, "info"),
        ("ETag listing PROPFIND at 100k (ms)", inc["etag_listing_ms"], None, "info"),
    ]
    return [
        {
            "name": name,
            "value": round(value, 4),
            "target": target,
            "ok": None if target is None else value <= target,
            "kind": kind,
        }
        for name, value, target, kind in rows
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "caldav.json")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="caldav-bench-") as tmp:
        work = Path(tmp)
        results: dict[str, Any] = {
            "machine": {"cpus": os.cpu_count(), "load_start": load, "python": platform.python_version()},
            "first_sync": measure_first_sync(work, 3 if args.quick else 7),
            "incremental_sync": measure_incremental(work, 10 if args.quick else 30),
        }
    results["machine"]["load_end"] = os.getloadavg()[0]
    results["ratios"] = ratios(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    for row in results["ratios"]:
        verdict = "info" if row["ok"] is None else ("ok" if row["ok"] else "MISSED")
        target = "" if row["target"] is None else f" (target ≤ {row['target']})"
        print(f"{row['name']:<40} {row['value']:>10}{target}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
