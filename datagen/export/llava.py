"""Export generated samples as LLaVA-Instruct JSON: the last step, from run dirs to a trainer's file.

The output is what LLaVA's training loader reads with a single `json.load`: one JSON array of
`{"id", "image", "conversations"}` objects, nothing else (run provenance such as `task`, `model` or
`usage` stays in the run directory). Inputs are run dirs, `results.jsonl` files or LLaVA JSON arrays;
every record is checked against the loader's rules as it is read.

The file is written one record per line inside the array (still a single JSON document), encoded
with the C encoder record by record: much faster than `json.dump` on the whole list, diff-friendly,
and streamed to a temp file that replaces the target only when complete, so an interrupted export
never leaves a truncated file where a good one was.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.common.jsonio import atomic_writer, gc_paused
from datagen.errors import InputError
from datagen.export.outputs import claim_output, keep_judged
from datagen.rundir.samples import load_many, read_id_list, refuse_overwriting_inputs

LLAVA_KEYS = ("id", "image", "conversations")
UNTAGGED = "untagged"  # task name for records that do not say which task made them


def to_llava(rec: dict[str, Any]) -> dict[str, Any]:
    """Keep only the LLaVA-Instruct fields (turns reduced to `from`/`value`), in LLaVA's key order."""
    out: dict[str, Any] = {"id": str(rec["id"])}
    if rec.get("image") is not None:
        out["image"] = rec["image"]
    out["conversations"] = [{"from": t["from"], "value": t["value"]} for t in rec["conversations"]]
    return out


def task_of(rec: dict[str, Any]) -> str:
    return str(rec.get("task") or UNTAGGED)


def write_llava_json(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Atomically write records as one JSON array, one record per line; returns the count."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a folder", hint="give --out a file name ending in .json")
    n = 0
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    with atomic_writer(p) as f:
        f.write("[")
        for rec in records:
            f.write(",\n" if n else "\n")
            f.write(dumps(rec))
            n += 1
        f.write("\n]\n" if n else "]\n")
    return n


def per_task_path(out: Path, task: str) -> Path:
    """`--per-task` file for one task: `OUT.<task>.json` beside OUT.json, or `OUT/<task>.json` for a folder."""
    if out.suffix.lower() == ".json":
        return out.with_name(f"{out.stem}.{task}.json")
    return out / f"{task}.json"


@dataclass
class ExportSummary:
    written: dict[Path, int] = field(default_factory=dict)
    per_task: Counter[str] = field(default_factory=Counter)
    excluded_ids: int = 0
    judge_note: str = ""  # what --min-judge-score left out
    exclude_note: str = ""  # what --exclude-ids matched

    @property
    def total(self) -> int:
        return sum(self.written.values())


def export_llava(
    inputs: Iterable[str | Path],
    out: str | Path,
    *,
    per_task: bool = False,
    exclude_ids_file: str | Path | None = None,
    overwrite: bool = False,
    judge: str | Path | None = None,
    min_judge_score: int | None = None,
) -> ExportSummary:
    """Read samples from `inputs` (minus excluded ids, and with `judge`, minus those scored under
    `min_judge_score`) and write LLaVA-Instruct JSON to `out`."""
    inputs = list(inputs)
    if not inputs:
        raise InputError("no inputs given", hint="pass one or more run dirs, results.jsonl or .json files")
    exclude = read_id_list(exclude_ids_file) if exclude_ids_file is not None else None
    with gc_paused():
        records = load_many(inputs, exclude_ids=exclude)
    records, judged = keep_judged(records, judge, min_judge_score)
    summary = ExportSummary(
        excluded_ids=len(exclude or ()),
        judge_note=judged,
        exclude_note=exclude.note() if exclude is not None else "",
    )
    summary.per_task.update(task_of(r) for r in records)
    out_path = Path(out)
    targets = [per_task_path(out_path, t) for t in summary.per_task] if per_task else [out_path]
    refuse_overwriting_inputs(inputs, targets)
    for target in targets:
        claim_output(target, overwrite=overwrite, folder=False)
    if not per_task:
        summary.written[out_path] = write_llava_json(out_path, (to_llava(r) for r in records))
        return summary
    for task in summary.per_task:
        target = per_task_path(out_path, task)
        rows = (to_llava(r) for r in records if task_of(r) == task)
        summary.written[target] = write_llava_json(target, rows)
    return summary
