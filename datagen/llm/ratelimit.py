"""Client-side request and token rate limits, so a run goes as fast as the server allows and no faster.

The runner calls `acquire(tokens)` before every HTTP attempt (retries included: the server counts
them too) and gets a ticket; when the reply comes back it hands the ticket and the reply's headers
to `observe`. Two mechanisms pace the sends:

- **Given limits** (`--rpm`, `--tpm`): a GCRA pacer per limit, a "theoretical arrival time" that
  advances by 60/rpm seconds per request and by tokens*60/tpm per token, so requests are spaced
  evenly instead of bursting into the server's window. `correct(estimated, actual)` replaces a
  request's token estimate by the `usage` the server reports.
- **Budgets learnt from headers** (`x-ratelimit-remaining-*` + `x-ratelimit-reset-*`, OpenAI's
  names; Together's unsuffixed `x-ratelimit-remaining` / `-reset` count as requests). A reply says
  "R more requests (or tokens) until the limit resets in T seconds". Whatever the server's window
  (1 s, 10 s, a minute) and whichever way it counts (a fixed window, a sliding one, a token
  bucket), spreading what is left evenly over the time until the reset is both safe and fast: the
  remaining budget, less everything sent after the reply's own request (the server had not counted
  those yet), is paced over T. That pace follows the server through the run: a fixed window's
  budget is used up just as it resets; a token bucket settles where its refill equals our pace (its
  limit); a sliding window sends one more request each time an old one leaves it. When the budget
  is spent we wait for the reset, then send one request to learn the new budget. The advertised
  `x-ratelimit-limit-*` is only noted (`limits`): alone it does not say over which window.
  Before the first reply only one request goes out (unless `--rpm`/`--tpm` paces them), so a run
  never bursts past a limit it has not been told yet; a server that sends no such headers is then
  not paced at all.
- `penalize(seconds)`: a 429's `retry-after` pauses every sender, not only the one that got it.

Limits are applied with a small safety margin (`MARGIN`): arrival jitter on the network would
otherwise push an exactly-paced stream one request over a window now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MARGIN = 0.98  # pace at 98% of the stated limit
CATCH_UP = 0.05  # seconds of token-pacing lateness a sender may make up
FIRST_REPLY_WAIT = 5.0  # seconds the other senders wait for the first reply's headers, at most
RESET_SLACK = 0.025  # seconds past an announced reset before counting on it (clocks and jitter)
MAX_RESET_SLACK = 0.4  # ... at most, after 429s said it was too little
PROBE_WAIT = 1.0  # after a reset, seconds to wait for the one request's reply before sending another
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


@dataclass(frozen=True)
class Ticket:
    """Which send this was: how many requests and tokens had gone out once it was taken (itself
    included), so a reply's budget can be net of what was sent after it."""

    sent: int
    tokens: int
    t: float = 0.0  # when it was sent: the server counted it then, so its `reset` runs from here


@dataclass
class Budget:
    """What one header pair said: `left` units until `resets_at`, counted from send number `at`."""

    left: float
    resets_at: float
    at: float  # the sender's running total (requests or tokens) when the reply's request went out
    limit: float | None = None
    probe: bool = False  # made up after a reset: let one request go at once, to hear the new budget


class RateLimiter:
    """Paces requests to `rpm` requests and `tpm` tokens per minute (either may be None = unlimited),
    and to the budgets the server's headers announce (unless `learn_from_headers` is off)."""

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
        self._req_tat = 0.0  # theoretical arrival time of the next request (given limits)
        self._tok_tat = 0.0
        self._blocked_until = 0.0
        self._sent = 0
        self._tokens_sent = 0
        self._last_send = -1e9
        self.budgets: dict[str, Budget] = {}  # "requests" / "tokens", from headers
        self.limits: dict[str, float] = {}  # the server's x-ratelimit-limit-*, as it last said
        self._granted: dict[str, float] = {}  # the last reset that let one more request go
        self._slack = RESET_SLACK  # grows with 429s, see `penalize`
        # Whether a first reply came back (with or without headers); with a given --rpm/--tpm the
        # first requests are paced by it and need not wait for one.
        self._heard = not learn_from_headers or bool(rpm or tpm)
        self._probe_out = False  # the first request is out and its reply not yet seen
        self._first_reply = asyncio.Event()
        self._news = asyncio.Event()  # set by every reply, so a waiting sender looks again
        self._lock = asyncio.Lock()
        self.waited = 0.0  # seconds spent waiting, for the summary

    @property
    def active(self) -> bool:
        return bool(self.rpm or self.tpm or self._blocked_until or self.learn)

    @property
    def wants_tokens(self) -> bool:
        """Whether token estimates matter (a `--tpm`, or a token budget learnt from headers)."""
        return bool(self.tpm) or "tokens" in self.budgets

    async def acquire(self, tokens: int = 0) -> Ticket:
        """Wait until one more request of about `tokens` tokens fits every limit, then take it."""
        if (
            self._heard
            and not (self.rpm or self.tpm or self.budgets)
            and self._blocked_until <= self._clock()
        ):
            return self._take(tokens, self._clock())  # fast path: nothing to pace
        async with self._lock:  # one sender at a time keeps the pacing first-come first-served
            if not self._heard and self._probe_out:
                # The first request is out: the others wait for its reply to say what the limits are.
                try:
                    await asyncio.wait_for(self._first_reply.wait(), FIRST_REPLY_WAIT)
                except asyncio.TimeoutError:
                    self._heard = True
            if not self._heard:
                self._probe_out = True  # this one goes first
            while True:
                now = self._clock()
                ready = max(
                    self._blocked_until, self._req_tat, self._tok_tat, self._budget_ready(tokens, now)
                )
                if ready <= now:
                    break
                if not self.budgets:  # only given limits: their pace does not change
                    self.waited += ready - now
                    await asyncio.sleep(ready - now)
                    continue
                news = self._news = asyncio.Event()
                t0 = self._clock()
                with contextlib.suppress(asyncio.TimeoutError):  # a reply may change the budget
                    await asyncio.wait_for(news.wait(), ready - now)
                self.waited += self._clock() - t0
            return self._take(tokens, now)

    def _budget_ready(self, tokens: int, now: float) -> float:
        """The earliest time the header budgets let one more request (of `tokens`) go."""
        ready = 0.0
        for kind, b in list(self.budgets.items()):
            sent = self._sent if kind == "requests" else self._tokens_sent
            if now >= b.resets_at:
                # The limit has reset since this was said: what was left is still there, and at
                # least one more (once per reset: several replies may tell of the same one); that
                # goes out at once, and its replies tell the new budget (if none comes back, one
                # more after PROBE_WAIT).
                unit = 1 if kind == "requests" else max(tokens, 1)
                fresh = b.resets_at > self._granted.get(kind, -1.0) + 1e-3
                left = max(0.0, b.left - (sent - b.at)) + (unit if fresh or b.probe else 0)
                self._granted[kind] = max(b.resets_at, self._granted.get(kind, -1.0))
                b = self.budgets[kind] = Budget(left, now + PROBE_WAIT, sent, b.limit, probe=True)
            cost = 1 if kind == "requests" else max(tokens, 1)
            left = b.left - (sent - b.at)
            if left < cost:
                ready = max(ready, b.resets_at)  # spent: wait for the reset
                continue
            if b.probe:
                continue
            # What is left, spread evenly over the time to the reset.
            step = (b.resets_at - now) * cost / left
            ready = max(ready, self._last_send + step)
        return ready

    def _take(self, tokens: int, now: float) -> Ticket:
        self._sent += 1
        self._tokens_sent += tokens
        ticket = Ticket(self._sent, self._tokens_sent, now)
        self._last_send = now
        # A sender woken a little late (a busy event loop or machine) may catch up by at most one
        # interval, so small delays do not add up to a slower pace; MARGIN absorbs that one request.
        if self.rpm:
            step = 60.0 / (self.rpm * MARGIN)
            self._req_tat = max(self._req_tat, now - step) + step
        if self.tpm:
            self._tok_tat = max(self._tok_tat, now - CATCH_UP) + tokens * 60.0 / (self.tpm * MARGIN)
        return ticket

    def correct(self, estimated: int, actual: int) -> None:
        """Replace a request's token estimate by what the server says it used."""
        self._tokens_sent += actual - estimated
        if self.tpm:
            self._tok_tat += (actual - estimated) * 60.0 / (self.tpm * MARGIN)

    def penalize(self, seconds: float) -> None:
        """The server said "slow down" (429 + retry-after): hold every sender for `seconds`.

        With header budgets in use a 429 also means a reset came later than we reckoned (the server
        started its clock when the request reached it, which a busy machine delays), so every reset
        is counted on a little later from now on."""
        self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))
        if self.budgets:
            self._slack = min(MAX_RESET_SLACK, self._slack * 2)

    def failed(self) -> None:
        """An attempt ended without a reply to learn from (an error): before the first reply, the
        next sender (or this one's retry) goes first instead."""
        if not self._heard and self._probe_out:
            self._probe_out = False
            self._first_reply.set()  # wakes the sender waiting on it, who becomes the next first
            self._first_reply = asyncio.Event()

    def observe(self, headers: Mapping[str, str], ticket: Ticket | None = None) -> None:
        """Learn from a reply's x-ratelimit-* headers (`ticket`: what `acquire` gave its request)."""
        if not self._heard:
            self._heard = True
            self._first_reply.set()
        self._news.set()
        get = headers.get
        now = self._clock()
        for kind, aliases in (("requests", ("-requests", "")), ("tokens", ("-tokens",))):
            for suffix in aliases:
                limit = _number(get(f"x-ratelimit-limit{suffix}"))
                if limit is not None:
                    self.limits[kind] = limit
                remaining = _number(get(f"x-ratelimit-remaining{suffix}"))
                reset = parse_duration(get(f"x-ratelimit-reset{suffix}") or "")
                if remaining is None:
                    continue
                if not self.learn:
                    if remaining <= 0 and reset:
                        self.penalize(reset)  # spent: wait for the reset even with a given limit
                    break
                if ticket is None:  # no ticket: as if nothing was sent after it
                    at = self._sent if kind == "requests" else self._tokens_sent
                else:
                    at = ticket.sent if kind == "requests" else ticket.tokens
                since = now if ticket is None else ticket.t
                resets_at = since + (reset if reset is not None else 1.0) + self._slack
                old = self.budgets.get(kind)
                # The newest word wins; a made-up budget gives way to any real one still current.
                if old is None or at >= old.at or (old.probe and resets_at > now):
                    self.budgets[kind] = Budget(remaining, resets_at, at, limit)
                break


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
