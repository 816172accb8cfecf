"""CC3M filtering end to end: fingerprint → (extract missing chunks) → select → write.

This is the Python API behind `datagen cc3m filter`; it owns the order of the steps and the
progress display, the modules it calls own the work.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.cc3m import nounphrases
from datagen.cc3m.cache import DEFAULT_CHUNK_SIZE, PhraseCache, extraction_summary, fingerprint
from datagen.cc3m.output import (
    DEFAULT_ID_PREFIX,
    build_records,
    check_plot,
    load_instructions,
    plot_histograms,
    write_outputs,
)
from datagen.cc3m.progress import DEFAULT_LOG_EVERY, ExtractProgress
from datagen.cc3m.reader import Item, check_input, iter_items, probe_input
from datagen.cc3m.select import SAMPLE_FROM, select_pool
from datagen.common.ray_cluster import ExecutorSpec
from datagen.errors import InputError, UsageError


@dataclass
class FilterOptions:
    input: Path
    out: Path
    min_freq: int = 3
    max_per_phrase: int = 100
    seed: int = 0
    sample_from: str = "all"
    spacy_model: str = nounphrases.DEFAULT_MODEL
    batch_size: int = 256
    chunk_size: int = DEFAULT_CHUNK_SIZE
    cache_dir: Path | None = None
    shard: tuple[int, int] | None = None
    select_only: bool = False
    id_prefix: str = DEFAULT_ID_PREFIX
    instructions: Path | None = None
    plot: bool = False
    quiet: bool = False
    log_every: float = DEFAULT_LOG_EVERY  # off a terminal: seconds between progress lines
    executor: ExecutorSpec | None = None  # --executor ray: extraction as a Ray Data job


def _check(o: FilterOptions) -> None:
    if o.out.exists() and not o.out.is_dir():
        raise UsageError(f"--out {o.out} is a file; give a folder for chat.json, metadata.json, stats.json")
    if o.min_freq < 1:
        raise UsageError("--min-freq must be at least 1")
    if o.max_per_phrase < 1:
        raise UsageError("--max-per-phrase must be at least 1")
    if o.sample_from not in SAMPLE_FROM:
        raise UsageError(f"--sample-from must be one of: {', '.join(SAMPLE_FROM)}")
    if o.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if o.plot:
        check_plot()


def open_cache(o: FilterOptions) -> PhraseCache:
    check_input(o.input)
    probe_input(o.input)  # a file that is not a caption table fails here, before any work
    sha, n_rows = fingerprint(o.input)
    _, model_id = nounphrases.resolve_model(o.spacy_model)
    root = o.cache_dir or (o.out / ".cc3m-cache")
    return PhraseCache(root, input_sha256=sha, n_rows=n_rows, model=model_id, chunk_size=o.chunk_size)


def _chunks(path: Path, chunk_size: int) -> Iterator[tuple[int, list[Item]]]:
    """The input's items grouped by chunk index, including chunks of only skips."""
    current, items = 0, list[Item]()
    for item in iter_items(path):
        c = item.row // chunk_size
        if c != current:
            if items:
                yield current, items
            current, items = c, list[Item]()
        items.append(item)
    if items:
        yield current, items


def extract(o: FilterOptions, cache: PhraseCache, todo: list[int]) -> dict[str, Any]:
    """Extract the chunks in `todo` into this run's part folder, with a progress bar."""
    load_name, _ = nounphrases.resolve_model(o.spacy_model)
    part = cache.part_dir(o.shard)
    if o.executor is not None and o.executor.is_ray:
        from datagen.cc3m.ray_extract import extract_ray

        total = sum(min(cache.chunk_size, cache.n_rows - c * cache.chunk_size) for c in todo)
        with ExtractProgress(o.quiet, total, o.log_every) as advance:
            return extract_ray(
                o.input, cache, part, todo, model=load_name, batch_size=o.batch_size, executor=o.executor,
                advance=advance,
            )  # fmt: skip
    nlp = nounphrases.load_model(load_name)
    wanted = set(todo)
    total = sum(min(cache.chunk_size, cache.n_rows - c * cache.chunk_size) for c in todo)
    done_rows, started = 0, time.perf_counter()
    with ExtractProgress(o.quiet, total, o.log_every) as advance:
        for c, items in _chunks(o.input, cache.chunk_size):
            if c not in wanted:
                continue
            good = [it for it in items if it.skip is None]
            skips = Counter(it.skip for it in items if it.skip is not None)
            sets = []
            for i, s in enumerate(
                nounphrases.extract(nlp, [it.caption for it in good], batch_size=o.batch_size)
            ):
                sets.append(s)
                if i % 256 == 255:
                    advance(256)
            advance(len(items) - (len(good) // 256) * 256)
            cache.write_chunk(part, c, [it.row for it in good], sets, skips, len(items))
            done_rows += len(items)
            wanted.discard(c)
    return extraction_summary(o.input, wanted, done_rows, started)


def run_filter(o: FilterOptions) -> dict[str, Any]:
    """Run the whole filter; returns the stats written to stats.json (or, with a shard, its summary)."""
    _check(o)
    instructions = load_instructions(o.instructions) if o.shard is None else []
    cache = open_cache(o)
    wanted = cache.chunks_for(o.shard)
    todo = cache.missing(wanted)
    if todo and o.select_only:
        raise InputError(
            f"noun-phrase cache {cache.dir} lacks {len(todo)} of {cache.n_chunks} chunks",
            hint="run the --shard jobs (or drop --select-only) first",
        )
    extraction = {
        "chunks": cache.n_chunks,
        "chunks_extracted": len(todo),
        "chunks_reused": len(wanted) - len(todo),
    }
    if todo:
        extraction.update(extract(o, cache, todo))
    if o.shard is not None:
        return {"shard": f"{o.shard[0]}/{o.shard[1]}", "cache": str(cache.dir), "extraction": extraction}

    loaded = cache.load()
    sel = select_pool(
        loaded.rows,
        loaded.phrases,
        min_freq=o.min_freq,
        max_per_phrase=o.max_per_phrase,
        seed=o.seed,
        sample_from=o.sample_from,
    )
    chat, meta = build_records(o.input, sel.pool, instructions, seed=o.seed, id_prefix=o.id_prefix)
    stats = {
        "input": str(o.input),
        "input_sha256": cache.identity["input_sha256"],
        "spacy_model": cache.identity["model"],
        "normalisation": cache.identity["normalisation"],
        "options": {
            "min_freq": o.min_freq,
            "max_per_phrase": o.max_per_phrase,
            "seed": o.seed,
            "sample_from": o.sample_from,
        },
        "rows_read": loaded.lines,
        "captions": len(loaded.rows),
        "skipped": sum(loaded.skips.values()),
        "skipped_by_reason": dict(sorted(loaded.skips.items())),
        "unique_phrases": sel.unique_phrases,
        "unique_phrases_kept": sel.kept_phrases,
        "phrases_capped": sel.sampled_phrases,
        "pool_size": len(sel.pool),
        "pool_unique_phrases": sel.pool_phrases,
        "extraction": extraction,
        "phrase_frequency_histogram_before": {str(k): v for k, v in sel.hist_before.items()},
        "phrase_frequency_histogram_after": {str(k): v for k, v in sel.hist_after.items()},
    }
    png = plot_histograms(sel.hist_before, sel.hist_after) if o.plot else None
    write_outputs(o.out, chat, meta, stats, png)
    return stats
