"""`datagen audit --executor ray`: the per-sample checks as a Ray Data job; the run-wide ones stay here.

Step in the flow: the samples (already read by `inputs`) go into the object store in blocks, and
`map_batches` runs `collect.check_sample` on a pool of `SampleWorker` actors, each holding one copy
of the ground truth (shipped once per actor). What comes back per sample is its flags line, its
tallies and its tokens; `collect.collect` then runs the passes that need every sample at once on the
driver, in sample order: the near-duplicate MinHash + LSH clusters and the balance figures. So the
audit.json, flags.jsonl and report are the local run's exactly.

Where it stops scaling: the driver still reads every input and the ground truth, holds every flags
line, and signs and clusters every sample's text for near-duplicates on one core (docs/scale.md).
"""

from __future__ import annotations

import math
import pickle
from typing import Any

from datagen.audit.collect import Checked, Collected, check_sample, collect
from datagen.audit.inputs import Sample
from datagen.audit.truth import TruthIndex
from datagen.common.ray_cluster import ExecutorSpec, cluster
from datagen.tasks.neardup import MinHashSpec

BLOCK_ROWS = 2_000


class SampleWorker:
    """One actor of the pool: the ground truth, loaded once; per-sample checks on each batch."""

    def __init__(self, truth: TruthIndex) -> None:
        self.truth = truth

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        uids = batch.column("uid").to_pylist()
        samples = [pickle.loads(b) for b in batch.column("sample").to_pylist()]
        checked = [pickle.dumps(check_sample(s, self.truth), protocol=5) for s in samples]
        return {"uid": uids, "checked": checked}


def collect_ray(
    samples: list[Sample], truth: TruthIndex, spec: MinHashSpec, seed: int, executor: ExecutorSpec
) -> Collected:
    """`collect.collect` with its per-sample checks made on Ray."""
    import pyarrow as pa

    results: list[Checked | None] = [None] * len(samples)
    with cluster(executor) as ray:
        rows = max(1, min(BLOCK_ROWS, math.ceil(len(samples) / (2 * executor.workers))))
        refs = []
        for start in range(0, len(samples), rows):
            part = samples[start : start + rows]
            table = pa.table(
                {
                    "uid": pa.array([s.uid for s in part], pa.int64()),
                    "sample": pa.array([pickle.dumps(s, protocol=5) for s in part], pa.binary()),
                }
            )
            refs.append(ray.put(table))
        ds = ray.data.from_arrow_refs(refs).map_batches(
            SampleWorker,
            fn_constructor_kwargs={"truth": truth},
            batch_size=500,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=executor.workers),
            num_cpus=1,
        )
        for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
            for uid, blob in zip(
                batch.column("uid").to_pylist(), batch.column("checked").to_pylist(), strict=True
            ):
                results[uid] = pickle.loads(blob)
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:  # Ray returned every batch or raised; a gap would be a bug, never a silent hole
        raise RuntimeError(
            f"audit on Ray: {len(missing)} samples came back unchecked (first uid {missing[0]})"
        )
    return collect(samples, truth, spec, seed, checked=results)  # type: ignore[arg-type]
