"""The one place that talks HTTP to OpenAI-compatible servers (the only module importing openai/tenacity).

Step in the flow: the runner hands us a request body; we send it to one of the configured endpoints
and hand back the reply text, finish reason, usage and rate-limit headers, or a classified failure.

Why it looks like this:
- `AsyncOpenAI(max_retries=0)`: exactly one retry policy (tenacity, below), never retries stacked
  on the SDK's own.
- One tuned HTTP client per endpoint: the SDK's aiohttp transport (`openai.DefaultAioHttpClient`)
  with a connection pool sized to `--concurrency`; httpx2's default pool costs ~1 ms CPU per request
  at 64 connections. The SDK and our hot path share this one client.
- The SDK builds the endpoint's URL and headers (auth, organisation/project, user agent) once; each
  chat request then goes out as a prepared request on that client and we `json.loads` the reply
  ourselves. Per request this skips the SDK's option models, URL/header merging, request-parameter
  transformation and response-model parsing: about 0.4 ms of CPU instead of ~0.9 ms through
  `sdk.post(..., cast_to=httpx2.Response)` and ~4 ms through `chat.completions.create` (figures in
  docs/engine.md, from bench/engine_bench.py). Files and batches go through the SDK's normal calls.
- Retry 429 / 408 / 5xx / timeouts / dropped connections / a 200 whose body is not valid JSON, with
  exponential backoff and jitter, honouring `retry-after-ms` / `retry-after`. Never 400/401/403/404.
- A 401/403/404 or a refused connection before an endpoint ever answered means the run is
  misconfigured: `FatalRemote` stops everything at once instead of failing every sample.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx2
import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from datagen.common import fastjson
from datagen.errors import redact
from datagen.llm.remote import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientHooks,
    Completion,
    FatalRemote,
    Gate,
    RequestFailed,
    classify_status,
)

_KEEP_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
    "x-ratelimit-limit",  # Together's names (requests)
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


@dataclass
class Endpoint:
    base_url: str
    sdk: openai.AsyncOpenAI
    http: httpx2.AsyncClient  # the same tuned client the SDK uses
    url: httpx2.URL  # <base_url>/chat/completions, parsed once
    headers: dict[str, str]  # the SDK's own default + auth headers, built once
    timeout: dict[str, float | None]
    answered: int = 0  # successful replies so far (fatal errors only count before the first)
    consecutive_failures: int = 0
    backoff_until: float = 0.0
    in_flight: int = 0


def classify(exc: BaseException, endpoint: Endpoint) -> RequestFailed | FatalRemote:
    """Map an exception from the SDK or its HTTP client to our retry decision."""
    where = f"{endpoint.base_url}"
    if isinstance(exc, openai.APIStatusError):
        return classify_status(
            exc.status_code,
            exc.response.headers,
            _error_message(exc.response),
            base_url=endpoint.base_url,
            answered=endpoint.answered,
        )
    if isinstance(exc, httpx2.TransportError):  # the hot path's errors, before the SDK wraps them
        wrapped: BaseException = (
            openai.APITimeoutError(request=exc.request)
            if isinstance(exc, httpx2.TimeoutException)
            else openai.APIConnectionError(request=exc.request)
        )
        wrapped.__cause__ = exc
        exc = wrapped
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        cause = exc.__cause__
        if _cannot_connect(exc):
            if endpoint.answered == 0:
                return FatalRemote(
                    f"{where}: cannot connect ({cause}) (is the server running? check --base-url)"
                )
            return RequestFailed(f"cannot connect: {cause}", retryable=True)
        if isinstance(exc, openai.APITimeoutError):
            return RequestFailed("timed out", retryable=True)
        return RequestFailed(f"connection error: {cause or exc}", retryable=True)
    return RequestFailed(f"{type(exc).__name__}: {exc}", retryable=False)


def _cannot_connect(exc: BaseException) -> bool:
    """Refused / unresolvable host, wherever it sits in the exception chain (the aiohttp transport
    reports a refused connection as a connect *timeout*, so the type alone does not tell)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, (ConnectionRefusedError, aiohttp.ClientConnectorError, httpx2.ConnectError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _error_message(response: httpx2.Response) -> str:
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        msg = err.get("message") if isinstance(err, dict) else None
        return str(msg or body)[:300]
    except Exception:
        return response.text[:300] if response.is_closed else ""


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, RequestFailed) and exc.retryable


def _wait(state: RetryCallState) -> float:
    """Exponential backoff with full jitter; a server's retry-after (plus a little jitter) wins."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RequestFailed) and exc.retry_after is not None:
        return min(exc.retry_after, 120.0) + random.uniform(0, 0.25)
    return random.uniform(0, min(30.0, 0.5 * 2 ** (state.attempt_number - 1)))


class ChatClient:
    """Sends chat-completion bodies to one or more endpoints, with one retry policy."""

    def __init__(
        self,
        base_urls: list[str],
        *,
        api_key: str | None,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = 64,
        max_retries: int = DEFAULT_MAX_RETRIES,
        hooks: ClientHooks | None = None,
    ) -> None:
        self._key = api_key or "no-key"  # local servers accept anything; the SDK wants a string
        self.max_retries = max_retries
        self.hooks = hooks or ClientHooks()
        self.endpoints = [self._endpoint(u, timeout, max_connections) for u in base_urls]

    def _endpoint(self, base_url: str, timeout: float, conns: int) -> Endpoint:
        limits = httpx2.Limits(max_connections=conns, max_keepalive_connections=conns)
        http = openai.DefaultAioHttpClient(limits=limits, timeout=timeout)
        sdk = openai.AsyncOpenAI(
            base_url=base_url, api_key=self._key, max_retries=0, timeout=timeout, http_client=http
        )
        headers = {k: v for k, v in {**sdk.default_headers, **sdk.auth_headers}.items() if isinstance(v, str)}
        headers["Content-Type"] = "application/json"
        url = httpx2.URL(str(sdk.base_url).rstrip("/") + "/chat/completions")
        return Endpoint(base_url, sdk, http, url, headers, httpx2.Timeout(timeout).as_dict())

    async def aclose(self) -> None:
        for ep in self.endpoints:
            await ep.sdk.close()

    def redact(self, text: str) -> str:
        return redact(text, (self._key,))

    def _retrying(self) -> AsyncRetrying:
        """The one retry policy: only retryable failures, backoff with jitter (`_wait`), and at most
        `max_retries` retries after the first attempt."""
        return AsyncRetrying(
            retry=retry_if_exception(_retryable),
            wait=_wait,
            stop=stop_after_attempt(self.max_retries + 1),
            reraise=True,
        )

    # ---- chat completions ----------------------------------------------------------------------
    async def complete(self, body: dict[str, Any], gate: Gate | None = None) -> Completion:
        """Send one chat-completion body (awaiting `gate`, the rate limiter, before every attempt);
        retry what is worth retrying; raise RequestFailed or FatalRemote."""
        async for attempt in self._retrying():
            with attempt:
                return await self._attempt(body, gate)
        raise AssertionError("unreachable")

    async def _pick(self) -> Endpoint:
        """The least busy endpoint that is not backed off (waiting for one if all are)."""
        while True:
            now = time.monotonic()
            ready = [ep for ep in self.endpoints if ep.backoff_until <= now]
            if ready:
                return min(ready, key=lambda ep: ep.in_flight)
            await asyncio.sleep(min(ep.backoff_until for ep in self.endpoints) - now)

    async def _attempt(self, body: dict[str, Any], gate: Gate | None) -> Completion:
        ep = await self._pick()
        if gate is not None:
            await gate()
        ep.in_flight += 1
        try:
            # The SDK's URL, headers and HTTP client, without rebuilding them per request (see above).
            request = httpx2.Request(
                "POST",
                ep.url,
                headers=ep.headers,
                content=fastjson.dumps_bytes(body),
                extensions={"timeout": ep.timeout},
            )
            resp = await ep.http.send(request)
            failure: RequestFailed | FatalRemote | None = None
            if resp.status_code >= 400:
                failure = classify_status(
                    resp.status_code,
                    resp.headers,
                    _error_message(resp),
                    base_url=ep.base_url,
                    answered=ep.answered,
                )
        except (httpx2.TransportError, openai.APIError) as e:
            failure = classify(e, ep)
        finally:
            ep.in_flight -= 1
        if isinstance(failure, FatalRemote):
            raise FatalRemote(self.redact(str(failure))) from None
        if failure is not None:
            self._mark_failure(ep, failure)
            raise failure from None
        try:
            data = fastjson.loads(resp.content)
            choice = data["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
            finish = choice.get("finish_reason") or "stop"
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            failure = RequestFailed(
                f"HTTP {resp.status_code} with a body that is not a chat completion: {resp.text[:120]!r}",
                status=resp.status_code,
                retryable=True,
            )
            self._mark_failure(ep, failure)
            raise failure from None
        ep.answered += 1
        ep.consecutive_failures = 0
        headers = {h: resp.headers[h] for h in _KEEP_HEADERS if h in resp.headers}
        usage = data.get("usage") or {}
        return Completion(text, finish, usage, headers, ep.base_url)

    def _mark_failure(self, ep: Endpoint, failure: RequestFailed) -> None:
        """An endpoint that keeps failing is rested (exponentially longer) so others take the load."""
        self.hooks.on_failure(failure)
        if not failure.retryable or failure.status == 429:
            return  # a 429 is pacing, handled by the limiter; a 400 is the request's fault
        ep.consecutive_failures += 1
        if ep.consecutive_failures >= 3 and len(self.endpoints) > 1:
            rest = min(60.0, 2.0 ** (ep.consecutive_failures - 3))
            ep.backoff_until = time.monotonic() + rest

    # ---- files and batches (OpenAI Batch API) ---------------------------------------------------
    async def upload_batch_file(self, path: Path) -> str:
        ep = self.endpoints[0]
        try:
            with open(path, "rb") as f:
                obj = await ep.sdk.files.create(file=(path.name, f.read()), purpose="batch")
        except Exception as e:
            raise self._batch_error("uploading " + path.name, e, ep) from None
        return obj.id

    async def create_batch(self, file_id: str, metadata: dict[str, str] | None = None) -> dict[str, Any]:
        ep = self.endpoints[0]
        try:
            b = await ep.sdk.batches.create(
                input_file_id=file_id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata=metadata,
            )
        except Exception as e:
            raise self._batch_error("creating the batch", e, ep) from None
        return b.model_dump()

    async def get_batch(self, batch_id: str) -> dict[str, Any]:
        ep = self.endpoints[0]
        async for attempt in self._retrying():
            with attempt:
                try:
                    return (await ep.sdk.batches.retrieve(batch_id)).model_dump()
                except Exception as e:
                    raise self._batch_error(f"polling batch {batch_id}", e, ep) from None
        raise AssertionError("unreachable")

    async def file_content(self, file_id: str) -> bytes:
        ep = self.endpoints[0]
        try:
            resp = await ep.sdk.files.content(file_id)
            return resp.content
        except Exception as e:
            raise self._batch_error(f"downloading {file_id}", e, ep) from None

    def _batch_error(self, what: str, e: Exception, ep: Endpoint) -> Exception:
        failure = classify(e, ep)
        if isinstance(failure, FatalRemote):
            return FatalRemote(self.redact(f"{what}: {failure}"))
        if failure.retryable:
            return failure
        return FatalRemote(self.redact(f"{ep.base_url}: {what} failed: {failure.reason}"))
