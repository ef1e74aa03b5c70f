"""What the benchmarks share: a process's CPU time and memory (Linux /proc), and the event loop to run on."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_bytes(pid: int) -> int:
    """Resident set size of one process."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def loop_runner() -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """``uvloop.run`` when uvloop is installed (as the server uses it), else ``asyncio.run``."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


async def settled_cpu_seconds(pids: list[int], *, quiet: float = 0.01, every: float = 0.25) -> float:
    """The processes' CPU seconds once they are idle again: what a burst caused after its replies.

    A reply goes out before the work it set off (the push fan-out, the outbox relay) is done;
    CPU read at the last reply leaves that out. Waits until a ``every``-second interval
    adds at most ``quiet`` of its length in CPU, and returns the total at its start.
    """
    before = sum(cpu_seconds(pid) for pid in pids)
    while True:
        await asyncio.sleep(every)
        now = sum(cpu_seconds(pid) for pid in pids)
        if now - before <= quiet * every * len(pids):
            return before
        before = now
