"""What one call to a model server can come back as, and how an HTTP status maps onto it.

Step in the flow: `client.py` sends requests and turns every outcome into one of these: a
`Completion`, a `RequestFailed` (one attempt failed; `retryable` says whether to try again), or a
`FatalRemote` (the endpoint refuses the whole run). The runner and the Batch path handle them. Kept
apart from `client.py` because none of it needs the openai SDK: the policy is readable and testable
on its own, and the client module stays about sending.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

# Where requests go when neither --base-url nor $OPENAI_BASE_URL says otherwise. Defined here, away
# from client.py, so option parsing does not import the openai SDK (~2 s).
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 120.0  # seconds to wait for one reply before retrying
DEFAULT_MAX_RETRIES = 6  # HTTP retries per ask (429, 5xx, timeouts, dropped connections)


@dataclass
class Completion:
    text: str
    finish_reason: str
    usage: dict[str, int]
    headers: dict[str, str]
    base_url: str
    attempts: int = 1  # HTTP attempts this answer took (retries included)


class RequestFailed(Exception):
    """One HTTP attempt failed. `retryable` decides whether tenacity tries again."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retryable: bool,
        retry_after: float | None = None,
        kind: str = "status",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        # "status" (an HTTP error status), "not_api" (an answer that is not the API's), "timeout"
        # (no complete reply within --timeout), "closed" (dropped or reset), "connect"
        self.kind = kind
        self.attempts = 1  # HTTP attempts made for this ask, set by the client when it gives up


class FatalRemote(Exception):
    """The endpoint refuses the whole run (bad key, unknown model/URL, nothing listening)."""


Gate = Callable[[], Awaitable[None]]


@dataclass
class ClientHooks:
    """Callbacks into the rate limiter / statistics: `on_failure` sees every failed attempt."""

    on_failure: Callable[[RequestFailed], None] = field(default=lambda f: None)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms` (OpenAI) wins over `retry-after` (seconds or an HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return float(ra)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(ra) if ra else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


# A 400 whose message names one of these: the server does not take `--structured` requests. Every
# other request of the run carries the same response_format, so the run stops at once.
_STRUCTURED_WORDS = ("response_format", "json_schema", "guided_json", "structured output")


def rejects_response_format(code: int | None, msg: str) -> bool:
    """Whether an error status says the server refuses the request's `response_format`."""
    low = msg.lower()
    return code in (400, 422) and any(w in low for w in _STRUCTURED_WORDS)


def structured_refused(base_url: str, code: int | None, msg: str) -> FatalRemote:
    return FatalRemote(
        f"{base_url}: HTTP {code}, the server refuses response_format: {' '.join(msg.split())[:200]} "
        "(drop --structured to use the text format)"
    )


def classify_status(
    code: int, headers: Mapping[str, str], msg: str, *, base_url: str, answered: int
) -> RequestFailed | FatalRemote:
    """An HTTP error status → our retry decision. A 401/403/404 from an endpoint that has not
    `answered` yet means the run is misconfigured (FatalRemote); later, a passing hiccup. A 400
    refusing `response_format` is fatal whenever it comes (`--structured` cannot work there)."""
    if rejects_response_format(code, msg):
        return structured_refused(base_url, code, msg)
    if code in (401, 403, 404) and answered == 0:
        what = {401: "the API key was refused", 403: "access denied", 404: "not found"}[code]
        hint = {
            401: "check OPENAI_API_KEY (or unset it for a local server)",
            403: "check the key's permissions for this model",
            404: "check --model and --base-url (it usually ends in /v1)",
        }[code]
        return FatalRemote(f"{base_url}: HTTP {code}, {what}: {msg} ({hint})")
    retryable = code == 429 or code == 408 or code >= 500
    return RequestFailed(
        f"HTTP {code}: {msg}", status=code, retryable=retryable, retry_after=retry_after_seconds(headers)
    )
