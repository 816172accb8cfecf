"""CLI source options → context records: the one entry point `datagen context` and `generate` share.

A `SourceSpec` holds what the user passed (`--coco DIR --split S`, `--captions F [--instances F]`,
`--input contexts.jsonl`, ...); `load_contexts(spec)` checks the combination and returns the
records plus a `SkipReport` of everything skipped or clamped along the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.coco import SkipReport, build_coco_contexts, coco_split_paths
from datagen.context_input import BOX_FORMATS, read_context_input
from datagen.errors import InputError, UsageError


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

    def given(self) -> bool:
        return any(x is not None for x in (self.coco, self.captions, self.instances, self.input))


SOURCE_HELP = "give --coco DIR --split SPLIT, --captions FILE [--instances FILE], or --input FILE.jsonl"


def check_spec(spec: SourceSpec) -> None:
    """Reject contradictory or incomplete source options with a message saying what to pass."""
    if spec.box_format not in BOX_FORMATS:
        raise UsageError(
            f"unknown --box-format '{spec.box_format}'", hint=f"choose one of: {', '.join(BOX_FORMATS)}"
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
    if spec.instances is not None and spec.captions is None:
        raise UsageError("--instances needs --captions FILE (captions are the core of every context)")
    if not spec.given():
        raise UsageError("no source of images given", hint=SOURCE_HELP)


def load_contexts(spec: SourceSpec) -> tuple[list[dict[str, Any]], SkipReport]:
    """Context records for `spec`, in source order, with the skip report; errors if none result."""
    check_spec(spec)
    if spec.input is not None:
        records, report = read_context_input(spec.input, box_format=spec.box_format)
        where = str(spec.input)
    else:
        inst: Path | None
        if spec.coco is not None:
            caps, inst = coco_split_paths(spec.coco, spec.split or "")
        else:
            assert spec.captions is not None
            caps, inst = spec.captions, spec.instances
        records, report = build_coco_contexts(caps, inst, skip_crowd=spec.skip_crowd)
        where = str(caps)
    if not records:
        detail = "; ".join(report.lines()) or "the file lists no images"
        raise InputError(f"{where}: no usable image (every one was skipped: {detail})")
    return records, report


def find_record(records: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The record whose id, image_id or image file name is `key` (for `context --show`)."""
    for rec in records:
        if key in (rec["id"], str(rec.get("image_id")), rec.get("image")):
            return rec
        if key.isdigit() and rec.get("image_id") == int(key):
            return rec
    sample = ", ".join(r["id"] for r in records[:5])
    raise InputError(f"no image with id '{key}' in the source", hint=f"ids look like: {sample}")
