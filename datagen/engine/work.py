"""The engine's unit of work: a job with its request key, sharded and keyed before anything is sent.

Shared by live and Batch API runs (`runner`, `batch`); keys are `config.request_key`, bodies
`config.request_body`, built only for the jobs actually sent.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from typing import Any

from datagen.common.shard import in_shard
from datagen.engine.config import EngineConfig, GenerationParams, request_body, request_key
from datagen.engine.vision import Images
from datagen.prompts.images import ImageProblem
from datagen.tasks.base import Job, Task


class Work:
    """One job with its request key; the request body is only built for jobs actually sent.

    With images (`images` set) the body is built afresh each time it is asked for and never kept:
    it holds the encoded image, and a run must not hold every image at once. `problem` says why
    the job's image cannot be sent (it then fails at stage `input`, unsent)."""

    __slots__ = ("_body", "cfg", "images", "job", "key", "problem")

    def __init__(
        self,
        job: Job,
        key: str,
        cfg: GenerationParams,
        images: Images | None = None,
        problem: str | None = None,
    ) -> None:
        self.job, self.key, self.cfg = job, key, cfg
        self.images, self.problem = images, problem
        self._body: dict[str, Any] | None = None

    @property
    def body(self) -> dict[str, Any]:
        if self.images is not None:
            return self.images.body(self.job)
        if self._body is None:
            self._body = request_body(self.job, self.cfg)
        return self._body


def task_map(tasks: Task | Mapping[str, Task]) -> dict[str, Task]:
    """One task or a {name: task} mapping, as the mapping (jobs find their task by `job.task`)."""
    return {tasks.name: tasks} if isinstance(tasks, Task) else dict(tasks)


def prepare(jobs: Iterable[Job], cfg: EngineConfig, images: Images | None = None) -> list[Work]:
    """Shard and compute request keys (the first base URL stands for the replicas); with
    `images`, probe every image first (the keys cover their digests) and mark the unsendable.

    The cyclic GC is paused meanwhile: this loop only allocates acyclic objects, and with 150K live
    jobs each collection walks all of them (a third of the resume time, measured)."""
    base = cfg.base_urls[0]
    out = []
    if images is not None:
        return _prepare_images(jobs, cfg, images)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for job in jobs:
            if cfg.shard is None or in_shard(job.sample_id, cfg.shard):
                out.append(Work(job, request_key(job, cfg, base), cfg))
    finally:
        if was_enabled:
            gc.enable()
    return out


def _prepare_images(jobs: Iterable[Job], cfg: EngineConfig, images: Images) -> list[Work]:
    mine = [j for j in jobs if cfg.shard is None or in_shard(j.sample_id, cfg.shard)]
    images.probe_all(mine)
    out = []
    for job in mine:
        try:
            out.append(
                Work(job, request_key(job, cfg, cfg.base_urls[0], images.images_key(job)), cfg, images)
            )
        except ImageProblem as e:
            key = request_key(job, cfg, cfg.base_urls[0], "unsendable image")
            out.append(Work(job, key, cfg, images, problem=str(e)))
    return out
