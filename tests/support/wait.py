"""Waiting until something holds, without sleeping longer than it takes: `wait_for` polls a check
in a thread of its own, `wait_until` does it inside an event loop. Both return the seconds waited
and fail with what was awaited once the time is up."""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio


def wait_for(check: Callable[[], bool], what: str, timeout: float = 10.0, poll: float = 0.05) -> float:
    """Seconds until `check()` holds (an AssertionError in it counts as not yet, and is raised
    as it is once `timeout` is over)."""
    start = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - start
        except AssertionError:
            if time.monotonic() - start > timeout:
                raise
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(poll)


async def wait_until(check: Callable[[], bool], timeout: float, poll: float = 0.01) -> float:
    """Seconds until `check()` holds, polled on the running event loop; TimeoutError after `timeout`."""
    start = time.monotonic()
    with anyio.fail_after(timeout):
        while not check():
            await anyio.sleep(poll)
    return time.monotonic() - start
