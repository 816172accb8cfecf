"""Export generated samples as a Hugging Face dataset (`datagen export hf`): the publishing step.

Inputs (run dirs, results.jsonl, LLaVA JSON arrays such as CC3M's chat.json) are read with
`samples.load_many`, turned into columns with an explicit `datasets.Features` schema (no type
guessing: a column of all-null provenance would otherwise come out as `null` type), checked
(images, task labels) and grouped into splits (`plan_export`); `export_hf_write` then writes
the plan. Nothing is written until every check has passed.

Columns: `id`, `image` (relative path string, or the `Image` feature with embedded bytes),
`conversations` [{from, value}], `task`, then provenance where any record has it (`sample_id`,
`model`, `template_hash`, `request_key`, `usage` {prompt/completion/total tokens}) and `extra`
(JSON text of any other fields, e.g. caption_rewrite's `source_text`), so records round-trip.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen.errors import InputError, UsageError
from datagen.export.images import ImageCheck, check_images
from datagen.rundir.hfread import record_from_row  # noqa: F401  (the inverse of to_columns, re-exported)
from datagen.rundir.samples import load_many, load_run_meta

if TYPE_CHECKING:
    import datasets

CORE = ("id", "image", "conversations", "task")
PROVENANCE = ("sample_id", "model", "template_hash", "request_key")
USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")
DEFAULT_SHARD_SIZE = "500MB"


def import_datasets() -> Any:
    import datasets

    return datasets


@dataclass
class ExportInput:
    """The records of one input file/folder and its run metadata (empty for plain JSON arrays)."""

    path: Path
    records: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)


def read_inputs(
    paths: list[str | Path], *, exclude_ids: set[str] | None = None, default_task: str | None = None
) -> list[ExportInput]:
    """Load every input (validated LLaVA records), dropping excluded ids, filling in `default_task`."""
    if not paths:
        raise UsageError("no inputs given", hint="pass run dirs, results.jsonl or LLaVA .json files")
    out = []
    for p in paths:
        recs = load_many([p], exclude_ids=exclude_ids)
        if default_task:
            for r in recs:
                r.setdefault("task", default_task)
        out.append(ExportInput(Path(p), recs, load_run_meta(p)))
    return out


def build_features(records: list[dict[str, Any]], *, embed_images: bool) -> datasets.Features:
    """The explicit schema for `records`: core columns, then provenance columns some record has."""
    ds = import_datasets()
    string = ds.Value("string")
    feats: dict[str, Any] = {
        "id": string,
        "image": ds.Image() if embed_images else string,
        "conversations": ds.List({"from": string, "value": string}),
        "task": string,
    }
    present: set[str] = set()
    odd_usage = False  # a usage that is not a dict of our three counters goes to `extra`
    for r in records:  # one pass: this runs over every record of a 158K export
        present.update(r)
        usage = r.get("usage")
        if usage is not None and not odd_usage:
            odd_usage = not isinstance(usage, dict) or bool(usage.keys() - USAGE_KEYS)
    for key in PROVENANCE:
        if key in present:
            feats[key] = string
    if "usage" in present:
        feats["usage"] = {k: ds.Value("int64") for k in USAGE_KEYS}
    if present - set(CORE) - set(PROVENANCE) - {"usage"} or odd_usage:
        feats["extra"] = string
    return ds.Features(feats)


def _extra(rec: dict[str, Any]) -> dict[str, Any]:
    """Fields with no column of their own (and a usage dict with keys beyond the three we model)."""
    extra = {k: v for k, v in rec.items() if k not in CORE and k not in PROVENANCE and k != "usage"}
    usage = rec.get("usage")
    if usage is not None and (not isinstance(usage, dict) or set(usage) - set(USAGE_KEYS)):
        extra["usage"] = usage
    return extra


def to_columns(
    records: list[dict[str, Any]], features: datasets.Features, paths: list[Path | None] | None = None
) -> dict[str, list[Any]]:
    """Column lists matching `features`; with the Image feature, image bytes are read from `paths`.

    Built column by column with comprehensions: this runs once per record of a 158K export.
    """
    cols: dict[str, list[Any]] = {
        "id": [str(r["id"]) for r in records],
        "image": [r.get("image") for r in records],
        "conversations": [r["conversations"] for r in records],
        "task": [r.get("task") for r in records],
    }
    if type(features["image"]).__name__ == "Image":
        cols["image"] = [_image_cell(r, paths[i] if paths else None) for i, r in enumerate(records)]
    for key in PROVENANCE:
        if key in features:
            cols[key] = [None if r.get(key) is None else str(r[key]) for r in records]
    if "usage" in features:
        cols["usage"] = [_usage_cell(r.get("usage")) for r in records]
    if "extra" in features:
        cols["extra"] = [_extra_cell(r) for r in records]
    return cols


def _image_cell(rec: dict[str, Any], path: Path | None) -> dict[str, Any] | None:
    name = rec.get("image")
    if name is None:
        return None
    if path is None:
        raise InputError(f"record {rec['id']}: image '{name}' was not resolved")
    return {"bytes": path.read_bytes(), "path": name}


def _usage_cell(usage: Any) -> dict[str, int | None] | None:
    return {k: _as_int(usage.get(k)) for k in USAGE_KEYS} if isinstance(usage, dict) else None


def _extra_cell(rec: dict[str, Any]) -> str | None:
    extra = _extra(rec)
    return json.dumps(extra, ensure_ascii=False) if extra else None


def _as_int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def build_dataset(
    records: list[dict[str, Any]], *, paths: list[Path | None] | None = None, embed_images: bool = False
) -> datasets.Dataset:
    """An in-memory `Dataset` with the explicit schema (built as one Arrow table: no per-row encoding)."""
    ds = import_datasets()
    import pyarrow as pa
    from datasets.table import InMemoryTable

    features = build_features(records, embed_images=embed_images)
    table = pa.Table.from_pydict(to_columns(records, features, paths), schema=features.arrow_schema)
    # A fresh fingerprint: hashing the whole table (the default) costs more than building it.
    return ds.Dataset(
        InMemoryTable(table), info=ds.DatasetInfo(features=features), fingerprint=uuid.uuid4().hex
    )


@dataclass
class ExportPlan:
    """Everything decided before writing: the split → records mapping and the image check."""

    splits: dict[str, list[dict[str, Any]]]
    paths: dict[str, list[Path | None]]
    images: ImageCheck | None
    inputs: list[ExportInput]


def plan_export(
    inputs: list[ExportInput],
    *,
    split: str = "train",
    by_task: bool = False,
    images_root: str | Path | None = None,
    embed_images: bool = False,
    skip_missing: bool = False,
) -> ExportPlan:
    """Check everything that can fail (images, tasks, ids) and group records into splits."""
    if not re.fullmatch(r"\w+(\.\w+)*", split):
        raise UsageError(f"--hf-split '{split}' is not a valid split name", hint="use letters, digits and _")
    if embed_images and images_root is None:
        raise UsageError("--embed-images needs --images ROOT", hint="say where the image files are")
    records = [r for inp in inputs for r in inp.records]
    if not records:
        raise InputError("no records to export (inputs empty or every id excluded)")
    check = None
    paths: list[Path | None] = [None] * len(records)
    if images_root is not None:
        check = check_images(records, images_root, skip=skip_missing)
        records, paths = check.records, check.paths
    if not by_task:
        return ExportPlan({split: records}, {split: paths}, check, inputs)
    splits: dict[str, list[dict[str, Any]]] = {}
    split_paths: dict[str, list[Path | None]] = {}
    for rec, path in zip(records, paths, strict=True):
        key = rec.get("task") or ""
        if not key:
            raise UsageError(
                f"record {rec['id']} has no task, so --by-task cannot place it",
                hint="pass --default-task NAME to label records that carry none",
            )
        if not key.replace("_", "a").isalnum():
            raise InputError(f"record {rec['id']}: task '{key}' is not usable as a split name")
        splits.setdefault(key, []).append(rec)
        split_paths.setdefault(key, []).append(path)
    return ExportPlan(splits, split_paths, check, inputs)
