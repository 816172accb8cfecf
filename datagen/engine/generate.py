"""Run LLaVA's instruction tasks against a model: the library behind `datagen generate llava|conversation|...`.

Step in the flow: context records → the three LLaVA tasks' jobs (`--tasks`, `--limit-per-task`) →
the engine (`runner.run_jobs`) → `RUN_DIR/results.jsonl` / `failures.jsonl` / `run.json`. This module
adds what is specific to LLaVA around the engine: which tasks, the per-task options
(`--instructions`, `--image-token`, `--no-filter`), and teaching the duplicate filter the samples a
resumed run already holds. The CLI stays a thin shell over `llava_options` + `run_llava`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from datagen.engine.jobs import build_jobs
from datagen.engine.runner import EngineConfig, RunStats, run_jobs
from datagen.errors import UsageError
from datagen.tasks.base import Task, TaskOptions
from datagen.tasks.llava.replies import load_instructions
from datagen.tasks.llava.task import resume_duplicates
from datagen.tasks.registry import LLAVA_TASKS, canonical_task_name, expand_task_names, get_task

IMAGE_TOKEN_CHOICES = ("first", "last", "random")


def select_tasks(task: str, tasks: str | None = None) -> list[str]:
    """`llava` (optionally narrowed by `--tasks a,b`) or one task name → canonical task names."""
    if task != "llava":
        if tasks:
            raise UsageError("--tasks only goes with `generate llava`", hint=f"got task '{task}'")
        return expand_task_names(task)
    if not tasks:
        return list(LLAVA_TASKS)
    chosen: list[str] = []
    for part in (p.strip() for p in tasks.split(",")):
        if not part:
            continue
        name = canonical_task_name(part)
        if name not in LLAVA_TASKS:
            raise UsageError(
                f"--tasks: '{part}' is not a LLaVA task", hint=f"choose from {', '.join(LLAVA_TASKS)}"
            )
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise UsageError("--tasks is empty", hint=f"e.g. --tasks {','.join(LLAVA_TASKS)}")
    return chosen


def resolve_limit(limit: int | None, limit_per_task: int | None) -> int | None:
    """`--limit` and `--limit-per-task` mean the same (first N source rows per task); accept either."""
    if limit is not None and limit_per_task is not None and limit != limit_per_task:
        raise UsageError(f"--limit {limit} and --limit-per-task {limit_per_task} disagree", hint="give one")
    return limit_per_task if limit_per_task is not None else limit


def llava_options(
    *,
    task_names: list[str] | None = None,
    templates_dir: str | Path | None = None,
    seed: int = 0,
    image_token: str = "random",
    no_filter: Iterable[str] = (),
    instructions: str | Path | None = None,
) -> TaskOptions:
    """Validated TaskOptions (bad values are one-line usage/input errors before any request).

    `--no-filter` names are checked against the filters of `task_names` (default: the LLaVA tasks).
    """
    if image_token not in IMAGE_TOKEN_CHOICES:
        raise UsageError(
            f"--image-token {image_token!r} is not one of {', '.join(IMAGE_TOKEN_CHOICES)}",
        )
    extra: dict[str, Any] = {}
    if instructions is not None:
        load_instructions(instructions)  # fail now, before any request, if the list is unusable
        extra["instructions"] = str(instructions)
    known = {name for t in task_names or LLAVA_TASKS for name, _ in get_task(t).filters()}
    disabled = set(no_filter)
    for name in sorted(disabled - known):
        raise UsageError(
            f"--no-filter: unknown filter '{name}'", hint=f"choose from: {', '.join(sorted(known))}"
        )
    return TaskOptions(
        templates_dir=str(templates_dir) if templates_dir is not None else None,
        seed=seed,
        image_token=image_token,
        disabled_filters=disabled,
        extra=extra,
    )


def prepare_tasks(task_names: list[str], run_dir: str | Path) -> dict[str, Task]:
    """Fresh task objects for a run, their duplicate filters taught what `run_dir` already holds."""
    tasks: dict[str, Task] = {name: get_task(name) for name in task_names}
    resume_duplicates(tasks, run_dir)
    return tasks


def run_meta(opts: TaskOptions, limit: int | None) -> dict[str, Any]:
    """The task options worth recording in run.json's config."""
    return {
        "limit_per_task": limit,
        "image_token": opts.image_token,
        "task_seed": opts.seed,
        "disabled_filters": sorted(opts.disabled_filters),
        "instructions": opts.extra.get("instructions"),
    }


def run_llava(
    task_names: list[str],
    contexts: Callable[[], list[dict[str, Any]]],
    opts: TaskOptions,
    cfg: EngineConfig,
    run_dir: str | Path,
    *,
    limit_per_task: int | None = None,
    meta: dict[str, Any] | None = None,
) -> RunStats:
    """Generate every not-yet-done sample of `task_names` into `run_dir`; returns the run's stats."""
    jobs = build_jobs(task_names, opts, contexts, limit=limit_per_task)
    tasks = prepare_tasks(task_names, run_dir)
    meta = {"tasks": task_names, **run_meta(opts, limit_per_task), **(meta or {})}
    return run_jobs(tasks, jobs, opts, cfg, run_dir, meta=meta)
