"""Engine settings, request bodies and request keys: what a run sends and how it recognises finished work.

`GenerationParams` is what shapes a reply (model, temperature, max_tokens, seed): the one
generation config of live runs, `--batch` and `--dry-run`, and `request_body` the one builder of
the chat-completions body all three send or write. `EngineConfig` adds how requests are sent.

A request key is a hash of everything that determines the reply (sample id, rendered messages,
model, base URL, generation parameters, and with `--structured` the reply's JSON schema), so a re-run skips exactly the samples whose request is
unchanged and changing one parameter re-does only what it affects. The sample id is included so
two samples whose prompts happen to be identical are still two samples. With several `--base-url`
replicas only the first URL enters the key: replicas are assumed to serve the same model, and
adding or dropping one must not throw away finished work.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from dataclasses import asdict, dataclass, field
from typing import Any

from datagen.errors import ConfigError, UsageError
from datagen.llm.remote import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from datagen.prompts.vision import VisionOptions
from datagen.tasks.base import Job

# Every engine default, defined once (the CLI's option defaults read these).
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TEMPERATURE = 0.7
DEFAULT_MAX_TOKENS = 1024  # reply cap when neither --max-tokens nor the task's template sets one
DEFAULT_CONCURRENCY = 32
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_LOG_EVERY = 30.0  # seconds between progress lines when stderr is not a terminal


@dataclass
class GenerationParams:
    """What shapes a reply: sent in every request body and hashed into every request key."""

    model: str = DEFAULT_MODEL
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int | None = None  # None: each task's default
    seed: int | None = None  # sent as the API's `seed`
    # --image-input and its settings: whether (and how) each request shows the model its image
    vision: VisionOptions = field(default_factory=VisionOptions)


@dataclass
class EngineConfig(GenerationParams):
    """How a live or batch run sends its requests (and, inherited, what shapes the replies)."""

    base_urls: list[str] = field(default_factory=list)  # empty: $OPENAI_BASE_URL, else OpenAI
    api_key: str | None = None  # None: $OPENAI_API_KEY (a local server may need none)
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    rpm: float | None = None
    tpm: float | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # asks per sample when the reply is truncated or does not parse
    max_retries: int = DEFAULT_MAX_RETRIES  # HTTP retries per ask (429, 5xx, timeouts, dropped connections)
    shard: tuple[int, int] | None = None  # (K, N), K in 0..N-1
    quiet: bool = False
    log_every: float = DEFAULT_LOG_EVERY  # progress lines when stderr is not a terminal
    json_progress: bool = False  # progress and summary as JSON lines on stderr
    price_in: float | None = None
    price_out: float | None = None

    def __post_init__(self) -> None:
        origin = "--base-url"
        if not self.base_urls:
            if os.environ.get("OPENAI_BASE_URL"):
                origin = "OPENAI_BASE_URL"
            self.base_urls = [os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL]
        self.base_urls = [u.rstrip("/") for u in self.base_urls]
        for u in self.base_urls:
            # `localhost:8000/v1` (no scheme) would otherwise fail every request after its retries
            parts = urllib.parse.urlsplit(u)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise UsageError(
                    f"{origin} {u!r} is not an http:// or https:// URL",
                    hint="e.g. http://localhost:8000/v1",
                )
        if self.api_key is None:
            self.api_key = os.environ.get("OPENAI_API_KEY")
        if self.concurrency < 1:
            raise UsageError(f"--concurrency must be at least 1, got {self.concurrency}")
        if self.max_attempts < 1:
            raise UsageError(f"--max-attempts must be at least 1, got {self.max_attempts}")
        for name in ("rpm", "tpm"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise UsageError(f"--{name} must be positive, got {v}")
        if self.shard is not None:
            k, n = self.shard
            if n < 1 or not 0 <= k < n:
                raise UsageError(f"--shard {k}/{n}: need N >= 1 and K in 0..N-1")

    def check_can_send(self) -> None:
        """Before any request: OpenAI itself always needs a key (a local server may not)."""
        if not self.api_key and any("api.openai.com" in u for u in self.base_urls):
            raise ConfigError(
                "no API key for api.openai.com",
                hint="set OPENAI_API_KEY, pass --base-url for a local OpenAI-compatible server, "
                "or use --dry-run to only write the requests",
            )

    def public(self) -> dict[str, Any]:
        """The config as recorded in run.json: everything except the API key."""
        out = asdict(self)
        out.pop("api_key")
        out["api_key_set"] = bool(self.api_key)
        out["shard"] = f"{self.shard[0]}/{self.shard[1]}" if self.shard else None
        return out


def reply_cap(job: Job, params: GenerationParams) -> int:
    """`max_tokens` of `job`'s request: --max-tokens, else the task template's, else the default."""
    return params.max_tokens or job.max_tokens or DEFAULT_MAX_TOKENS


def request_body(job: Job, params: GenerationParams) -> dict[str, Any]:
    """The chat-completions body for `job`: the one shape a live run sends, a batch file holds and
    a dry run writes (so `--dry-run` output is exactly what `--batch` would upload)."""
    body: dict[str, Any] = {
        "model": params.model,
        "messages": job.messages,
        "max_tokens": reply_cap(job, params),
        "temperature": params.temperature,
    }
    if params.seed is not None:
        body["seed"] = params.seed
    if job.response_format is not None:  # --structured: the reply's JSON schema
        body["response_format"] = job.response_format
    return body


_PREFIX_CACHE: dict[tuple[tuple[Any, Any], ...], bytes] = {}
_LAST_PREFIX: list[Any] = []  # [(role, content) pairs, digest] of the last prefix seen


def _prefix_digest(messages: list[dict[str, Any]]) -> bytes:
    """Digest of every message but the last. The system message and few-shot examples are the same
    for every job of a task, so their digest is remembered (keyed by the strings themselves, whose
    hashes Python caches): keys for 150K jobs then cost a few µs each instead of ~30."""
    head = messages[:-1]
    last = _LAST_PREFIX
    if (
        last
        and len(last[0]) == len(head)
        and all(m.get("content") is c and m.get("role") is r for m, (r, c) in zip(head, last[0], strict=True))
    ):
        return last[1]  # the very same strings as the previous job's (tasks reuse the template's)
    prefix = tuple((m.get("role"), m.get("content")) for m in head)
    d = _PREFIX_CACHE.get(prefix)
    if d is None:
        if len(_PREFIX_CACHE) > 256:  # bounded: a run has one prefix per task (or per few-shot choice)
            _PREFIX_CACHE.clear()
        h = hashlib.blake2b(digest_size=16)
        for role, content in prefix:
            h.update(f"{role}\x1f{content}\x1e".encode())
        d = _PREFIX_CACHE[prefix] = h.digest()
    _LAST_PREFIX[:] = [prefix, d]  # (found or new) the next job most likely shares these strings
    return d


def request_key(job: Job, cfg: GenerationParams, base_url: str, images: str = "") -> str:
    """32 hex chars over sample id, model, base URL, generation parameters (exactly the values
    `request_body` sends) and every message; `images` describes the images a vision request
    sends (`engine.vision`: their digests, sizes and the encoding options), empty for text."""
    msgs = job.messages
    last = msgs[-1] if msgs else {}
    max_tokens = reply_cap(job, cfg)
    text = (
        f"{job.sample_id}\x1e{cfg.model}\x1f{base_url}\x1f{max_tokens}\x1f"
        f"{cfg.temperature}\x1f{cfg.seed}\x1e{last.get('role')}\x1f{last.get('content')}"
    )
    if job.response_format is not None:  # only then: text runs keep the keys they always had
        text += f"\x1e{_format_digest(job.response_format)}"
    if images:  # only then: text-only runs keep the keys they always had
        text += f"\x1eimages\x1f{images}"
    return hashlib.blake2b(_prefix_digest(msgs) + text.encode(), digest_size=16).hexdigest()


_FORMAT_DIGESTS: dict[int, tuple[dict[str, Any], str]] = {}


def _format_digest(fmt: dict[str, Any]) -> str:
    """Digest of a `response_format`; a task gives all its jobs the same dict, so it is computed
    once per task (keyed by identity, holding the dict so the id cannot be reused)."""
    hit = _FORMAT_DIGESTS.get(id(fmt))
    if hit is not None and hit[0] is fmt:
        return hit[1]
    if len(_FORMAT_DIGESTS) > 64:
        _FORMAT_DIGESTS.clear()
    digest = hashlib.blake2b(json.dumps(fmt, sort_keys=True).encode(), digest_size=8).hexdigest()
    _FORMAT_DIGESTS[id(fmt)] = (fmt, digest)
    return digest
