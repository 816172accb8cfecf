"""`datagen cc3m filter --executor ray`: noun-phrase extraction as a Ray Data job, into the same cache.

Step in the flow: the same missing chunks `pipeline.extract` would do become a Dataset of chunk
descriptors (index, first row, row count and, for TSV/JSONL, the byte offset of its first line, found
in one pass over the file). `map_batches` hands each to a pool of `PhraseWorker` actors, one spaCy
pipeline per actor, loaded once; an actor reads its rows straight from the input with the reader's
own rules (`reader.iter_range`: same row numbers, same skips) and extracts them with
`nounphrases.extract`. The driver writes each finished chunk with `PhraseCache.write_chunk` as it
arrives, so selection, shards and resume see exactly the cache a local run writes; a killed run
keeps its whole chunks. The input path must be readable from every node (shared storage, or a Ray on
this machine alone).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datagen.cc3m import nounphrases
from datagen.cc3m.cache import PhraseCache, extraction_summary
from datagen.cc3m.reader import input_format, iter_range, row_offsets
from datagen.common.ray_cluster import ExecutorSpec, cluster


class PhraseWorker:
    """One actor of the pool: its own spaCy pipeline, loaded once; one chunk per call."""

    def __init__(self, path: str, model: str, batch_size: int) -> None:
        self.path, self.batch_size = path, batch_size
        self.nlp = nounphrases.load_model(model)

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"chunk": [], "rows": [], "phrases": [], "skips": [], "lines": []}
        for d in batch.to_pylist():
            items = list(iter_range(self.path, d["start"], d["count"], d["offset"]))
            good = [it for it in items if it.skip is None]
            skips = Counter(it.skip for it in items if it.skip is not None)
            sets = list(
                nounphrases.extract(self.nlp, [it.caption for it in good], batch_size=self.batch_size)
            )
            out["chunk"].append(d["chunk"])
            out["rows"].append([it.row for it in good])
            out["phrases"].append(sets)
            out["skips"].append(json.dumps(dict(skips)))
            out["lines"].append(len(items))
        return out


def _descriptors(path: Path, cache: PhraseCache, todo: list[int]) -> list[dict[str, int]]:
    size = cache.chunk_size
    offsets = row_offsets(path, size) if input_format(path) != "parquet" else []
    return [
        {
            "chunk": c,
            "start": c * size,
            "count": min(size, cache.n_rows - c * size),
            "offset": offsets[c] if offsets else 0,
        }
        for c in todo
        if not offsets or c < len(offsets)
    ]


def extract_ray(
    path: Path,
    cache: PhraseCache,
    part: Path,
    todo: list[int],
    *,
    model: str,
    batch_size: int,
    executor: ExecutorSpec,
    advance: Callable[[int], None] = lambda n: None,
) -> dict[str, Any]:
    """Extract the chunks in `todo` on Ray into `part`; the same figures as `pipeline.extract`."""
    started = time.perf_counter()
    done_rows, wanted = 0, set(todo)
    work = _descriptors(path, cache, todo)
    expected = {d["chunk"]: d["count"] for d in work}
    with cluster(executor) as ray:
        ds = ray.data.from_items(work, override_num_blocks=max(1, len(work)))
        ds = ds.map_batches(
            PhraseWorker,
            fn_constructor_kwargs={"path": str(path.absolute()), "model": model, "batch_size": batch_size},
            batch_size=1,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=executor.workers),
            num_cpus=1,
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for d in batch.to_pylist():
                c = int(d["chunk"])
                if c not in wanted or d["lines"] != expected[c]:
                    continue  # a short chunk: the file changed since it was fingerprinted
                cache.write_chunk(
                    part, c, d["rows"], d["phrases"], Counter(json.loads(d["skips"])), d["lines"]
                )
                wanted.discard(c)
                done_rows += d["lines"]
                advance(d["lines"])
    return {**extraction_summary(path, wanted, done_rows, started), "executor": executor.public()}
