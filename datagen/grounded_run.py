"""Running a model-free task (grounded_qa) into a run directory, resumably.

`run_direct` (datagen/engine_direct.py) now does everything this module used to add around it: the
resume key includes a fingerprint of the options that change the output (`--seed`, `--margin`,
`--max-questions`, ...), and a re-run replaces the failures of the samples it recomputes instead of
appending duplicates. `run_model_free` stays as the name the commands call.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.engine_direct import options_fingerprint
from datagen.runner import RunStats, run_direct
from datagen.tasks.base import Task, TaskOptions

__all__ = ["options_fingerprint", "run_model_free"]


def run_model_free(
    task: Task,
    sources: Iterable[dict[str, Any]],
    opts: TaskOptions,
    run_dir: str | Path,
    *,
    meta: dict[str, Any] | None = None,
) -> RunStats:
    return run_direct(task, sources, opts, run_dir, meta=meta)
