"""The client-side limiter on its own: pacing, usage correction, header feedback, 429 pauses."""

from __future__ import annotations

import asyncio
import time

import pytest

from datagen.llm.ratelimit import CATCH_UP, MARGIN, RateLimiter, parse_duration


@pytest.mark.parametrize(
    "text, seconds",
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("0.25", 0.25), ("2m", 120.0)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_rejects_garbage():
    assert parse_duration("soon") is None


def _elapsed(limiter: RateLimiter, costs: list[int]) -> float:
    async def go() -> float:
        t0 = time.monotonic()
        for c in costs:
            await limiter.acquire(c)
        return time.monotonic() - t0

    return asyncio.run(go())


def test_tpm_paces_by_tokens():
    # 600,000 tokens/min = 10,000/s: five 1,000-token requests span 0.4 s (less the catch-up allowance)
    elapsed = _elapsed(RateLimiter(tpm=600_000, learn_from_headers=False), [1000] * 5)
    assert elapsed >= 4 * 0.1 / MARGIN - CATCH_UP - 0.01


def test_usage_correction_gives_back_overestimated_tokens():
    lim = RateLimiter(tpm=600_000, learn_from_headers=False)
    asyncio.run(lim.acquire(5000))  # estimated 5,000 tokens: the next slot is 0.5 s away
    lim.correct(5000, 100)  # the server says it used only 100
    assert _elapsed(lim, [100]) < 0.1


def test_rpm_paces_requests():
    elapsed = _elapsed(
        RateLimiter(rpm=600, learn_from_headers=False), [0] * 5
    )  # 10/s; one may catch up on a late start
    assert elapsed >= 3 * 0.1 / MARGIN - 0.01


def test_penalty_holds_every_sender():
    lim = RateLimiter()
    lim.penalize(0.3)
    assert _elapsed(lim, [0, 0]) >= 0.29


def test_spent_budget_waits_for_reset_with_or_without_a_given_limit():
    for lim in (RateLimiter(), RateLimiter(rpm=10**6, learn_from_headers=False)):
        lim.observe({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "300ms"})
        assert _elapsed(lim, [0]) >= 0.25


def test_the_limit_header_alone_is_not_a_pace():
    # "600" says nothing about the window (a second? a minute?): noted, but nothing waits for it
    lim = RateLimiter()
    lim.observe({"x-ratelimit-limit-requests": "600"})
    assert lim.limits == {"requests": 600} and lim.rpm is None
    assert _elapsed(lim, [0] * 20) < 0.1


def test_the_remaining_budget_is_spread_over_the_time_to_its_reset():
    # 5 left, resetting in 0.5 s: one every 0.1 s from the last send
    lim = RateLimiter()
    ticket = asyncio.run(lim.acquire())
    lim.observe({"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "0.5s"}, ticket)
    assert 0.35 <= _elapsed(lim, [0] * 5) <= 0.65


def test_only_the_first_request_goes_before_the_server_has_spoken():
    async def go() -> list[float]:
        lim = RateLimiter()
        t0 = time.monotonic()
        first = await lim.acquire()
        waiting = asyncio.ensure_future(lim.acquire())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # held until the first reply
        lim.observe({}, first)  # a server without rate-limit headers: no pacing from now on
        await waiting
        rest = [await lim.acquire() for _ in range(50)]
        return [time.monotonic() - t0, len(rest)]

    elapsed, n = asyncio.run(go())
    assert n == 50 and elapsed < 0.5


def test_a_failed_first_request_lets_the_next_one_go_first():
    async def go() -> bool:
        lim = RateLimiter()
        await lim.acquire()
        waiting = asyncio.ensure_future(lim.acquire())
        await asyncio.sleep(0.05)
        lim.failed()  # e.g. a 500: no headers to learn from
        await asyncio.wait_for(waiting, 1.0)
        return True

    assert asyncio.run(go())
