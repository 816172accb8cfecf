"""Near-duplicate detection with MinHash: the signatures `datagen audit` clusters, and the
`near_duplicate` generation filter that rejects a sample too similar to one the run already has.

A sample's text is what the model wrote (its answers), split by the object matcher's `tokenize`.
Its shingles are runs of `shingle` consecutive tokens (a text shorter than that is one shingle),
each hashed to 32 bits from per-token ids. Signatures follow datasketch's `affine32` scheme exactly
(its own permutation parameters, its MurmurHash3 pre-mix, `a·h + b mod 2^32`), computed for many
samples at once with numpy instead of one `MinHash.update_batch` call per sample; a test checks
they equal datasketch's own. Indexing (banding) is datasketch's `MinHashLSH`; a candidate pair
counts only when its estimated Jaccard similarity (share of equal signature values) reaches the
threshold.

datasketch is the `audit` extra (`pip install 'datagen[audit]'`); it is imported only when used.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datagen.common.lazy import lazy_module
from datagen.errors import UsageError
from datagen.tasks.objects.mentions import tokenize

if TYPE_CHECKING:
    import numpy as np

    from datagen.tasks.base import Job, QAPairs
else:
    np = lazy_module("numpy")  # only near-duplicate checks need it

NEAR_DUPLICATE = "near_duplicate"
DEFAULT_THRESHOLD = 0.8
DEFAULT_SHINGLE = 3
DEFAULT_NUM_PERM = 128
SEED = 1
_MIX = 0x9E3779B1  # odd multiplier combining token ids into a shingle hash (as uint32)
_CHUNK_SHINGLES = 8_000  # shingles per numpy pass: num_perm x this many uint32 (4 MB) stay in cache


def require_datasketch() -> Any:
    """The datasketch module, or a one-line usage error saying how to install it."""
    try:
        import datasketch
    except ImportError:
        raise UsageError(
            "near-duplicate detection needs the datasketch package",
            hint="pip install 'datagen[audit]'",
        ) from None
    return datasketch


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (the pre-mix datasketch's affine32 scheme applies)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


@dataclass(frozen=True)
class MinHashSpec:
    threshold: float = DEFAULT_THRESHOLD
    shingle: int = DEFAULT_SHINGLE
    num_perm: int = DEFAULT_NUM_PERM

    def check(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise UsageError(f"near-duplicate threshold must be in (0, 1], got {self.threshold}")
        if self.shingle < 1:
            raise UsageError(f"shingle size must be at least 1 token, got {self.shingle}")
        if self.num_perm < 16:
            raise UsageError(f"num_perm must be at least 16, got {self.num_perm}")


class Signer:
    """Token ids, shingle hashes and MinHash signatures for texts, many at a time."""

    def __init__(self, spec: MinHashSpec) -> None:
        spec.check()
        ds = require_datasketch()
        self.spec = spec
        a, b = ds.MinHash(num_perm=spec.num_perm, seed=SEED, scheme="affine32").permutations
        self._a = np.asarray(a, dtype=np.uint32)[:, None]
        self._b = np.asarray(b, dtype=np.uint32)[:, None]
        self._vocab: dict[str, int] = {}
        self._next = itertools.count(1)
        self._buf = np.empty((spec.num_perm, 0), dtype=np.uint32)

    def ids(self, tokens: list[str]) -> list[int]:
        """Stable small ids per token (first seen, first numbered); C-speed through `map`."""
        return list(map(self._vocab.setdefault, tokens, self._next))

    def shingle_hashes(self, ids: Sequence[int]) -> np.ndarray:
        """32-bit hashes of the text's shingles (one for a text shorter than the shingle size)."""
        k = self.spec.shingle
        arr = np.asarray(ids, dtype=np.uint32)
        if len(arr) == 0:
            return arr
        if len(arr) < k:
            arr = np.concatenate([arr, np.zeros(k - len(arr), dtype=np.uint32)])
        n = len(arr) - k + 1
        h = arr[:n].copy()
        for j in range(1, k):
            h = h * np.uint32(_MIX) + arr[j : j + n]
        return h

    def signatures(self, shingles: Sequence[np.ndarray]) -> np.ndarray:
        """One signature row (num_perm uint32) per shingle array; an empty text gets all 2^32-1."""
        out = np.full((len(shingles), self.spec.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        start = 0
        while start < len(shingles):
            stop, total = start, 0
            while stop < len(shingles) and (total == 0 or total + len(shingles[stop]) <= _CHUNK_SHINGLES):
                total += len(shingles[stop])
                stop += 1
            rows = [i for i in range(start, stop) if len(shingles[i])]
            if rows:
                hv = _fmix32(np.concatenate([shingles[i] for i in rows]))
                lengths = np.array([len(shingles[i]) for i in rows])
                offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
                # (num_perm, shingles) a*h + b, wrapping mod 2^32, computed in place in one buffer
                permuted = np.multiply(self._a, hv[None, :], out=self._buffer(len(hv)))
                np.add(permuted, self._b, out=permuted)
                out[rows] = np.minimum.reduceat(permuted, offsets, axis=1).T
            start = stop
        return out

    def _buffer(self, n: int) -> np.ndarray:
        if self._buf.shape[1] < n:
            self._buf = np.empty((self.spec.num_perm, max(n, _CHUNK_SHINGLES)), dtype=np.uint32)
        return self._buf[:, :n]

    def signature_of(self, text: str) -> np.ndarray:
        return self.signatures([self.shingle_hashes(self.ids(tokenize(text)))])[0]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures: the share of equal values."""
    return float(np.mean(a == b))


def answers_text(pairs: QAPairs) -> str:
    return "\n".join(a for _q, a in pairs)


class NearDuplicateTracker:
    """Rejects a sample whose answers are near-identical to an accepted sample of the same task.

    Like `DuplicateTracker`, call `check` last (it records the sample); `seed_later(load)` teaches it
    the samples a resumed run already holds. datasketch is loaded on the first `check`, so a run
    that never turns the filter on needs no extra package (`ensure_ready` checks earlier)."""

    name = NEAR_DUPLICATE

    def __init__(self, spec: MinHashSpec | None = None) -> None:
        self.spec = spec or MinHashSpec()
        self._signer: Signer | None = None
        self._lsh: Any = None
        self._sigs: dict[str, np.ndarray] = {}
        self._pending: Callable[[], Iterable[dict[str, Any]]] | None = None

    def ensure_ready(self) -> None:
        if self._signer is None:
            ds = require_datasketch()
            self._signer = Signer(self.spec)
            self._lsh = ds.MinHashLSH(threshold=self.spec.threshold, num_perm=self.spec.num_perm)
            self._lean = ds.LeanMinHash

    def seed_later(self, load: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self._pending = load

    def _load_pending(self) -> None:
        if self._pending is not None:
            load, self._pending = self._pending, None
            for rec in load():
                turns = rec.get("conversations") or []
                text = "\n".join(str(t.get("value", "")) for t in turns[1::2] if isinstance(t, dict))
                self._judge(str(rec.get("sample_id") or rec.get("id")), text)

    def _judge(self, key: str, text: str) -> str | None:
        assert self._signer is not None
        sig = self._signer.signature_of(text)
        if sig[0] == np.iinfo(np.uint32).max and not text.strip():
            return None
        lean = self._lean(seed=SEED, hashvalues=sig, scheme="affine32")
        best, best_key = 0.0, ""
        for other in self._lsh.query(lean):
            s = similarity(sig, self._sigs[other])
            if s > best:
                best, best_key = s, other
        if best >= self.spec.threshold and best_key != key:
            return f"near duplicate of sample {best_key} (estimated similarity {best:.2f})"
        if key not in self._sigs:
            self._sigs[key] = sig
            self._lsh.insert(key, lean, check_duplication=False)
        return None

    def check(self, pairs: QAPairs, job: Job) -> str | None:
        self.ensure_ready()
        self._load_pending()
        return self._judge(job.sample_id, answers_text(pairs))
