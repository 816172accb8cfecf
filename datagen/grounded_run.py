"""Running a model-free task (grounded_qa) into a run directory, resumably.

The engine's `run_direct` computes, filters and stores each sample and skips those whose key is
already in `results.jsonl`. Two things are added here around it:

- the key must change when an option that changes the output changes (`--seed`, `--margin`,
  `--max-questions`, ...), or a re-run with a new seed would silently keep the old samples; so each
  source row carries a fingerprint of those options (`run_direct` hashes the whole row);
- failures of the samples about to be (re)computed are dropped first, so a re-run replaces a
  `failures.jsonl` line instead of adding a duplicate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.runner import RunStats, run_direct
from datagen.runstore import RunStore
from datagen.tasks.base import Task, TaskOptions

OPTIONS_KEY = "_options"  # the fingerprint field added to each source row (never written to results)


def options_fingerprint(opts: TaskOptions) -> str:
    relevant = {
        "seed": opts.seed,
        "image_token": opts.image_token,
        "extra": {k: v for k, v in sorted(opts.extra.items()) if k != "notes"},
        "templates_dir": opts.templates_dir,
    }
    return hashlib.blake2b(
        json.dumps(relevant, sort_keys=True, default=str).encode(), digest_size=8
    ).hexdigest()


def run_model_free(
    task: Task,
    sources: Iterable[dict[str, Any]],
    opts: TaskOptions,
    run_dir: str | Path,
    *,
    meta: dict[str, Any] | None = None,
) -> RunStats:
    fp = options_fingerprint(opts)
    rows = [{**src, OPTIONS_KEY: fp} for src in sources]
    ids = {f"{task.name}:{r.get('id')}" for r in rows}
    store = RunStore(run_dir)
    old = store.load_failures()
    keep = [f for f in old if f.get("sample_id") not in ids]
    if len(keep) != len(old):
        store.rewrite_failures(keep)
    return run_direct(task, rows, opts, run_dir, meta=meta)
