"""The one entry point behind `datagen generate`: tasks + source + options → a run directory.

Step in the flow: the chosen tasks build their jobs from the source (context records, or their own
input), then the run goes one of four ways: written as Batch API requests only (`dry-run`), sent
live (`runner`), sent through the Batch API (`batch`), or computed without a model (`direct`, for
tasks with `uses_llm = False`). Inputs a task refused before any call are recorded as failures on
every path; each task's `after_run` writes its side files. Nothing here names a task: adding one is
its module, a registry line and a template folder (docs/architecture.md).

Python API::

    from datagen.engine.generate import run_llava
    from datagen.engine.options import llava_options
    stats = run_llava(["conversation"], lambda: contexts, llava_options(), cfg, "RUN_DIR")
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.common.ray_cluster import ExecutorSpec
from datagen.common.shard import in_shard
from datagen.engine.config import EngineConfig, GenerationParams
from datagen.engine.dryrun import DryRunSummary, write_dry_run
from datagen.engine.failrate import check_max_failure_rate, judge_run
from datagen.engine.history import check_same_source
from datagen.engine.jobs import build_jobs
from datagen.engine.options import run_meta
from datagen.engine.progress import RunStats
from datagen.errors import UsageError
from datagen.rundir.lock import run_lock
from datagen.rundir.store import RunStore
from datagen.sources.load import SourceSpec, load_contexts
from datagen.sources.recorded import record_source
from datagen.tasks.base import JobSet, Rejected, Task, TaskOptions
from datagen.tasks.registry import get_task

Note = Callable[[str], None]


@dataclass
class GenerateResult:
    """What a `generate` run did: lines for stdout, and the stats of each kind of run it made."""

    lines: list[str] = field(default_factory=list)
    stats: list[RunStats] = field(default_factory=list)
    dry_run: DryRunSummary | None = None


def run_generate(
    task_names: list[str],
    *,
    source: SourceSpec,
    opts: TaskOptions,
    cfg: EngineConfig | GenerationParams,
    out: str | Path,
    mode: str = "live",
    limit: int | None = None,
    requested: str | None = None,
    note: Note = lambda _: None,
    command: str | None = None,
    append: bool = False,
    max_failure_rate: float | None = None,
    say: Note = lambda _: None,
    executor: ExecutorSpec | None = None,
) -> GenerateResult:
    """Build every job of `task_names` and run them in `mode` ("live", "batch" or "dry-run") into
    `out`; `note` receives what the user should read on stderr (skip report, notes, refusals),
    `say` the result lines for stdout (also in `GenerateResult.lines`).

    `command` (the command line) is recorded in run.json's `history`. A run directory that holds
    samples from another source is refused unless `append` (`--append`). Raises `RunFailedError`
    when every sample failed, or more than `max_failure_rate` of them. `executor` (`--executor
    ray`) sends the live requests from a Ray cluster instead of this process."""
    out = Path(out)
    check_max_failure_rate(max_failure_rate)
    if executor is not None and executor.is_ray and mode != "live":
        flag = "--dry-run" if mode == "dry-run" else "--batch"
        raise UsageError(f"--executor ray sends live requests; it does not combine with {flag}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; it must be a run directory")
    tasks = {name: get_task(name) for name in task_names}
    _check_inputs(tasks, source, mode)
    _check_vision(tasks, source, cfg)
    if mode != "dry-run":
        check_same_source(RunStore(out), record_source(source), task_names, append=append, note=note)
    with contextlib.ExitStack() as held:
        result = _generate(
            tasks,
            task_names,
            source,
            opts,
            cfg,
            out,
            mode,
            limit,
            requested,
            note,
            held,
            command,
            append,
            executor,
        )
    for line in result.lines:  # before a failed run's error, so what was written is still said
        say(line)
    judge_run(result.stats, out, max_failure_rate, note)
    return result


def _generate(
    tasks: dict[str, Task],
    task_names: list[str],
    source: SourceSpec,
    opts: TaskOptions,
    cfg: EngineConfig | GenerationParams,
    out: Path,
    mode: str,
    limit: int | None,
    requested: str | None,
    note: Note,
    held: contextlib.ExitStack,
    command: str | None,
    append: bool,
    executor: ExecutorSpec | None,
) -> GenerateResult:
    shard = cfg.shard if isinstance(cfg, EngineConfig) else None

    def contexts() -> list[dict[str, Any]]:
        records, report = load_contexts(source)
        lines = report.lines()
        if lines:
            note("skipped or adjusted while reading the source:")
            for line in lines:
                note(f"  {line}")
        return records

    planned = build_jobs(tasks, opts, contexts, limit=limit)
    for text in planned.notes:
        note(f"note: {text}")
    mine = [r for r in planned.rejected if in_shard(r.sample_id, shard)]
    held.enter_context(run_lock(out))  # one writer per run directory, from here to the end
    if mode == "dry-run":
        return _dry_run(tasks, planned, mine, cfg, out, shard, note)
    _say_rejected(tasks, mine, "listed in failures.jsonl", note)
    meta = {
        "task": requested or task_names[0],
        "tasks": task_names,
        "source": record_source(source),
        "limit": limit,
        "command": command,
        "append": append,
    }
    meta.update(run_meta(opts, limit))
    result = GenerateResult()
    direct = {n: t for n, t in tasks.items() if not t.uses_llm}
    llm = {n: t for n, t in tasks.items() if t.uses_llm}
    for name, task in direct.items():
        result.stats.append(_run_direct(task, planned, mine, opts, out, shard, meta))
        s = result.stats[-1]
        result.lines.append(
            f"{name}: {s.ok} samples written, {sum(s.failed.values())} failed, {s.skipped} already done -> {out}"
        )
    if llm:
        assert isinstance(cfg, EngineConfig)
        jobs = [j for j in planned.jobs if j.task in llm]
        refused = [r for r in mine if r.task in llm]
        if mode == "batch":
            from datagen.engine.batch import run_batch

            result.stats.append(run_batch(llm, jobs, opts, cfg, out, meta=meta, rejected=refused))
        elif executor is not None and executor.is_ray:
            from datagen.engine.ray_run import run_jobs_ray

            result.stats.append(
                run_jobs_ray(llm, jobs, opts, cfg, out, executor=executor, meta=meta, rejected=refused)
            )
        else:
            from datagen.engine.runner import run_jobs

            result.stats.append(run_jobs(llm, jobs, opts, cfg, out, meta=meta, rejected=refused))
    store = RunStore(out)
    for task in tasks.values():
        result.lines += [f"wrote {path}" for path in task.after_run(store)]
    return result


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
    from datagen.engine.runner import run_jobs

    tasks = {name: get_task(name) for name in task_names}
    planned = build_jobs(tasks, opts, contexts, limit=limit_per_task)
    meta = {"tasks": task_names, **run_meta(opts, limit_per_task), **(meta or {})}
    return run_jobs(tasks, planned.jobs, opts, cfg, run_dir, meta=meta, rejected=planned.rejected)


def _check_inputs(tasks: dict[str, Task], source: SourceSpec, mode: str) -> None:
    for name, task in tasks.items():
        if task.own_input and source.given():
            raise UsageError(f"{name} reads {task.own_input}, not COCO/context sources", hint=task.input_hint)
        if not task.uses_llm and mode != "live":
            flag = "--dry-run" if mode == "dry-run" else "--batch"
            raise UsageError(
                f"{name} needs no model, so there is nothing to {flag}", hint=f"run it without {flag}"
            )


def _check_vision(tasks: dict[str, Task], source: SourceSpec, cfg: GenerationParams) -> None:
    vision = cfg.vision
    vision.check()
    if not vision.on:
        seeing = [n for n, t in tasks.items() if t.needs_images]
        if seeing:
            raise UsageError(
                f"{', '.join(seeing)} shows the model the image",
                hint="add --image-input base64 --images DIR (or --image-input url --image-url-prefix URL)",
            )
        return
    if not any(t.uses_llm for t in tasks.values()):
        raise UsageError("--image-input: no chosen task asks a model", hint="drop --image-input")
    if vision.mode != "base64":
        return
    if vision.images is not None and not Path(vision.images).is_dir():
        raise UsageError(
            f"--images {vision.images}: no such folder", hint="point --images at the image folder"
        )
    if vision.images is None and (source.coco is not None or source.captions is not None):
        raise UsageError(
            "--image-input base64 needs --images DIR: COCO files name images, not where they are",
            hint="e.g. --images data/coco/val2017",
        )


def _say_rejected(tasks: dict[str, Task], rejected: list[Rejected], where: str, note: Note) -> None:
    for name, task in tasks.items():
        theirs = [r for r in rejected if r.task == name]
        if theirs:
            note(task.describe_rejected(theirs, where))


def _dry_run(
    tasks: dict[str, Task],
    planned: JobSet,
    rejected: list[Rejected],
    params: GenerationParams,
    out: Path,
    shard: tuple[int, int] | None,
    note: Note,
) -> GenerateResult:
    jobs = [j for j in planned.jobs if in_shard(j.sample_id, shard)]  # what this shard would send
    price_in = getattr(params, "price_in", None)
    price_out = getattr(params, "price_out", None)
    summary = write_dry_run(jobs, out, params, price_in=price_in, price_out=price_out)
    _say_rejected(tasks, rejected, "not in requests.jsonl", note)
    return GenerateResult(lines=summary.lines(), dry_run=summary)


def _run_direct(
    task: Task,
    planned: JobSet,
    rejected: list[Rejected],
    opts: TaskOptions,
    out: Path,
    shard: tuple[int, int] | None,
    meta: dict[str, Any],
) -> RunStats:
    from datagen.engine.direct import run_direct

    sources = [j.source for j in planned.jobs if j.task == task.name]
    refused = [r for r in rejected if r.task == task.name]
    return run_direct(task, sources, opts, out, shard=shard, meta=meta, rejected=refused)
