"""Task names + context records → the list of jobs a run will send (shared by dry run and live runs).

`llava` stands for LLaVA's three tasks together. Tasks whose input is not context records (see
`Task.load_sources`) read their own; the context records are only loaded when a task needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datagen.errors import InputError
from datagen.tasks.base import Job, TaskOptions
from datagen.tasks.registry import get_task


def build_jobs(
    task_names: list[str],
    opts: TaskOptions,
    contexts: Callable[[], list[dict[str, Any]]],
    *,
    limit: int | None = None,
) -> list[Job]:
    """Jobs for every task in order; `limit` keeps the first N source rows per task.

    `contexts` is called (at most once) only if some task uses context records.
    """
    cache: list[list[dict[str, Any]]] = []

    def ctx() -> list[dict[str, Any]]:
        if not cache:
            cache.append(contexts())
        return cache[0]

    jobs: list[Job] = []
    seen: set[str] = set()
    for name in task_names:
        task = get_task(name)
        rows = task.load_sources(opts)
        if rows is None:
            rows = ctx()
        if limit is not None:
            rows = rows[:limit]
        for job in task.build_jobs(rows, opts):
            if job.sample_id in seen:
                raise InputError(
                    f"two inputs give the same sample id '{job.sample_id}'",
                    hint="ids in the source must be unique",
                )
            seen.add(job.sample_id)
            jobs.append(job)
    return jobs
