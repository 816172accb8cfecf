"""Audit step 2: the ground truth, i.e. what each image's annotations say is in it.

From `--instances F` or `--coco DIR --split S` (a COCO instances file, exhaustive: an image with no
box holds none of the 80 categories), from `--contexts F` (context records from `datagen context`),
or, with none of those, from what each run directory recorded: a `contexts.jsonl` beside it, else
the source in its `run.json` (rebuilt as `datagen review` does; an instances file is read directly).
Samples are matched to images by file name, then by the number in the image name or id
(`COCO_train2014_000000033471.jpg`, `000000033471.jpg` and id `33471` meet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.audit.inputs import Input, Sample
from datagen.common.jsonio import iter_jsonl
from datagen.errors import InputError, UsageError
from datagen.review.gather import RUN_CONTEXTS
from datagen.review.runsource import describe, spec_from_meta
from datagen.sources.coco import coco_split_paths, read_coco
from datagen.sources.contextset import ContextSet
from datagen.sources.load import load_contexts
from datagen.tasks.objects.truth import ImageTruth, truth_from_record

_DIGITS = re.compile(r"(\d+)$")


@dataclass
class TruthSpec:
    instances: Path | None = None
    coco: Path | None = None
    split: str | None = None
    contexts: list[Path] = field(default_factory=list)

    def given(self) -> bool:
        return self.instances is not None or self.coco is not None or bool(self.contexts)


@dataclass
class TruthIndex:
    by_id: dict[int, ImageTruth] = field(default_factory=dict)
    by_name: dict[str, ImageTruth] = field(default_factory=dict)
    captions: dict[int, list[str]] = field(default_factory=dict)  # for the report's cards
    sources: list[str] = field(default_factory=list)  # what was read, for audit.json

    def add(self, truth: ImageTruth, image_id: Any, name: Any, captions: Any = None) -> None:
        key = _number(image_id) if image_id is not None else None
        if key is None and isinstance(name, str):
            key = _number(_stem(name))
        if key is not None:
            self.by_id.setdefault(key, truth)
            if isinstance(captions, list):
                self.captions.setdefault(key, [str(c) for c in captions])
        if isinstance(name, str) and name:
            self.by_name.setdefault(_name(name), truth)

    def lookup(self, sample: Sample) -> ImageTruth | None:
        if sample.image:
            found = self.by_name.get(_name(sample.image))
            if found is not None:
                return found
            key = _number(_stem(sample.image))
            if key is not None and key in self.by_id:
                return self.by_id[key]
        key = _number(sample.id)
        return self.by_id.get(key) if key is not None else None

    def captions_of(self, sample: Sample) -> list[str]:
        for value in (_stem(sample.image) if sample.image else None, sample.id):
            key = _number(value) if value else None
            if key is not None and key in self.captions:
                return self.captions[key]
        return []


# String operations rather than pathlib: these run once per sample and per image (158K + 118K).
def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _stem(path: str) -> str:
    return _name(path).rsplit(".", 1)[0]


def _number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _DIGITS.search(str(value))
    return int(m.group(1)) if m else None


def _read_instances(index: TruthIndex, path: Path) -> None:
    cset = ContextSet()
    read_coco(cset, None, path)
    for key, info in cset.images.items():
        truth = truth_from_record({**info, "boxes": cset.boxes.get(key, [])}, exhaustive=True)
        index.add(truth, info.get("image_id", key), info.get("image"))
    index.sources.append(f"--instances {path}")


def _read_records(index: TruthIndex, records: Any, what: str) -> None:
    for rec in records:
        if isinstance(rec, dict):
            index.add(
                truth_from_record(rec),
                rec.get("image_id", rec.get("id")),
                rec.get("image"),
                rec.get("captions"),
            )
    index.sources.append(what)


def _read_contexts_file(index: TruthIndex, path: Path) -> None:
    if not path.is_file():
        raise InputError(f"--contexts {path}: no such file", hint="pass the JSONL `datagen context` wrote")
    _read_records(index, (rec for _line, rec in iter_jsonl(path)), f"--contexts {path}")


def _from_run(index: TruthIndex, inp: Input) -> bool:
    run_dir = inp.path if inp.path.is_dir() else inp.path.parent
    beside = run_dir / RUN_CONTEXTS
    if beside.is_file():
        _read_contexts_file(index, beside)
        return True
    spec = spec_from_meta(inp.meta, run_dir) if inp.meta else None
    if spec is None:
        return False
    if spec.coco is not None and spec.split:
        _read_instances(index, coco_split_paths(spec.coco, spec.split)[1])
    elif spec.instances is not None and spec.detections is None:
        _read_instances(index, spec.instances)
    else:
        records, _ = load_contexts(spec)
        _read_records(index, records, f"run.json source of {inp.label} ({describe(spec)})")
    return True


def load_truth(spec: TruthSpec, inputs: list[Input]) -> TruthIndex:
    """The ground truth for the samples of `inputs`: from `spec`, else from each run's own record."""
    index = TruthIndex()
    if spec.coco is not None or spec.split is not None:
        if spec.coco is None or not spec.split:
            raise UsageError("--coco and --split go together", hint="e.g. --coco /data/coco --split val2017")
        _read_instances(index, coco_split_paths(spec.coco, spec.split)[1])
    if spec.instances is not None:
        _read_instances(index, spec.instances)
    for path in spec.contexts:
        _read_contexts_file(index, path)
    if spec.given():
        return index
    missing = [inp.label for inp in inputs if not _from_run(index, inp)]
    if missing:
        raise UsageError(
            f"no ground truth for {', '.join(missing)}: it records no source (no run.json source, no contexts.jsonl)",
            hint="pass --instances FILE, --coco DIR --split SPLIT or --contexts FILE",
        )
    return index
