"""Record descriptions rejected before any call (too short) in a caption_rewrite run directory.

The engine writes failures for the jobs it runs; descriptions flagged by `--min-words` never become
jobs, so this module writes their `failures.jsonl` lines itself and adds their count to `run.json`
(`filters.too_short_input`, `counts.failed.filter`), so a run reports every input. Re-running the
same command replaces the previous run's lines instead of adding duplicates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.descriptions import SHORT_INPUT_FILTER, TASK
from datagen.jsonio import iter_jsonl, read_json, write_json_atomic, write_jsonl_atomic

FAILURES = "failures.jsonl"
RUN_META = "run.json"


def _ours(row: dict[str, Any]) -> bool:
    return row.get("task") == TASK and row.get("filter") == SHORT_INPUT_FILTER


def write_prefailures(run_dir: str | Path, failures: list[dict[str, Any]]) -> None:
    """Replace earlier too-short lines in `failures.jsonl` with `failures` (atomically).

    An older line for a sample now flagged too short (e.g. a filter failure from a run with a lower
    `--min-words`) is superseded too, so each sample has one line that says why it is missing."""
    path = Path(run_dir) / FAILURES
    kept = [row for _, row in iter_jsonl(path, tolerate_torn_tail=True)] if path.exists() else []
    now_short = {f.get("sample_id") for f in failures}
    rows = [r for r in kept if not _ours(r) and r.get("sample_id") not in now_short] + list(failures)
    if rows or path.exists():
        write_jsonl_atomic(path, rows)


def count_prefailures(run_dir: str | Path, n: int) -> None:
    """Add the too-short count to `run.json` after the engine wrote it (no-op without run.json)."""
    path = Path(run_dir) / RUN_META
    if not path.exists():
        return
    meta = read_json(path)
    if not isinstance(meta, dict):
        return
    filters = meta.setdefault("filters", {})
    counts = meta.setdefault("counts", {})
    failed = counts.setdefault("failed", {})
    if n:
        filters[SHORT_INPUT_FILTER] = n
        failed["filter"] = int(failed.get("filter", 0)) + n
    counts["flagged_before_call"] = n
    write_json_atomic(path, meta)
