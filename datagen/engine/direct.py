"""Tasks that need no model (`uses_llm = False`, e.g. grounded QA from annotations).

Step in the flow: the same run directory contract as a live run (results.jsonl, failures.jsonl with
stage "filter"/"parse", run.json, resume by key) without any request: pairs come from
`task.direct_pairs(source, opts)`, then the task's named filters, then `task.to_record`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.common.shard import in_shard
from datagen.engine.meta import new_run_id, write_run_meta
from datagen.engine.outcome import failure_record, judge_pairs, record_rejected, result_record
from datagen.engine.progress import RunStats
from datagen.errors import ParseError
from datagen.rundir.lock import run_lock
from datagen.rundir.store import RunStore
from datagen.tasks.base import Job, Rejected, Task, TaskOptions


def options_fingerprint(task: Task, opts: TaskOptions) -> str:
    """The task options that can change a model-free sample (filters excluded: they are re-applied):
    the shared ones, and the task family's own as given (its `given()`, else all its fields)."""
    extra: dict[str, Any] = {}
    if task.options_type is not None:
        mine: Any = opts.of(task.options_type)
        given = getattr(mine, "given", None)
        extra = given() if callable(given) else dataclasses.asdict(mine)
    if opts.instructions is not None:
        extra["instructions"] = opts.instructions
    relevant = {
        "seed": opts.seed,
        "image_token": opts.image_token,
        "extra": dict(sorted(extra.items())),
        "templates_dir": opts.templates_dir,
    }
    return hashlib.blake2b(
        json.dumps(relevant, sort_keys=True, default=str).encode(), digest_size=8
    ).hexdigest()


def run_direct(
    task: Task,
    sources: Iterable[dict[str, Any]],
    opts: TaskOptions,
    run_dir: str | Path,
    *,
    shard: tuple[int, int] | None = None,
    meta: dict[str, Any] | None = None,
    rejected: Iterable[Rejected] = (),
) -> RunStats:
    """Tasks with `uses_llm = False`: compute pairs without a model, filter, and store like a live run
    (sample id `<task>:<source id>`). The key hashes the source row and the options that change the
    output (`options_fingerprint`), so an edited row or a new `--seed` is redone, nothing else."""
    store = RunStore(run_dir)
    fp = options_fingerprint(task, opts)
    items = []
    for src in sources:
        sid = f"{task.name}:{src.get('id')}"
        if in_shard(sid, shard):
            blob = json.dumps([sid, src, fp], sort_keys=True, default=str).encode()
            items.append((sid, src, hashlib.blake2b(blob, digest_size=16).hexdigest()))
    with run_lock(store.dir):
        return _run_direct(task, items, opts, store, shard, meta, rejected)


def _run_direct(
    task: Task,
    items: list[tuple[str, dict[str, Any], str]],
    opts: TaskOptions,
    store: RunStore,
    shard: tuple[int, int] | None,
    meta: dict[str, Any] | None,
    rejected: Iterable[Rejected],
) -> RunStats:
    done = store.done_keys()
    store.load_failures()  # read and checked before anything is written; old lines stay until replaced
    stats = RunStats(total=len(items))
    record_rejected(store, {task.name: task}, rejected, shard, stats)
    task.prepare(store)
    store.open()
    try:
        for sid, src, key in items:
            if key in done:
                stats.skipped += 1
                continue
            job = Job(sample_id=sid, task=task.name, messages=[], source=src)
            try:
                pairs = task.direct_pairs(src, opts)
            except ParseError as e:
                store.add_failure(
                    failure_record(job, stage="parse", reason=str(e), attempts=1, raw=None, key=key)
                )
                stats.failed["parse"] += 1
                continue
            verdict = judge_pairs(task, job, pairs, opts)
            if verdict.stage == "filter":
                name = verdict.filter or "?"
                stats.filtered[name] += 1
                stats.failed["filter"] += 1
                rec = failure_record(
                    job,
                    stage="filter",
                    reason=verdict.reason,
                    attempts=0,
                    raw=None,
                    key=key,
                    filter_name=name,
                )
                store.add_failure(rec)
                continue
            store.add_result(result_record(task, job, pairs, opts, model="", usage={}, key=key))
            stats.ok += 1
    finally:
        store.close()
        store.compact_failures()
    write_run_meta(store, None, stats, {}, meta or {}, final=True, mode="direct", run_id=new_run_id())
    return stats
