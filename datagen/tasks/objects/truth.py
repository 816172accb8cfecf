"""What an image's annotations say is in it: the ground truth the object checks compare text with.

COCO labels every instance of all 80 categories in every image, so a category with no box is
reliably absent. That holds only for COCO's own (human) boxes: boxes a detector added
(`--detections`) are guesses, and a record with no annotated box at all may simply have had no
instances file loaded. So a context record is *checkable* only when it has at least one COCO
box; `ImageTruth.from_instances` (an instances file read directly) is checkable even with none,
since the file then says the image holds none of the 80.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from datagen.sources.coco import COCO_SOURCE


@dataclass
class ImageTruth:
    """One image's annotated objects."""

    present: set[str] = field(default_factory=set)  # every category with a box (crowd ones too)
    counts: dict[str, int] = field(default_factory=dict)  # non-crowd instances per category
    crowd: set[str] = field(default_factory=set)  # categories with a crowd region (count unknown)
    boxes: list[tuple[str, list[float]]] = field(default_factory=list)  # (category, normalised xyxy)
    width: float | None = None
    height: float | None = None
    checkable: bool = True

    def add(self, category: str, bbox: list[float], crowd: bool) -> None:
        self.present.add(category)
        if crowd:
            self.crowd.add(category)
        else:
            self.counts[category] = self.counts.get(category, 0) + 1
        self.boxes.append((category, [float(v) for v in bbox]))


def truth_from_record(record: dict[str, Any], *, exhaustive: bool = False) -> ImageTruth:
    """The COCO-annotated boxes of a context record (detector boxes ignored) as an `ImageTruth`.

    `exhaustive`: the record came from an instances file, so no box means no object."""
    truth = ImageTruth(width=record.get("width"), height=record.get("height"))
    for box in record.get("boxes") or []:
        if not isinstance(box, dict) or box.get("source", COCO_SOURCE) != COCO_SOURCE:
            continue
        bbox = box.get("bbox")
        if isinstance(box.get("category"), str) and isinstance(bbox, list) and len(bbox) == 4:
            truth.add(box["category"], bbox, bool(box.get("crowd")))
    truth.checkable = exhaustive or bool(truth.present)
    return truth
