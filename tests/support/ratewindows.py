"""A server-side request limit of N per window, the three ways real servers count it.

The fake server (support/fakeserver.py) admits each chat request through one of these, and the
limiter's simulation tests (tests/llm/test_ratelimit_windows.py) drive the same class on a virtual
clock, so both see one definition of "the server's limit". Every style answers `admit(now)` with
whether the request is taken, the `x-ratelimit-*` headers a server of that kind sends back
(`limit` is N per window, whatever the window), and for a refusal the `retry-after` seconds.

- `bucket`: a token bucket of N refilled at N per window, OpenAI's way; `reset` is the time until
  the bucket is full again.
- `fixed`: N per fixed window (the first one starts at the first request), the way many gateways
  count; `reset` is the time until the current window ends.
- `sliding`: at most N in any sliding window; `reset` is the time until the oldest counted request
  leaves the window (when the next slot frees up).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

STYLES = ("bucket", "fixed", "sliding")


@dataclass
class Verdict:
    admitted: bool
    headers: dict[str, str]
    retry_after: float = 0.0


@dataclass
class WindowLimit:
    n: int
    window: float
    style: str = "sliding"
    _log: collections.deque[float] = field(default_factory=collections.deque)
    _tokens: float = -1.0
    _last: float = 0.0
    _window_start: float | None = None
    _count: int = 0

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown rate-limit style {self.style!r} (one of {', '.join(STYLES)})")

    def admit(self, now: float) -> Verdict:
        if self.style == "bucket":
            return self._bucket(now)
        if self.style == "fixed":
            return self._fixed(now)
        return self._sliding(now)

    def _headers(self, remaining: float, reset: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.n),
            "x-ratelimit-remaining-requests": str(max(0, int(remaining))),
            "x-ratelimit-reset-requests": f"{max(reset, 0.0):.3f}s",
        }

    def _bucket(self, now: float) -> Verdict:
        rate = self.n / self.window
        if self._tokens < 0:
            self._tokens, self._last = float(self.n), now
        self._tokens = min(float(self.n), self._tokens + (now - self._last) * rate)
        self._last = now
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) / rate
            return Verdict(False, self._headers(0, (self.n - self._tokens) / rate), wait)
        self._tokens -= 1.0
        return Verdict(True, self._headers(self._tokens, (self.n - self._tokens) / rate))

    def _fixed(self, now: float) -> Verdict:
        if self._window_start is None or now >= self._window_start + self.window:
            start = now if self._window_start is None else self._window_start
            while now >= start + self.window:
                start += self.window
            self._window_start, self._count = start, 0
        reset = self._window_start + self.window - now
        if self._count >= self.n:
            return Verdict(False, self._headers(0, reset), reset)
        self._count += 1
        return Verdict(True, self._headers(self.n - self._count, reset))

    def _sliding(self, now: float) -> Verdict:
        while self._log and self._log[0] <= now - self.window:
            self._log.popleft()
        if len(self._log) >= self.n:
            wait = self._log[0] + self.window - now
            return Verdict(False, self._headers(0, wait), wait)
        self._log.append(now)
        return Verdict(True, self._headers(self.n - len(self._log), self._log[0] + self.window - now))
