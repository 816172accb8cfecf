"""From a model reply to a results.jsonl or failures.jsonl line (shared by live and Batch runs).

`judge` runs the task's parser and then its named filters (minus `--no-filter` ones) and says what
became of the reply. `result_record` / `failure_record` give the exact lines the run directory holds
(field names per HELPERS.md / DESIGN.md), so every path writes the same shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datagen.errors import ParseError
from datagen.tasks.base import Job, QAPairs, Task, TaskOptions

RETRY_FINISH_REASONS = ("length", "content_filter")


@dataclass
class Verdict:
    stage: str  # "ok" | "parse" | "filter"
    pairs: QAPairs | None = None
    reason: str = ""
    filter: str | None = None


def judge(task: Task, job: Job, text: str, finish_reason: str, opts: TaskOptions) -> Verdict:
    if finish_reason in RETRY_FINISH_REASONS:
        return Verdict("parse", reason=f"finish_reason {finish_reason} (reply cut off or withheld)")
    try:
        pairs = task.parse(text, job)
    except ParseError as e:
        return Verdict("parse", reason=str(e))
    for name, fn in task.filters():
        if name in opts.disabled_filters:
            continue
        why = fn(pairs, job)
        if why:
            return Verdict("filter", pairs=pairs, reason=why, filter=name)
    return Verdict("ok", pairs=pairs)


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
    key: str,
    filter_name: str | None = None,
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
    rec.update(attempts=attempts, raw=raw, request_key=key)
    return rec
