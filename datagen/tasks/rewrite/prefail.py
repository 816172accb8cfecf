"""Record descriptions rejected before any call (too short) in a caption_rewrite run directory.

The engine writes failures for the jobs it runs; descriptions flagged by `--min-words` never become
jobs, so this module writes their `failures.jsonl` lines itself and adds their count to `run.json`
(`filters.too_short_input`, `counts.failed.filter`), so a run reports every input. Re-running the
same command replaces the previous run's lines instead of adding duplicates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.rundir.store import RunStore
from datagen.tasks.rewrite.descriptions import SHORT_INPUT_FILTER, TASK


def _ours(row: dict[str, Any]) -> bool:
    return row.get("task") == TASK and row.get("filter") == SHORT_INPUT_FILTER


def write_prefailures(run_dir: str | Path, failures: list[dict[str, Any]]) -> None:
    """Replace earlier too-short lines in `failures.jsonl` with `failures` (atomically).

    An older line for a sample now flagged too short (e.g. a filter failure from a run with a lower
    `--min-words`) is superseded too, so each sample has one line that says why it is missing."""
    store = RunStore(run_dir)
    now_short = {f.get("sample_id") for f in failures}
    kept = [r for r in store.load_failures() if not _ours(r) and r.get("sample_id") not in now_short]
    store.rewrite_failures(kept + list(failures))


def count_prefailures(run_dir: str | Path, n: int) -> None:
    """Add the too-short count to `run.json` after the engine wrote it (no-op without run.json)."""
    store = RunStore(run_dir)
    meta = store.read_meta()
    if not meta:  # no run.json (or not an object): nothing to add the count to
        return
    filters = meta.setdefault("filters", {})
    counts = meta.setdefault("counts", {})
    failed = counts.setdefault("failed", {})
    if n:
        filters[SHORT_INPUT_FILTER] = n
        failed["filter"] = int(failed.get("filter", 0)) + n
    counts["flagged_before_call"] = n
    store.write_meta(meta)
