"""Benchmark: noun-phrase extraction speed, datagen vs a tuned `nlp.pipe` loop vs a naive loop.

    PYTHONPATH=. python bench/cc3m_extract.py [--input TSV] [--rounds 2]

All three use the same loaded spaCy pipeline (en_core_web_sm, ner + lemmatizer disabled) on the
same captions (default: the 10,000 real CC3M validation lines in ../shared/data):
  naive     for c in captions: nlp(c), then the chunk texts
  pipe      for doc in nlp.pipe(captions, batch_size=B): the chunk texts (B tuned first)
  datagen   the real extraction step: read the TSV, chunk, nlp.pipe, normalise, write the cache
Rounds alternate pipe and datagen and keep each one's best, because the machine is shared.
Target: datagen >= 0.95x pipe.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from datagen.cc3m import nounphrases
from datagen.cc3m.pipeline import FilterOptions, extract, open_cache
from datagen.cc3m.reader import iter_items


def _default_input() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        p = parent / "shared" / "data" / "cc3m" / "Validation_GCC-1.1.0-Validation.tsv"
        if p.is_file():
            return p
    return here.parents[1] / "data" / "cc3m" / "sample.tsv"


CPU: dict[str, list[float]] = {}


def _rate(n: int, fn, name: str = "") -> float:  # type: ignore[no-untyped-def]
    """Captions per wall-clock second; also records captions per CPU second of this process under `name`
    (steadier than wall time when other jobs share the cores)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if name:
        CPU.setdefault(name, []).append(n / cpu)
    return n / wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=_default_input())
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--model", default=nounphrases.DEFAULT_MODEL)
    args = ap.parse_args()

    load_name, identity = nounphrases.resolve_model(args.model)
    nlp = nounphrases.load_model(load_name)
    captions = [it.caption for it in iter_items(args.input) if it.skip is None]
    n = len(captions)
    print(
        f"{n:,} captions from {args.input}; model {identity}, pipes {nlp.pipe_names}; load avg {os.getloadavg()[0]:.2f}"
    )
    for _ in nlp.pipe(captions[:500]):  # warm-up
        pass

    def pipe_loop(batch_size: int, items: list[str]) -> None:
        for doc in nlp.pipe(items, batch_size=batch_size):
            [c.text for c in doc.noun_chunks]

    tune = captions[:2000]
    rates = {b: _rate(len(tune), lambda b=b: pipe_loop(b, tune)) for b in (32, 128, 256, 512, 1024)}
    best = max(rates, key=lambda b: rates[b])
    print(
        "pipe batch_size tuning (captions/s): "
        + ", ".join(f"{b}: {r:.0f}" for b, r in rates.items())
        + f" -> {best}"
    )

    def naive() -> None:
        for c in captions:
            [ch.text for ch in nlp(c).noun_chunks]

    def ours(tmp: Path) -> None:
        o = FilterOptions(input=args.input, out=tmp, spacy_model=args.model, batch_size=best, quiet=True)
        cache = open_cache(o)
        extract(o, cache, cache.chunks_for(None))

    pipe_rates, ours_rates = [], []
    for _ in range(args.rounds):
        pipe_rates.append(_rate(n, lambda: pipe_loop(best, captions), "pipe"))
        with tempfile.TemporaryDirectory() as tmp:
            ours_rates.append(_rate(n, lambda tmp=tmp: ours(Path(tmp)), "datagen"))
    naive_rate = _rate(n, naive, "naive")
    pipe_r, ours_r = max(pipe_rates), max(ours_rates)
    print(f"naive nlp(c) loop : {naive_rate:7.0f} captions/s")
    print(
        f"tuned nlp.pipe    : {pipe_r:7.0f} captions/s  (rounds: {', '.join(f'{r:.0f}' for r in pipe_rates)})"
    )
    print(
        f"datagen extraction: {ours_r:7.0f} captions/s  (rounds: {', '.join(f'{r:.0f}' for r in ours_rates)})"
    )
    print(
        f"datagen / pipe = {ours_r / pipe_r:.3f} (target >= 0.95); datagen / naive = {ours_r / naive_rate:.2f}"
    )
    cpu = {k: max(v) for k, v in CPU.items()}
    print(
        f"per CPU-second: naive {cpu['naive']:.0f}, pipe {cpu['pipe']:.0f}, datagen {cpu['datagen']:.0f} captions; "
        f"datagen / pipe = {cpu['datagen'] / cpu['pipe']:.3f}, datagen / naive = {cpu['datagen'] / cpu['naive']:.2f}"
    )
    full = 3_318_333
    print(f"projected extraction of CC3M train ({full:,} rows) at this rate: {full / ours_r / 60:.0f} min")


if __name__ == "__main__":
    main()
