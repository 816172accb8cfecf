"""Step 4 of CC3M filtering: the concept-balanced selection (LLaVA's recipe, made exact).

1. freq(p) = number of captions whose phrase set contains p; keep phrases with freq >= min_freq.
2. One `random.Random(seed)`. Visit kept phrases in ascending (freq(p), p) order; caps = rows of
   the captions containing p, ascending (`sample_from="remaining"`: only rows not yet pooled); if
   len(caps) > max_per_phrase, caps = rng.sample(caps, max_per_phrase); add caps to the pool.
3. The pool, ascending.

`select_pool` does this with numpy/pyarrow on millions of captions; `select_pool_reference` is the
same recipe written out literally in plain Python, used to cross-check the fast path in tests and as
the simple baseline in the benchmark. Both give identical pools for identical inputs.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.errors import UsageError

SAMPLE_FROM = ("all", "remaining")


@dataclass
class Selection:
    pool: np.ndarray  # int64 row indices, ascending
    unique_phrases: int  # distinct phrases before the min-freq cut
    kept_phrases: int  # distinct phrases with freq >= min_freq
    sampled_phrases: int  # kept phrases whose caption list was cut down to max_per_phrase
    pool_phrases: int  # distinct phrases among the pooled captions
    hist_before: dict[int, int]  # freq -> number of phrases with that freq, over all captions
    hist_after: dict[int, int]  # the same, counted over the pooled captions only


def _histogram(freqs: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(freqs[freqs > 0], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def select_pool(
    rows: np.ndarray,
    phrases: pa.ListArray,
    *,
    min_freq: int = 3,
    max_per_phrase: int = 100,
    seed: int = 0,
    sample_from: str = "all",
) -> Selection:
    """The recipe above over `rows[i]` ↔ `phrases[i]` (phrase sets; duplicates inside a set are ignored)."""
    if sample_from not in SAMPLE_FROM:
        raise UsageError(f"sample_from must be one of: {', '.join(SAMPLE_FROM)}, got {sample_from!r}")
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(phrases, pa.ChunkedArray):
        phrases = phrases.combine_chunks()
    n_rows = int(rows.max()) + 1 if len(rows) else 0
    parent = pc.list_parent_indices(phrases).to_numpy()
    flat = pc.list_flatten(phrases)
    encoded = pc.dictionary_encode(flat)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    dictionary = encoded.dictionary
    entry_rows = rows[parent]

    # Postings: entries sorted by (phrase code, row); a (phrase, row) pair counts once. Rows coming
    # from the cache are ascending, so a stable sort by code alone already orders rows within a code
    # (and is faster than a two-key sort).
    if len(rows) < 2 or bool(np.all(rows[1:] > rows[:-1])):
        order = np.argsort(codes, kind="stable")
    else:
        order = np.lexsort((entry_rows, codes))
    codes, entry_rows = codes[order], entry_rows[order]
    if len(codes):
        first = np.ones(len(codes), dtype=bool)
        first[1:] = (codes[1:] != codes[:-1]) | (entry_rows[1:] != entry_rows[:-1])
        codes, entry_rows = codes[first], entry_rows[first]
    freq = np.bincount(codes, minlength=len(dictionary))
    starts = np.concatenate(([0], np.cumsum(freq)))

    # Visit order (freq, p): Arrow sorts strings by UTF-8 bytes, which is code-point order, i.e.
    # exactly Python's str ordering.
    rank = np.empty(len(dictionary), dtype=np.int64)
    rank[pc.sort_indices(dictionary).to_numpy()] = np.arange(len(dictionary))
    kept = np.nonzero(freq >= min_freq)[0]
    visit = kept[np.lexsort((rank[kept], freq[kept]))]

    rng = random.Random(seed)
    pool = np.zeros(n_rows, dtype=bool)
    sampled = 0
    if sample_from == "all":
        # Phrases at or under the cap add all their captions and draw nothing from the RNG, and the
        # pool is a union, so they can be added in one step; only the capped phrases, visited in
        # (freq, p) order, consume the RNG, exactly as in the one-by-one loop.
        small = visit[freq[visit] <= max_per_phrase]
        mask = np.zeros(len(dictionary), dtype=bool)
        mask[small] = True
        pool[entry_rows[mask[codes]]] = True
        for p in visit[freq[visit] > max_per_phrase]:
            caps = entry_rows[starts[p] : starts[p + 1]]
            pool[caps[rng.sample(range(len(caps)), max_per_phrase)]] = True
            sampled += 1
    else:
        for p in visit:
            caps = entry_rows[starts[p] : starts[p + 1]]
            caps = caps[~pool[caps]]
            if len(caps) > max_per_phrase:
                # rng.sample(range(n), k) picks the same positions as rng.sample(list_of_n, k).
                caps = caps[rng.sample(range(len(caps)), max_per_phrase)]
                sampled += 1
            pool[caps] = True

    in_pool = pool[entry_rows] if len(entry_rows) else np.zeros(0, dtype=bool)
    freq_after = np.bincount(codes[in_pool], minlength=len(dictionary))
    return Selection(
        pool=np.nonzero(pool)[0].astype(np.int64),
        unique_phrases=int((freq > 0).sum()),
        kept_phrases=len(kept),
        sampled_phrases=sampled,
        pool_phrases=int((freq_after > 0).sum()),
        hist_before=_histogram(freq),
        hist_after=_histogram(freq_after),
    )


def select_pool_reference(
    phrase_sets: Mapping[int, Iterable[str]],
    *,
    min_freq: int = 3,
    max_per_phrase: int = 100,
    seed: int = 0,
    sample_from: str = "all",
) -> list[int]:
    """The recipe written out literally (dicts, lists, sets). Slow; the specification in code."""
    captions_of: dict[str, list[int]] = defaultdict(list)
    for row in sorted(phrase_sets):
        for p in set(phrase_sets[row]):
            captions_of[p].append(row)
    freq = Counter({p: len(rs) for p, rs in captions_of.items()})
    rng = random.Random(seed)
    pool: set[int] = set()
    for p in sorted((p for p in freq if freq[p] >= min_freq), key=lambda p: (freq[p], p)):
        caps = captions_of[p]
        if sample_from == "remaining":
            caps = [r for r in caps if r not in pool]
        if len(caps) > max_per_phrase:
            caps = rng.sample(caps, max_per_phrase)
        pool.update(caps)
    return sorted(pool)
