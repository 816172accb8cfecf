"""CLI source options → context records: the one entry point `datagen context` and `generate` share.

A `SourceSpec` holds what the user passed; `load_contexts(spec)` checks the combination, fills one
`ContextSet` from every source given, and returns the records plus a `SkipReport`:

- images (+ captions, boxes) from `--coco DIR --split S`, `--captions F [--instances F]` or
  `--input FILE.jsonl`, or images + captions from a captioner's `--captions-file` alone;
- more captions from `--captions-file`, more boxes from a detector's `--detections`
  (`--min-score`, `--max-boxes`, categories from `--instances` or `--categories`);
- missing image sizes from file headers under `--images ROOT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.common.jsonio import gc_paused
from datagen.common.outputs import note_inputs
from datagen.errors import InputError, UsageError
from datagen.sources.coco import coco_split_paths, read_coco
from datagen.sources.contextset import ContextSet, SkipReport
from datagen.sources.input_rows import BOX_FORMATS, read_context_input


@dataclass
class SourceSpec:
    coco: Path | None = None
    split: str | None = None
    captions: Path | None = None
    instances: Path | None = None
    input: Path | None = None
    skip_crowd: bool = False
    box_format: str = "xyxy-norm"
    images: Path | None = None
    captions_file: Path | None = None
    detections: Path | None = None
    categories: Path | None = None
    min_score: float = 0.5
    max_boxes: int | None = None

    def given(self) -> bool:
        return any(
            x is not None for x in (self.coco, self.captions, self.instances, self.input, self.captions_file)
        )


SOURCE_HELP = "give --coco DIR --split SPLIT, --captions FILE [--instances FILE], --input FILE.jsonl or --captions-file FILE"


def check_spec(spec: SourceSpec) -> None:
    """Reject contradictory or incomplete source options with a message saying what to pass."""
    if spec.box_format not in BOX_FORMATS:
        raise UsageError(
            f"unknown --box-format '{spec.box_format}'", hint=f"choose one of: {', '.join(BOX_FORMATS)}"
        )
    if spec.box_format != "xyxy-norm" and spec.input is None:
        raise UsageError(
            "--box-format applies to --input rows", hint="--detections are always COCO [x, y, w, h] pixels"
        )
    if spec.coco is not None and (spec.captions is not None or spec.instances is not None):
        raise UsageError("--coco cannot be combined with --captions/--instances", hint=SOURCE_HELP)
    if spec.coco is not None and not spec.split:
        raise UsageError("--coco needs --split (e.g. --split val2017)")
    if spec.split and spec.coco is None:
        raise UsageError("--split only applies with --coco DIR")
    if spec.input is not None and (
        spec.coco is not None or spec.captions is not None or spec.instances is not None
    ):
        raise UsageError("--input cannot be combined with COCO annotation files", hint=SOURCE_HELP)
    if spec.instances is not None and spec.captions is None and spec.captions_file is None:
        raise UsageError(
            "--instances needs --captions FILE or --captions-file FILE (captions are every context's core)"
        )
    if not spec.given():
        if spec.detections is not None:
            raise UsageError(
                "--detections adds boxes to images; also give a source of images and captions",
                hint=SOURCE_HELP,
            )
        raise UsageError("no source of images given", hint=SOURCE_HELP)
    if (
        spec.detections is not None
        and spec.categories is None
        and spec.coco is None
        and spec.instances is None
    ):
        raise UsageError("--detections needs category names: pass --categories FILE or --instances FILE")
    if spec.categories is not None and spec.detections is None:
        raise UsageError("--categories only applies with --detections")
    if not 0 <= spec.min_score <= 1:
        raise UsageError(f"--min-score {spec.min_score} is outside [0, 1]")
    if spec.max_boxes is not None and spec.max_boxes < 1:
        raise UsageError("--max-boxes must be at least 1")


def fill_context_set(spec: SourceSpec) -> ContextSet:
    """Every source in `spec`, added to one ContextSet in a fixed order (base, captions, detections)."""
    check_spec(spec)
    note_inputs(
        spec.input, spec.captions, spec.instances, spec.captions_file, spec.detections, spec.categories
    )
    cset = ContextSet()
    if spec.input is not None:
        read_context_input(cset, spec.input, box_format=spec.box_format, images_root=spec.images)
    elif spec.coco is not None:
        caps, inst = coco_split_paths(spec.coco, spec.split or "")
        note_inputs(caps, inst)
        read_coco(cset, caps, inst, skip_crowd=spec.skip_crowd, images_root=spec.images)
    elif spec.captions is not None or spec.instances is not None:
        read_coco(cset, spec.captions, spec.instances, skip_crowd=spec.skip_crowd, images_root=spec.images)
    if spec.captions_file is not None:
        from datagen.sources.captions_file import add_captions_file

        add_captions_file(cset, spec.captions_file, images_root=spec.images)
    if spec.detections is not None:
        from datagen.sources.detections import add_detections, read_categories

        cats = read_categories(spec.categories) if spec.categories is not None else cset.categories
        add_detections(cset, spec.detections, cats, min_score=spec.min_score, max_boxes=spec.max_boxes)
    return cset


def load_contexts(spec: SourceSpec) -> tuple[list[dict[str, Any]], SkipReport]:
    """Context records for `spec`, in source order, with the skip report; errors if none result."""
    cset = fill_context_set(spec)
    with gc_paused():
        records = cset.records()
    if not records:
        where = next(
            str(p) for p in (spec.input, spec.coco, spec.captions, spec.instances, spec.captions_file) if p
        )
        detail = "; ".join(cset.report.lines()) or "the source lists no images"
        raise InputError(f"{where}: no usable image (every one was skipped: {detail})")
    return records, cset.report


def find_record(records: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The record whose id, image_id or image file name is `key` (for `context --show`)."""
    for rec in records:
        if key in (rec["id"], str(rec.get("image_id")), rec.get("image")):
            return rec
        if key.isdigit() and rec.get("image_id") == int(key):
            return rec
    sample = ", ".join(r["id"] for r in records[:5])
    raise InputError(f"no image with id '{key}' in the source", hint=f"ids look like: {sample}")
