"""Limits learnt from headers alone, against every way a server counts its window (1 s, 10 s, 60 s).

The server side is support/ratewindows.py, the very class the loopback fake server admits requests
through. Windows of 10 s and 60 s need minutes of real time to show a pace, so these runs use a
virtual clock: an event loop whose `time()` jumps to the next timer instead of sleeping. The
limiter code is the real one, driven the way the runner drives it (acquire a ticket, send, observe
the reply's headers with that ticket; a 429 pauses everyone for its retry-after and is retried).
The real-HTTP runs of the engine against the fake server are in tests/engine/test_scale.py.
"""

from __future__ import annotations

import asyncio
import random
import selectors
from typing import Any

import pytest
from support.ratewindows import STYLES, WindowLimit

from datagen.llm.ratelimit import RateLimiter

WINDOWS = [(1.0, 30), (10.0, 300), (60.0, 1800)]


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock: when nothing is ready, time jumps to the next timer."""

    def __init__(self) -> None:
        super().__init__()
        self._now = 0.0
        real: selectors.BaseSelector = self._selector  # type: ignore[attr-defined]
        loop = self

        class Jumping:
            def select(self, timeout: float | None = None) -> Any:
                ready = real.select(0)
                if not ready and timeout:
                    loop._now += timeout
                return ready

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        self._selector = Jumping()  # type: ignore[assignment]

    def time(self) -> float:
        return self._now


def simulate(style: str, limit: int, window: float, *, latency: float, concurrency: int = 64) -> dict:
    """Keep the server busy for 3.5 windows; `share` is the pace it answered at after the first
    window (a token bucket starts full, so the first window is not the pace) over its limit."""
    span = 3.5 * window
    best = int(limit * 5)
    rng = random.Random(0)

    async def main() -> dict:
        loop = asyncio.get_running_loop()
        server = WindowLimit(limit, window, style)
        lim = RateLimiter(clock=loop.time)
        jobs = iter(range(best * 2))
        answered: list[float] = []
        refused = 0

        async def worker() -> None:
            nonlocal refused
            for _ in jobs:
                while True:
                    ticket = await lim.acquire(0)
                    verdict = server.admit(loop.time())
                    await asyncio.sleep(latency * rng.uniform(0.8, 1.2))
                    if verdict.admitted:
                        answered.append(loop.time())
                        lim.observe(verdict.headers, ticket)
                        break
                    refused += 1  # what the runner's failure hook and tenacity do with a 429
                    lim.failed()
                    lim.penalize(verdict.retry_after)
                    await asyncio.sleep(verdict.retry_after + rng.uniform(0, 0.25))

        workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
        start = loop.time()
        while not answered:
            await asyncio.sleep(0.001)
        first = answered[0]
        await asyncio.sleep(first + span + latency * 1.3 - loop.time())
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        end = first + span + latency * 1.3
        within = sum(1 for t in answered if t <= end)
        sustained = sum(1 for t in answered if first + window < t <= end)
        share = sustained / ((end - first - window) * limit / window)
        return {"share": share, "refused": refused, "answered": within, "start": start}

    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


CASES = [(w, lim, 0.02) for w, lim in WINDOWS] + [(w, lim, 0.2) for w, lim in WINDOWS if w >= 10]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("window, limit, latency", CASES)
def test_reaches_the_limit_of_any_window_without_429s(style, window, limit, latency):
    # Replies taking 200 ms against a 1 s window (a fifth of it) are left out: there a bucket or
    # sliding window runs at about 0.76 of its limit, as every budget is a fifth of a window old.
    got = simulate(style, limit, window, latency=latency)
    assert got["share"] >= 0.9, got
    assert got["refused"] <= 0.01 * got["answered"], got


def test_a_small_window_below_the_concurrency_is_not_burst_into():
    # 10 per second with 64 senders: only the first request goes before the server has spoken
    got = simulate("fixed", 10, 1.0, latency=0.05)
    assert got["refused"] == 0 and got["share"] >= 0.9, got


def test_the_virtual_clock_jumps():
    async def nap() -> float:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(3600)
        return loop.time()

    loop = VirtualTimeLoop()
    try:
        assert loop.run_until_complete(nap()) == pytest.approx(3600, abs=1e-6)
    finally:
        loop.close()
