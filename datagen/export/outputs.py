"""The rules every export and adapt output obeys before anything is written, defined once.

- Overwrite: an output that already exists (a file, or a folder that is not empty) is replaced
  only with `--overwrite`; an empty folder counts as free. Formats that merge into a folder
  (LLaMA-Factory's `<name>.json` beside a shared `dataset_info.json`) check the files they replace.
- Inputs: an output never lands on one of its inputs (`rundir.samples.refuse_overwriting_inputs`).
- Exclusions: `--exclude-ids FILE` drops records by `id` or `sample_id` (`rundir.samples.read_id_list`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from datagen.errors import UsageError
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
) -> list[dict]:
    """Validated records of every input minus excluded ids (and, given `tasks`, only theirs), after
    checking that no output lands on an input."""
    inputs = list(inputs)
    refuse_overwriting_inputs(inputs, outputs, replaces_folder=replaces_folder)
    excluded = read_id_list(exclude_ids) if exclude_ids else None
    records = load_many(inputs, exclude_ids=excluded)
    wanted = set(tasks)
    return [r for r in records if r.get("task") in wanted] if wanted else records
