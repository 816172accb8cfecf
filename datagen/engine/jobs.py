"""Tasks + their input rows → the `JobSet` a run will send (shared by dry, live, batch and model-free runs).

Tasks whose input is not context records (see `Task.load_sources`) read their own; the context
records are only loaded when some task needs them, and at most once for all tasks of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from datagen.errors import InputError
from datagen.prompts.context import shared_renders
from datagen.tasks.base import JobSet, Task, TaskOptions
from datagen.tasks.registry import get_task


def build_jobs(
    tasks: list[str] | Mapping[str, Task],
    opts: TaskOptions,
    contexts: Callable[[], list[dict[str, Any]]],
    *,
    limit: int | None = None,
) -> JobSet:
    """Jobs (and refused inputs, and notes) of every task in order; `limit` keeps the first N
    input rows per task. `tasks` are names or the run's task objects by name."""
    chosen = tasks if isinstance(tasks, Mapping) else {name: get_task(name) for name in tasks}
    cache: list[list[dict[str, Any]]] = []

    def ctx() -> list[dict[str, Any]]:
        if not cache:
            cache.append(contexts())
        return cache[0]

    out = JobSet()
    seen: set[str] = set()
    with shared_renders():  # the tasks of one run render each record's text once
        for task in chosen.values():
            rows = task.load_sources(opts)
            if rows is None:
                rows = ctx()
            if limit is not None:
                rows = rows[:limit]
            planned = task.build_jobs(rows, opts)
            for job in planned.jobs:
                if job.sample_id in seen:
                    raise InputError(
                        f"two inputs give the same sample id '{job.sample_id}'",
                        hint="ids in the source must be unique",
                    )
                seen.add(job.sample_id)
            out.extend(planned)
    return out
