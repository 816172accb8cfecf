"""Client-side request and token rate limits, so a run goes as fast as the server allows and no faster.

The runner calls `acquire(tokens)` before every HTTP attempt (retries included: the server counts
them too). Each limit is a GCRA pacer: a "theoretical arrival time" that advances by 60/rpm seconds
per request and by tokens*60/tpm per token, so requests are spaced evenly instead of bursting into
the server's window and collecting 429s. Three kinds of feedback keep the estimate honest:

- `correct(estimated, actual)`: the token estimate made before sending is replaced by the `usage`
  the server reports, moving the token pacer forward or back by the difference;
- `observe(headers)`: OpenAI-style `x-ratelimit-remaining-*` / `x-ratelimit-reset-*` headers; when
  the server says a budget is spent we wait for its reset, and when no `--rpm`/`--tpm` was given the
  server's advertised `x-ratelimit-limit-*` becomes the pace (with the requests already sent counted);
- `penalize(seconds)`: a 429's `retry-after` pauses every sender, not only the one that got it.

Limits are applied with a small safety margin (`MARGIN`): arrival jitter on the network would
otherwise push an exactly-paced stream one request over a sliding window now and then.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping

MARGIN = 0.98  # pace at 98% of the stated limit
CATCH_UP = 0.05  # seconds of token-pacing lateness a sender may make up
_DURATION = re.compile(
    r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$"
)


def parse_duration(text: str) -> float | None:
    """OpenAI's reset format ("1s", "6m0s", "20ms", "1h2m3.5s") or a bare number of seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    m = _DURATION.match(text)
    if not m or not any(m.groups()):
        return None
    h, mi, s, ms = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


class RateLimiter:
    """Paces requests to `rpm` requests and `tpm` tokens per minute (either may be None = unlimited)."""

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        learn_from_headers: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.learn = learn_from_headers
        self._clock = clock
        self._req_tat = 0.0  # theoretical arrival time of the next request
        self._tok_tat = 0.0
        self._blocked_until = 0.0
        self._first_send: float | None = None
        self._sent = 0
        self._tokens_sent = 0
        self._lock = asyncio.Lock()
        self.waited = 0.0  # seconds spent waiting, for the summary

    @property
    def active(self) -> bool:
        return bool(self.rpm or self.tpm or self._blocked_until or self.learn)

    async def acquire(self, tokens: int = 0) -> None:
        """Wait until one more request of about `tokens` tokens fits every limit, then take it."""
        if not (self.rpm or self.tpm) and self._blocked_until <= self._clock():
            self._take(tokens, self._clock())  # fast path: nothing to pace
            return
        async with self._lock:  # one sender at a time keeps the pacing first-come first-served
            while True:
                now = self._clock()
                ready = max(self._blocked_until, self._req_tat, self._tok_tat)
                if ready <= now:
                    break
                self.waited += ready - now
                await asyncio.sleep(ready - now)
            self._take(tokens, now)

    def _take(self, tokens: int, now: float) -> None:
        if self._first_send is None:
            self._first_send = now
        self._sent += 1
        self._tokens_sent += tokens
        # A sender woken a little late (a busy event loop or machine) may catch up by at most one
        # interval, so small delays do not add up to a slower pace; MARGIN absorbs that one request.
        if self.rpm:
            step = 60.0 / (self.rpm * MARGIN)
            self._req_tat = max(self._req_tat, now - step) + step
        if self.tpm:
            self._tok_tat = max(self._tok_tat, now - CATCH_UP) + tokens * 60.0 / (self.tpm * MARGIN)

    def correct(self, estimated: int, actual: int) -> None:
        """Replace a request's token estimate by what the server says it used."""
        self._tokens_sent += actual - estimated
        if self.tpm:
            self._tok_tat += (actual - estimated) * 60.0 / (self.tpm * MARGIN)

    def penalize(self, seconds: float) -> None:
        """The server said "slow down" (429 + retry-after): hold every sender for `seconds`."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Use OpenAI-style x-ratelimit-* response headers, when the server sends them."""
        get = headers.get
        if self.learn:
            if not self.rpm and (lim := _number(get("x-ratelimit-limit-requests"))):
                self.rpm = lim
                self._req_tat = self._backdated(60.0 / (lim * MARGIN), self._sent)
            if not self.tpm and (lim := _number(get("x-ratelimit-limit-tokens"))):
                self.tpm = lim
                self._tok_tat = self._backdated(60.0 / (lim * MARGIN), self._tokens_sent)
        for kind in ("requests", "tokens"):
            remaining = _number(get(f"x-ratelimit-remaining-{kind}"))
            reset = get(f"x-ratelimit-reset-{kind}")
            if remaining is not None and remaining <= 0 and reset:
                wait = parse_duration(reset)
                if wait:
                    self.penalize(wait)

    def _backdated(self, per_unit: float, units_sent: float) -> float:
        # A limit learnt mid-run: count what was already sent, as if it had been paced from the start.
        start = self._first_send if self._first_send is not None else self._clock()
        return start + units_sent * per_unit


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
