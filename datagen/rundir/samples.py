"""Read generated samples back, whatever form they are in: a run directory, `results.jsonl`, a
LLaVA JSON array (`llava_instruct.json`, CC3M `chat.json`) or a Hugging Face dataset folder (what
`datagen export hf` writes). Used by export, stats, review, adapt and judge.

Every row is checked against LLaVA's loader rules; a bad row is an error naming the file and row.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_jsonl, read_json
from datagen.errors import InputError, UsageError
from datagen.records import check_llava_record
from datagen.rundir.hfread import hf_files, read_hf_dataset
from datagen.rundir.store import FAILURES, REQUESTS, RESULTS, RUN_META, RunStore


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and (path / RESULTS).exists()


def load_samples(path: str | Path, *, validate: bool = True) -> list[dict[str, Any]]:
    """All samples in a run dir, a results.jsonl, a LLaVA JSON array or an HF dataset folder, in order."""
    p = Path(path)
    rows: list[tuple[str, dict[str, Any]]]
    if p.is_dir() and not (p / RESULTS).exists():
        if not hf_files(p):
            raise InputError(
                f"{p}: not a run directory (no {RESULTS}) nor a Hugging Face dataset folder",
                hint="pass a run dir, results.jsonl, a .json file or an `export hf` folder",
            )
        rows = read_hf_dataset(p)
        if validate:
            for where, obj in rows:
                check_llava_record(obj, where)
        return [obj for _, obj in rows]
    if p.is_dir():
        p = p / RESULTS
    if not p.exists():
        raise InputError(f"{p}: no such file or folder", hint="check the path")
    if p.suffix == ".jsonl":
        rows = [(f"{p}:{line}", obj) for line, obj in iter_jsonl(p, tolerate_torn_tail=True)]
    else:
        data = read_json(p)
        if not isinstance(data, list):
            raise InputError(f"{p}: expected a JSON array of LLaVA records, got {type(data).__name__}")
        rows = [(f"{p}[{i}]", obj) for i, obj in enumerate(data)]
    if validate:
        for where, obj in rows:
            check_llava_record(obj, where)
    return [obj for _, obj in rows]


def refuse_overwriting_inputs(
    inputs: Iterable[str | Path], outputs: Iterable[str | Path], *, replaces_folder: bool = False
) -> None:
    """Stop before an output would land on an input (`--out RUN/results.jsonl` destroyed the run).

    `replaces_folder`: the output is a folder that gets swapped in whole, so an input anywhere
    inside it would be deleted as well."""
    protected: list[tuple[Path, str]] = []
    for raw in inputs:
        p = Path(raw).resolve()
        protected.append((p, str(raw)))
        run_dir = p if p.is_dir() else p.parent if p.name == RESULTS else None
        if run_dir is not None:  # a results.jsonl brings its run's other files along
            names = (RESULTS, FAILURES, RUN_META, REQUESTS)
            protected += [(run_dir / name, str(raw)) for name in names]
    for out in outputs:
        o = Path(out).resolve()
        for q, given in protected:
            if q == o or (replaces_folder and q.is_relative_to(o)):
                raise UsageError(
                    f"--out {out} would overwrite the input {given}", hint="choose another --out"
                )


def load_many(
    paths: Iterable[str | Path], *, exclude_ids: set[str] | None = None, validate: bool = True
) -> list[dict[str, Any]]:
    """Concatenate samples from several inputs, dropping those whose `id` (or `sample_id`) is excluded."""
    out: list[dict[str, Any]] = []
    for path in paths:
        for rec in load_samples(path, validate=validate):
            if exclude_ids:
                hits = {str(rec.get("id")), str(rec.get("sample_id"))} & exclude_ids
                if hits:
                    if isinstance(exclude_ids, IdList):
                        exclude_ids.matched |= hits
                        exclude_ids.dropped += 1
                    continue
            out.append(rec)
    return out


class IdList(set[str]):
    """An `--exclude-ids` list: its ids, and (filled in by `load_many`) which of them matched a
    sample and how many samples were left out, for the line every export prints about it."""

    def __init__(self, ids: Iterable[str], path: str | Path) -> None:
        super().__init__(ids)
        self.path = Path(path)
        self.matched: set[str] = set()
        self.dropped = 0

    def note(self) -> str:
        n, hit = len(self), len(self.matched)
        if hit == 0:
            return (
                f"warning: --exclude-ids {self.path}: none of its {n} ids matched a sample, nothing was "
                "left out (it must list the `id` or `sample_id` of these inputs' samples)"
            )
        return (
            f"--exclude-ids {self.path}: left out {self.dropped} samples; {hit} of its {n} ids matched, "
            f"{n - hit} matched none"
        )


def read_id_list(path: str | Path) -> IdList:
    """An exclusion list: a JSON array of ids (what the review page downloads) or one id per line."""
    p = Path(path)
    if p.suffix == ".json":
        data = read_json(p)
        if not isinstance(data, list) or not all(isinstance(x, (str, int)) for x in data):
            raise InputError(f"{p}: expected a JSON array of ids")
        return IdList((str(x) for x in data), p)
    try:
        return IdList(
            (line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()), p
        )
    except FileNotFoundError:
        raise InputError(f"{p}: no such file", hint="check the --exclude-ids path") from None


def load_run_meta(run_dir: str | Path) -> dict[str, Any]:
    """`run.json` of a run directory (or of the folder holding a results.jsonl), or {} when there is
    none or it is not a JSON object."""
    p = Path(run_dir)
    return RunStore(p if p.is_dir() else p.parent).read_meta()
