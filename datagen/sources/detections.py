"""`--detections FILE`: a detector's boxes (COCO results format) as context boxes.

The file is a JSON array of `{"image_id", "category_id", "bbox": [x, y, w, h] (pixels), "score"}`,
what COCO-style detectors and `pycocotools`' evaluation read and write. Category names come from
`--instances` or `--categories FILE` (a JSON file with a `categories` list, or the list itself).
Per image, detections scoring below `--min-score` are dropped, the rest are kept highest score first
(ties in file order) up to `--max-boxes`, then normalised like COCO boxes.

A score outside [0, 1] is an error (the threshold would mean nothing). Boxes that are NaN,
zero-size or negative, or that point to unknown images or categories, are skipped and counted; if
no detection at all matches a known image (or category), that is an error: the files do not belong
together.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from datagen.common.jsonio import read_json
from datagen.errors import InputError
from datagen.sources.coco import normalise_xywh
from datagen.sources.contextset import ContextSet


def read_categories(path: str | Path) -> dict[int, str]:
    """`{category_id: name}` from a JSON file holding a `categories` list (or the list itself)."""
    p = Path(path)
    data = read_json(p)
    cats = data.get("categories") if isinstance(data, dict) else data
    if not isinstance(cats, list):
        raise InputError(
            f"{p}: no 'categories' list", hint='pass a COCO instances file or [{"id", "name"}, ...]'
        )
    out: dict[int, str] = {}
    for i, c in enumerate(cats):
        if not isinstance(c, dict) or not isinstance(c.get("id"), int) or not isinstance(c.get("name"), str):
            raise InputError(f"{p}: categories[{i}] needs an integer 'id' and a string 'name'")
        out[c["id"]] = c["name"]
    return out


def _check_score(det: dict[str, Any], where: str) -> float:
    s = det.get("score")
    if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s):
        raise InputError(f"{where}: 'score' must be a number in [0, 1], got {s!r}")
    if not 0 <= s <= 1:
        raise InputError(
            f"{where}: score {s} is outside [0, 1]",
            hint="--min-score compares probabilities; convert logits or percentages first",
        )
    return float(s)


def add_detections(
    cset: ContextSet,
    path: str | Path,
    categories: dict[int, str],
    *,
    min_score: float = 0.5,
    max_boxes: int | None = None,
) -> None:
    """Add the detections in `path` to the images of `cset` (sizes must be known by now)."""
    p = Path(path)
    data = read_json(p)
    if not isinstance(data, list):
        raise InputError(
            f"{p}: expected a JSON array of detections, got {type(data).__name__}",
            hint='COCO results format: [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}]',
        )
    report, source = cset.report, p.name
    kept: dict[Hashable, list[tuple[float, int, dict[str, Any]]]] = {}
    matched_image = matched_category = False
    for i, det in enumerate(data):
        where = f"{p}[{i}]"
        if (
            not isinstance(det, dict)
            or "image_id" not in det
            or "category_id" not in det
            or "bbox" not in det
        ):
            raise InputError(f"{where}: a detection needs image_id, category_id, bbox and score")
        score = _check_score(det, where)
        key = cset.find(det["image_id"])
        if key is None:
            report.add("box_unknown_image", f"{p.name}[{i}]")
            continue
        matched_image = True
        name = categories.get(det["category_id"])
        if name is None:
            report.add("box_unknown_category", f"{p.name}[{i}]")
            continue
        matched_category = True
        if score < min_score:
            report.add("detection_below_min_score", f"{p.name}[{i}]")
            continue
        img = cset.images[key]
        if img["width"] is None or img["height"] is None:
            continue  # the image is skipped (and counted) for having no size
        bbox, note = normalise_xywh(det["bbox"], img["width"], img["height"])
        if note:
            report.add(note, f"{p.name}[{i}]")
            if bbox is None:
                continue
        box = {"category": name, "bbox": bbox, "score": score, "source": source}
        kept.setdefault(key, []).append((-score, i, box))
    if data and not matched_image:
        raise InputError(
            f"{p}: no detection matches a known image (e.g. image_id {data[0].get('image_id')!r})",
            hint="do the detections belong to these annotations / captions?",
        )
    if matched_image and not matched_category:
        raise InputError(
            f"{p}: no detection has a known category_id", hint="check --categories / --instances"
        )
    for key, rows in kept.items():
        rows.sort(key=lambda r: (r[0], r[1]))
        if max_boxes is not None and len(rows) > max_boxes:
            for _, i, _ in rows[max_boxes:]:
                report.add("detection_over_max_boxes", f"{p.name}[{i}]")
            rows = rows[:max_boxes]
        cset.add_boxes(key, [box for _, _, box in rows])
