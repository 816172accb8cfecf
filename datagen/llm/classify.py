"""What went wrong with one HTTP attempt, in honest words, and when a server is not an API at all.

Step in the flow: `client.py` catches whatever the SDK's HTTP stack raises (or a reply it cannot
use) and asks `classify` for our retry decision (`remote.RequestFailed` / `FatalRemote`).
Labels say what happened: the aiohttp transport reports a connection the server closed as a
connect *timeout*, so the exception chain is read to tell "timed out" (no complete reply within
`--timeout`), "closed by the server", "reset" and "cannot connect" apart.

`NoAnswerYet` stops a run that has never had one usable answer: an HTML page with status 200,
an nginx 502 page, `{}`, a server that accepts and closes every connection or never finishes a
reply. After `limit` such attempts in a row (a small number, about `--concurrency`) the run ends
with one line naming what came back, instead of every sample's retries times `--timeout`.
"""

from __future__ import annotations

import asyncio
import random

import aiohttp
import httpx2
import openai
from tenacity import RetryCallState

from datagen.llm.remote import FatalRemote, RequestFailed, classify_status

NOT_AN_API = "this is not an OpenAI-compatible endpoint (check --base-url; it usually ends in /v1)"


def classify(exc: BaseException, base_url: str, answered: int) -> RequestFailed | FatalRemote:
    """Map an exception from the SDK or its HTTP client to our retry decision."""
    if isinstance(exc, openai.APIStatusError):
        return classify_status(
            exc.status_code,
            exc.response.headers,
            error_message(exc.response),
            base_url=base_url,
            answered=answered,
        )
    if isinstance(exc, (httpx2.TransportError, openai.APIConnectionError, asyncio.TimeoutError)):
        if _in_chain(exc, (ConnectionRefusedError, aiohttp.ClientConnectorError, httpx2.ConnectError)):
            if answered == 0:
                return FatalRemote(
                    f"{base_url}: cannot connect ({_root(exc)}) (is the server running? check --base-url)"
                )
            return RequestFailed(f"cannot connect: {_root(exc)}", retryable=True, kind="connect")
        if _in_chain(exc, (aiohttp.ServerDisconnectedError,)):
            return RequestFailed(
                "connection closed by the server before a reply", retryable=True, kind="closed"
            )
        if _in_chain(exc, (ConnectionResetError, aiohttp.ClientOSError, httpx2.ReadError)):
            return RequestFailed(f"connection reset: {_root(exc)}", retryable=True, kind="closed")
        if _in_chain(exc, (asyncio.TimeoutError, httpx2.TimeoutException, openai.APITimeoutError)):
            return RequestFailed("timed out", retryable=True, kind="timeout")
        return RequestFailed(f"connection error: {_root(exc)}", retryable=True, kind="closed")
    return RequestFailed(f"{type(exc).__name__}: {exc}", retryable=False)


def _in_chain(exc: BaseException, types: tuple[type[BaseException], ...]) -> bool:
    """Whether `exc` or anything that caused it is one of `types` (the transport re-wraps errors)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, types):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _root(exc: BaseException) -> str:
    """The innermost cause's text (what the OS or the transport said)."""
    seen = exc
    for _ in range(8):
        nxt = seen.__cause__ or seen.__context__
        if nxt is None:
            break
        seen = nxt
    return str(seen) or type(seen).__name__


def error_message(response: httpx2.Response) -> str:
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        msg = err.get("message") if isinstance(err, dict) else None
        return str(msg or body)[:300]
    except Exception:
        return response.text[:300] if response.is_closed else ""


def content_type(response: httpx2.Response) -> str:
    return response.headers.get("content-type", "no content type").split(";")[0].strip() or "no content type"


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, RequestFailed) and exc.retryable


def backoff(state: RetryCallState) -> float:
    """Exponential backoff with full jitter; a server's retry-after (plus a little jitter) wins."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RequestFailed) and exc.retry_after is not None:
        return min(exc.retry_after, 120.0) + random.uniform(0, 0.25)
    return random.uniform(0, min(30.0, 0.5 * 2 ** (state.attempt_number - 1)))


class NoAnswerYet:
    """Counts failed attempts in a row per endpoint while no endpoint has ever given a usable
    answer; the run ends when every endpoint has failed `limit` times in a row (one dead replica
    among live ones is rested by the client instead)."""

    def __init__(self, limit: int, timeout: float, endpoints: int = 1) -> None:
        self.limit = max(1, limit)
        self.timeout = timeout
        self.endpoints = max(1, endpoints)
        self.answered = False
        self.in_a_row: dict[str, int] = {}

    def ok(self) -> None:
        self.answered = True
        self.in_a_row.clear()

    def failed(self, base_url: str, f: RequestFailed) -> FatalRemote | None:
        """A `FatalRemote` ending the run once every endpoint failed `limit` attempts in a row
        before any answer."""
        if self.answered or not f.retryable or f.status == 429:
            return None  # a 429 is pacing; a 400 is one request's fault and gets its own failure line
        self.in_a_row[base_url] = self.in_a_row.get(base_url, 0) + 1
        spent = [n for n in self.in_a_row.values() if n >= self.limit]
        if len(spent) < self.endpoints:
            return None
        n = f"{self.in_a_row[base_url]} attempts in a row, none ever answered"
        if f.kind == "not_api":
            return FatalRemote(f"{base_url}: {f.reason} ({n}): {NOT_AN_API}")
        if f.kind == "closed":
            return FatalRemote(f"{base_url}: {f.reason} ({n}): {NOT_AN_API}")
        if f.kind == "timeout":
            return FatalRemote(
                f"{base_url}: no complete reply within --timeout {self.timeout:g} s ({n}) "
                "(is the server up and serving this model? a slow one needs a larger --timeout)"
            )
        return FatalRemote(f"{base_url}: {n}; the last: {f.reason}")
