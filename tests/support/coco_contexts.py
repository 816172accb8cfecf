"""Test helper: context records for a COCO-mini split through the real `datagen.sources.coco` loader, and the
raw instances JSON (so tests can check answers against an independent reading of the annotations)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datagen.sources.coco import build_coco_contexts, coco_split_paths


def raw_instances(coco_mini: Path, split: str) -> dict[str, Any]:
    return json.loads((coco_mini / "annotations" / f"instances_{split}2017.json").read_text())


def contexts(coco_mini: Path, split: str) -> list[dict[str, Any]]:
    caps, inst = coco_split_paths(coco_mini, f"{split}2017")
    records, _ = build_coco_contexts(caps, inst)
    return records
