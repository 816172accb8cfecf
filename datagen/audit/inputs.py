"""Audit step 1: read every input into `Sample`s, whatever made it.

An input is a run directory, a `results.jsonl`, a LLaVA JSON array (ours, LLaVA-Instruct-158K or
any tool's: only `conversations` is needed) or a Hugging Face dataset folder written by
`datagen export hf` (parquet shards or `save_to_disk`), all read by `rundir.samples.load_samples`. Records are NOT rejected for breaking
LLaVA's loader rules: finding those is the hygiene check's job. A record that is not an object, or
has no `conversations` list, is counted under hygiene too, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.errors import InputError, UsageError
from datagen.rundir.samples import is_run_dir, load_run_meta, load_samples

UNTAGGED = "untagged"


@dataclass(slots=True)
class Sample:
    """One sample as the audit sees it."""

    uid: int  # position over all inputs: the key of flags.jsonl lines and report links
    key: str  # sample_id when present, else id, else "<input>[i]"
    id: str
    image: str | None
    task: str
    model: str
    input: str  # the input's label (its path as given)
    record: Any  # the raw record (conversations and anything else)


@dataclass
class Input:
    label: str
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)  # run.json of a run dir
    count: int = 0


def _text(v: Any) -> str:
    return v if isinstance(v, str) else "" if v is None else str(v)


def read_input(path: Path) -> list[Any]:
    """The raw records of one input (the readers every command shares, HF dataset folders included)."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder", hint="check the path")
    return load_samples(path, validate=False)


def load_inputs(paths: list[Path]) -> tuple[list[Sample], list[Input]]:
    """All samples of all inputs, in order, and what each input was."""
    if not paths:
        raise UsageError(
            "no inputs given", hint="pass run dirs, results.jsonl, LLaVA .json files or HF dataset folders"
        )
    samples: list[Sample] = []
    inputs: list[Input] = []
    for path in paths:
        label = str(path)
        meta = load_run_meta(path) if path.exists() and (is_run_dir(path) or path.suffix == ".jsonl") else {}
        run_model = _text(meta.get("model") or (meta.get("config") or {}).get("model"))
        records = read_input(path)
        inp = Input(label, path, meta, len(records))
        inputs.append(inp)
        for i, rec in enumerate(records):
            r = rec if isinstance(rec, dict) else {}
            rid = _text(r.get("id"))
            image = r.get("image")
            samples.append(
                Sample(
                    uid=len(samples),
                    key=_text(r.get("sample_id")) or rid or f"{label}[{i}]",
                    id=rid,
                    image=image if isinstance(image, str) and image else None,
                    task=_text(r.get("task")) or UNTAGGED,
                    model=_text(r.get("model")) or run_model or "unknown",
                    input=label,
                    record=rec,
                )
            )
    if not samples:
        raise InputError(
            f"{', '.join(str(p) for p in paths)}: no samples to audit",
            hint="the inputs are empty; generate or export some samples first",
        )
    return samples, inputs


def turns(record: Any) -> tuple[list[str], list[str]]:
    """(human texts, model texts) of a record; turns that are not {from, value} objects are skipped
    (hygiene reports them). `from` decides the side; a turn without a known `from` goes by position."""
    conv = record.get("conversations") if isinstance(record, dict) else None
    human: list[str] = []
    model: list[str] = []
    if not isinstance(conv, list):
        return human, model
    for i, t in enumerate(conv):
        if not isinstance(t, dict) or not isinstance(t.get("value"), str):
            continue
        who = t.get("from")
        is_model = who in ("gpt", "assistant") or (who not in ("human", "user") and i % 2 == 1)
        (model if is_model else human).append(t["value"])
    return human, model
