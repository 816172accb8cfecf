"""`datagen generate ... --executor ray`: the driver of a generate run on a Ray cluster.

Step in the flow: the same `Job`s a local run sends are keyed and resumed here exactly as
`runner.LiveRun` does (done keys skipped, earlier filter rejections re-judged from their stored
reply), then the pending ones become a Ray Dataset (blocks of pickled jobs put into the object
store a few hundred at a time) and `map_batches` runs them on a fixed pool of `GenerateWorker`
actors, each running our engine. One `Coordinator` actor, pinned to this node, is the rate limiter
and the only writer of the run directory (see ray_coordinator.py), so the run directory is the one
a local run leaves. The driver shows the one progress display from the coordinator's counts,
rewrites run.json every few seconds, stops the job with the local run's one-line error when a
worker reports a fatal error, and on Ctrl-C stops the workers and leaves a resumable run.

Python API::

    from datagen.common.ray_cluster import ExecutorSpec
    from datagen.engine.ray_run import run_jobs_ray
    stats = run_jobs_ray(tasks, jobs, opts, cfg, "RUN_DIR", executor=ExecutorSpec("ray", workers=2))
"""

from __future__ import annotations

import collections
import dataclasses
import math
import pickle
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from datagen.common.ray_cluster import ExecutorSpec, cluster, driver_node
from datagen.engine.config import EngineConfig
from datagen.engine.ray_coordinator import Coordinator
from datagen.engine.ray_worker import GenerateWorker
from datagen.engine.runner import META_EVERY, LiveRun
from datagen.engine.work import Work, task_map
from datagen.errors import RemoteError
from datagen.rundir.lock import run_lock
from datagen.rundir.store import RunStore
from datagen.tasks.base import Job, Rejected, Task, TaskOptions

BLOCK_ROWS = 256  # jobs per object-store block; the driver holds one block's bytes at a time
TICK = 0.25


def run_jobs_ray(
    tasks: Task | Mapping[str, Task],
    jobs: Iterable[Job],
    opts: TaskOptions,
    cfg: EngineConfig,
    run_dir: str | Path,
    *,
    executor: ExecutorSpec,
    meta: dict[str, Any] | None = None,
    rejected: Iterable[Rejected] = (),
    limit: str = "shared",
) -> Any:
    """Generate every job not already done in `run_dir` on Ray; returns the run's `RunStats`.

    `limit="split"` gives each actor 1/N of --rpm/--tpm and its own limiter instead of the shared
    one (the alternative bench/ray_bench.py measures; see docs/scale.md for why shared is the default)."""
    cfg.check_can_send()
    if cfg.vision.images:  # actors run elsewhere: they find the images by absolute path
        cfg = dataclasses.replace(
            cfg, vision=dataclasses.replace(cfg.vision, images=str(Path(cfg.vision.images).absolute()))
        )
    meta = {**(meta or {}), "executor": executor.public()}
    run = LiveRun(task_map(tasks), opts, cfg, RunStore(run_dir), meta)
    with run_lock(run.store.dir):  # one writer per run directory, as for a local run
        pending = run.start(jobs, rejected)  # keyed, sharded and resumed: only what is left
        run.store.open()
        try:
            pending = run._too_long(run._rejudge_filtered(pending))
        finally:
            run.store.close()
        completed = False
        try:
            if pending:
                with cluster(executor) as ray:
                    _RayJob(ray, run, executor, split=limit == "split").execute(pending)
            completed = True
        finally:
            if run.images is not None:  # the driver's image probes (actors encode their own)
                run.images.close()
            run.finish(completed)  # drops superseded failure lines, writes run.json
    run.display.summary()
    return run.stats


class _RayJob:
    def __init__(self, ray: Any, run: LiveRun, executor: ExecutorSpec, split: bool = False) -> None:
        self.ray, self.run, self.executor = ray, run, executor
        self.split = executor.workers if split else 0
        self.workers = executor.workers
        self.per_actor = max(1, math.ceil(run.cfg.concurrency / self.workers))
        self._stop = threading.Event()

    def dataset(self, pending: list[Work]) -> Any:
        """The pending jobs as a Dataset of (request key, pickled job) rows, block by block."""
        import pyarrow as pa

        refs = []
        # enough blocks for every actor to have two batches at once, none bigger than BLOCK_ROWS
        rows = max(1, min(BLOCK_ROWS, math.ceil(len(pending) / (2 * self.workers))))
        for start in range(0, len(pending), rows):
            part = pending[start : start + rows]
            table = pa.table(
                {
                    "key": pa.array([w.key for w in part], pa.string()),
                    "job": pa.array([pickle.dumps(w.job, protocol=5) for w in part], pa.binary()),
                    "problem": pa.array([w.problem for w in part], pa.string()),  # an unsendable image
                }
            )
            refs.append(self.ray.put(table))
        return self.ray.data.from_arrow_refs(refs)

    def execute(self, pending: list[Work]) -> None:
        ray, run = self.ray, self.run
        coord = (
            ray.remote(Coordinator)
            .options(num_cpus=0, max_concurrency=1000, name=f"datagen-{run.run_id}", **driver_node(ray))
            .remote(str(run.store.dir), run.tasks, run.opts, run.cfg.rpm, run.cfg.tpm, run.stats)
        )
        self.coord = coord
        ds = self.dataset(pending).map_batches(
            GenerateWorker,
            fn_constructor_kwargs={
                "tasks": run.tasks, "opts": run.opts, "cfg": run.cfg, "coordinator": coord,
                "per_actor": self.per_actor, "split": self.split,
            },
            batch_size=4 * self.per_actor,  # two calls at once keep the semaphore queue full
            batch_format="pyarrow",
            zero_copy_batch=True,
            compute=ray.data.ActorPoolStrategy(
                size=self.workers, max_concurrent_calls_per_actor=2, enable_true_multi_threading=True
            ),
            num_cpus=0.5,
        )  # fmt: skip
        del pending
        self._ticker = threading.Thread(target=self._tick, daemon=True, name="datagen-progress")
        run.stats.started = time.monotonic()
        run.display.start()
        self._ticker.start()
        outcomes: collections.Counter[str] = collections.Counter()
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
                outcomes.update(batch.column("outcome").to_pylist())
                if self._fatal() is not None:
                    break
        except KeyboardInterrupt:
            self._shutdown()
            raise
        except Exception:
            self._shutdown()
            if (msg := self._fatal()) is not None:
                raise RemoteError(msg) from None
            raise
        self._shutdown()
        if (msg := self._fatal()) is not None:
            raise RemoteError(msg) from None

    # ---- the driver's side ------------------------------------------------------------------------
    def _fatal(self) -> str | None:
        return self._last.get("fatal") if hasattr(self, "_last") else None

    def _pull(self, final: bool = False) -> None:
        method = self.coord.close if final else self.coord.snapshot
        snap = self.ray.get(method.remote())
        self._last = snap
        s, got = self.run.stats, snap["stats"]
        for name in (
            "ok",
            "requests",
            "retries",
            "status_429",
            "prompt_tokens",
            "completion_tokens",
            "reasked",
        ):
            setattr(s, name, got[name])
        s.failed = collections.Counter(got["failed"])
        s.filtered = collections.Counter(got["filtered"])

    def _tick(self) -> None:
        last_meta = time.monotonic()
        while not self._stop.wait(TICK):
            try:
                self._pull()
                if self._last.get("fatal") is not None:
                    self.ray.get(self.coord.stop.remote())
            except Exception:  # the coordinator is gone (shutdown under way)
                return
            self.run.display.refresh()
            if time.monotonic() - last_meta > META_EVERY:
                self.run._write_meta(final=False)
                last_meta = time.monotonic()

    def _shutdown(self) -> None:
        """Stop the workers from starting anything new, then take the final counts and close the files."""
        self._stop.set()
        self._ticker.join()
        try:
            self.ray.get(self.coord.stop.remote())
            self._pull(final=True)
        finally:
            self.ray.kill(self.coord)
