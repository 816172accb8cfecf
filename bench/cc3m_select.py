"""Benchmark: CC3M selection on a synthetic full-size phrase cache (3.3M captions, ~1M distinct phrases).

    PYTHONPATH=. python bench/cc3m_select.py [--captions 3318333] [--vocab 2500000] [--keep DIR] [--no-reference]

Makes a Zipf-like cache in the real chunk format (once; reused with --keep), then in fresh
subprocesses (so each peak RSS is its own) times (a) datagen's path: load the cache chunks +
`select_pool`, and (b) the obvious plain-Python implementation of the same recipe
(`select_pool_reference` over a dict of phrase lists, fed from the same cache). Prints seconds,
peak memory, the ratio, and checks that both pools are identical. Targets: (a) <= 60 s, <= 4 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.cc3m.cache import DEFAULT_CHUNK_SIZE, PhraseCache

SYLLABLES = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]  # 80 syllables


def _word(i: int) -> str:
    out = []
    while True:
        out.append(SYLLABLES[i % 80])
        i //= 80
        if i == 0:
            return "".join(out)


def _cache(root: Path, captions: int) -> PhraseCache:
    return PhraseCache(
        root, input_sha256="synthetic", n_rows=captions, model="synthetic", chunk_size=DEFAULT_CHUNK_SIZE
    )


def make(root: Path, captions: int, vocab: int, seed: int = 0) -> None:
    """Zipf-like phrase sets: 1 + Poisson(2) phrases a caption, phrase rank r drawn with p ∝ 1/(r+5)."""
    cache = _cache(root, captions)
    if len(cache.done()) == cache.n_chunks:
        return
    rng = np.random.default_rng(seed)
    adjectives = ["", "red ", "old ", "small ", "wooden ", "young ", "happy ", "large ", "white ", "modern "]
    names = [f"{adjectives[i % 10]}{_word(i // 10)}" for i in range(vocab)]
    vocab_arr = pa.array(names, pa.string())
    weights = 1.0 / (np.arange(vocab) + 5.0)
    cdf = np.cumsum(weights / weights.sum())
    part = cache.part_dir(None)
    for c in range(cache.n_chunks):
        n = min(cache.chunk_size, captions - c * cache.chunk_size)
        counts = 1 + rng.poisson(2.0, n)
        codes = np.minimum(np.searchsorted(cdf, rng.random(int(counts.sum()))), vocab - 1)
        offsets = pa.array(np.concatenate(([0], np.cumsum(counts))).astype(np.int32))
        phrases = pa.ListArray.from_arrays(offsets, pc.take(vocab_arr, pa.array(codes)))
        rows = pa.array(np.arange(c * cache.chunk_size, c * cache.chunk_size + n), pa.int64())
        cache.write_table(part, c, pa.table({"row": rows, "phrases": phrases}), Counter(), n)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure(root: Path, captions: int, which: str) -> dict:
    from datagen.cc3m.select import select_pool, select_pool_reference

    base_mb = _peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    loaded = _cache(root, captions).load()
    t_load = time.perf_counter() - t0
    if which == "datagen":
        sel = select_pool(loaded.rows, loaded.phrases)
        pool = sel.pool.tolist()
        extra = {
            "unique_phrases": sel.unique_phrases,
            "kept": sel.kept_phrases,
            "capped": sel.sampled_phrases,
        }
    else:
        sets = dict(zip(loaded.rows.tolist(), loaded.phrases.to_pylist(), strict=True))
        del loaded
        pool = select_pool_reference(sets)
        extra = {}
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    digest = hashlib.sha256(np.asarray(pool, dtype=np.int64).tobytes()).hexdigest()[:16]
    return {"which": which, "seconds": round(total, 1), "cpu_seconds": round(cpu, 1), "load_seconds": round(t_load, 1), "peak_mb": round(_peak_mb()),
            "interpreter_mb": round(base_mb), "pool": len(pool), "pool_sha": digest, **extra}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--captions", type=int, default=3_318_333)  # rows in CC3M's Train_GCC-training.tsv
    ap.add_argument("--vocab", type=int, default=1_700_000)  # gives ~1.1M distinct phrases
    ap.add_argument("--keep", type=Path, help="cache root to create/reuse (default: a temp dir)")
    ap.add_argument("--no-reference", action="store_true", help="skip the slow plain-Python baseline")
    ap.add_argument("--measure", choices=["datagen", "reference"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="cc3m_select_bench_"))
    if args.measure:
        print(json.dumps(measure(root, args.captions, args.measure)))
        return
    print(
        f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times stretch under load; CPU times less)"
    )
    t = time.perf_counter()
    make(root, args.captions, args.vocab)
    print(
        f"synthetic cache: {args.captions:,} captions in {root} (made/checked in {time.perf_counter() - t:.0f} s)"
    )
    results = {}
    for which in ["datagen"] + ([] if args.no_reference else ["reference"]):
        cmd = [
            sys.executable,
            __file__,
            "--captions",
            str(args.captions),
            "--keep",
            str(root),
            "--measure",
            which,
        ]
        results[which] = r = json.loads(
            subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        )
        print(f"{which:>9}: {r['seconds']:6.1f} s wall, {r['cpu_seconds']:6.1f} s CPU (loading the cache: {r['load_seconds']} s wall), "
              f"peak RSS {r['peak_mb']:,} MB, pool {r['pool']:,} rows, sha {r['pool_sha']}")  # fmt: skip
    d = results["datagen"]
    print(
        f"distinct phrases {d['unique_phrases']:,}, kept (freq >= 3) {d['kept']:,}, capped at 100: {d['capped']:,}"
    )
    print(
        f"targets: <= 60 s -> {'OK' if d['seconds'] <= 60 else 'MISSED'}, <= 4096 MB -> {'OK' if d['peak_mb'] <= 4096 else 'MISSED'}"
    )
    if "reference" in results:
        ref = results["reference"]
        same = "identical" if ref["pool_sha"] == d["pool_sha"] else "DIFFERENT (bug!)"
        print(f"datagen vs plain Python: {ref['seconds'] / d['seconds']:.1f}x faster (CPU: {ref['cpu_seconds'] / d['cpu_seconds']:.1f}x), "
              f"{ref['peak_mb'] / d['peak_mb']:.1f}x less memory; pools {same}")  # fmt: skip


if __name__ == "__main__":
    main()
