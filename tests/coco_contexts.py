"""Test helper: context records built straight from raw COCO JSON, as DESIGN.md defines them.

Used where a test needs context records without going through `datagen context` (and to check the
grounded answers against an independent reading of the annotations).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any


def raw_instances(coco_mini: Path, split: str) -> dict[str, Any]:
    return json.loads((coco_mini / "annotations" / f"instances_{split}2017.json").read_text())


def contexts(coco_mini: Path, split: str) -> list[dict[str, Any]]:
    raw = raw_instances(coco_mini, split)
    caps = json.loads((coco_mini / "annotations" / f"captions_{split}2017.json").read_text())
    captions: dict[int, list[str]] = defaultdict(list)
    for c in caps["annotations"]:
        captions[c["image_id"]].append(c["caption"].strip())
    cats = {c["id"]: c["name"] for c in raw["categories"]}
    by_image: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ann in raw["annotations"]:
        by_image[ann["image_id"]].append(ann)
    out = []
    for img in raw["images"]:
        w, h = img["width"], img["height"]
        boxes = []
        for ann in by_image[img["id"]]:
            x, y, bw, bh = ann["bbox"]
            box = {
                "category": cats[ann["category_id"]],
                "bbox": [round(x / w, 3), round(y / h, 3), round((x + bw) / w, 3), round((y + bh) / h, 3)],
            }
            if ann["iscrowd"]:
                box["crowd"] = True
            boxes.append(box)
        out.append(
            {
                "id": f"{img['id']:012d}",
                "image_id": img["id"],
                "image": img["file_name"],
                "width": w,
                "height": h,
                "captions": captions[img["id"]],
                "boxes": boxes,
            }
        )
    return out
