"""The rules every export and adapt output obeys before anything is written, defined once.

- Overwrite: an output that already exists (a file, or a folder that is not empty) is replaced
  only with `--overwrite`; an empty folder counts as free. Formats that merge into a folder
  (LLaMA-Factory's `<name>.json` beside a shared `dataset_info.json`) check the files they replace.
- Inputs: an output never lands on one of its inputs (`rundir.samples.refuse_overwriting_inputs`).
- Exclusions: `--exclude-ids FILE` drops records by `id` or `sample_id` (`rundir.samples.read_id_list`).
- Judge scores: `--min-judge-score N --judge JUDGE_DIR` keeps the records a `datagen judge` run
  scored N or more (`keep_judged`); records it did not score are left out too, and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from datagen.errors import UsageError
from datagen.rundir.judged import load_judge_scores
from datagen.rundir.samples import load_many, read_id_list, refuse_overwriting_inputs


def claim_output(path: str | Path, *, overwrite: bool, folder: bool) -> None:
    """Refuse to replace an existing `path` unless `overwrite` (the one overwrite rule)."""
    p = Path(path)
    if not p.exists():
        return
    if folder and p.is_dir() and not any(p.iterdir()):
        return  # an empty folder holds nothing to lose
    if folder and not p.is_dir():
        raise UsageError(f"{p} exists and is not a folder", hint="choose another --out")
    if not folder and p.is_dir():
        raise UsageError(f"{p}: is a folder", hint="give --out a file name ending in .json")
    if not overwrite:
        what = "already exists and is not empty" if folder else "already exists"
        raise UsageError(f"{p} {what}", hint="choose another --out or add --overwrite")


def load_records(
    inputs: Iterable[str | Path],
    outputs: Iterable[str | Path],
    *,
    exclude_ids: str | Path | None = None,
    replaces_folder: bool = False,
    tasks: Iterable[str] = (),
    notes: list[str] | None = None,
) -> list[dict]:
    """Validated records of every input minus excluded ids (and, given `tasks`, only theirs), after
    checking that no output lands on an input. What `--exclude-ids` matched is added to `notes`."""
    inputs = list(inputs)
    refuse_overwriting_inputs(inputs, outputs, replaces_folder=replaces_folder)
    excluded = read_id_list(exclude_ids) if exclude_ids else None
    records = load_many(inputs, exclude_ids=excluded)
    if excluded is not None and notes is not None:
        notes.append(excluded.note())
    wanted = set(tasks)
    return [r for r in records if r.get("task") in wanted] if wanted else records


def keep_judged(
    records: list[dict], judge: str | Path | None, min_score: int | None
) -> tuple[list[dict], str]:
    """The records `judge` scored at least `min_score`, and one line saying what was left out
    ("" when no judge filter was asked for). The one judge-score rule of every export format."""
    if judge is None and min_score is None:
        return records, ""
    if judge is None or min_score is None:
        raise UsageError(
            "--min-judge-score and --judge go together", hint="e.g. --min-judge-score 7 --judge JUDGE_DIR"
        )
    if not 1 <= min_score <= 10:
        raise UsageError(f"--min-judge-score must be from 1 to 10, got {min_score}")
    scores = load_judge_scores(judge)
    kept, below, unscored = [], 0, 0
    for rec in records:
        score = scores.score(rec)
        if score is None:
            unscored += 1
        elif score < min_score:
            below += 1
        else:
            kept.append(rec)
    note = (
        f"judge filter: kept {len(kept)} of {len(records)} samples scored {min_score} or more in {judge} "
        f"({below} scored lower, {unscored} not scored)"
    )
    return kept, note
