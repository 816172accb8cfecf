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
    elapsed = _elapsed(RateLimiter(tpm=600_000), [1000] * 5)
    assert elapsed >= 4 * 0.1 / MARGIN - CATCH_UP - 0.01


def test_usage_correction_gives_back_overestimated_tokens():
    lim = RateLimiter(tpm=600_000)
    asyncio.run(lim.acquire(5000))  # estimated 5,000 tokens: the next slot is 0.5 s away
    lim.correct(5000, 100)  # the server says it used only 100
    assert _elapsed(lim, [100]) < 0.1


def test_rpm_paces_requests():
    elapsed = _elapsed(RateLimiter(rpm=600), [0] * 5)  # 10/s; one may catch up on a late start
    assert elapsed >= 3 * 0.1 / MARGIN - 0.01


def test_penalty_holds_every_sender():
    lim = RateLimiter()
    lim.penalize(0.3)
    assert _elapsed(lim, [0, 0]) >= 0.29


def test_headers_teach_the_limit_and_spent_budget_waits_for_reset():
    lim = RateLimiter()
    lim.observe({"x-ratelimit-limit-requests": "600"})
    assert lim.rpm == 600
    lim2 = RateLimiter(rpm=10**6)
    lim2.observe({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "300ms"})
    assert _elapsed(lim2, [0]) >= 0.25
