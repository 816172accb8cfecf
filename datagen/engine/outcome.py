"""From a model reply (or a model-free sample, or an input refused before any call) to a
results.jsonl or failures.jsonl line: the same judgement and the same line shapes on every path.

`judge` checks the finish reason, runs the task's parser, then `judge_pairs`: the task's named
filters (minus `--no-filter` ones, plus optional ones `--filter` turned on) through the one filter loop, `tasks.filters.first_rejection`.
`result_record` / `failure_record` / `rejected_record` give the exact lines the run directory holds
(field names per DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from datagen.common.shard import in_shard
from datagen.engine.progress import RunStats
from datagen.errors import ParseError
from datagen.rundir.store import RunStore
from datagen.tasks.base import Job, QAPairs, Rejected, Task, TaskOptions
from datagen.tasks.filters import chosen_filters, first_rejection

RETRY_FINISH_REASONS = ("length", "content_filter")


@dataclass
class Verdict:
    stage: str  # "ok" | "parse" | "filter"
    pairs: QAPairs | None = None
    reason: str = ""
    filter: str | None = None


def judge_pairs(task: Task, job: Job, pairs: QAPairs, opts: TaskOptions) -> Verdict:
    """Accept parsed pairs, or say which filter rejects them and why."""
    rejected = first_rejection(pairs, job, chosen_filters(task, opts))
    if rejected is not None:
        name, why = rejected
        return Verdict("filter", pairs=pairs, reason=str(why), filter=name)
    return Verdict("ok", pairs=pairs)


def judge(task: Task, job: Job, text: str, finish_reason: str, opts: TaskOptions) -> Verdict:
    """What becomes of a reply: re-ask it (stage parse), reject it (filter) or keep it (ok)."""
    if finish_reason in RETRY_FINISH_REASONS:
        return Verdict("parse", reason=f"finish_reason {finish_reason} (reply cut off or withheld)")
    try:
        pairs = task.parse(text, job)
    except ParseError as e:
        return Verdict("parse", reason=str(e))
    return judge_pairs(task, job, pairs, opts)


def result_record(
    task: Task, job: Job, pairs: QAPairs, opts: TaskOptions, *, model: str, usage: dict[str, int], key: str
) -> dict[str, Any]:
    rec = task.to_record(pairs, job, opts)
    rec.update(
        task=job.task,
        sample_id=job.sample_id,
        model=model,
        template_hash=job.template_hash,
        usage=usage,
        request_key=key,
    )
    return rec


def failure_record(
    job: Job,
    *,
    stage: str,
    reason: str,
    attempts: int,
    raw: str | None,
    key: str | None,
    filter_name: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "sample_id": job.sample_id,
        "id": job.source.get("id", job.sample_id),
        "image": job.source.get("image"),  # so a review page can show the picture next to the failure
        "task": job.task,
        "stage": stage,
        "reason": reason,
    }
    if filter_name is not None:
        rec["filter"] = filter_name
    if usage is not None:
        rec["usage"] = usage  # the tokens this sample cost so far (a re-run adds to it)
    rec.update(attempts=attempts, raw=raw, request_key=key)
    return rec


def rejected_record(r: Rejected) -> dict[str, Any]:
    """The failures.jsonl line of an input refused before any call (no request, so no key)."""
    job = Job(sample_id=r.sample_id, task=r.task, messages=[], source=r.source)
    return failure_record(
        job, stage="filter", reason=r.reason, attempts=0, raw=r.raw, key=None, filter_name=r.filter
    )


def record_rejected(
    store: RunStore,
    tasks: Mapping[str, Task],
    rejected: Iterable[Rejected],
    shard: tuple[int, int] | None,
    stats: RunStats,
) -> list[Rejected]:
    """Write this shard's refused inputs to failures.jsonl (replacing the lines an earlier run of
    the same tasks wrote for them) and count them; returns the ones recorded."""
    mine = [r for r in rejected if in_shard(r.sample_id, shard)]
    store.replace_precall_failures(
        {name: t.precall_filters for name, t in tasks.items()}, [rejected_record(r) for r in mine]
    )
    for r in mine:
        stats.precall[r.filter] += 1
    return mine
