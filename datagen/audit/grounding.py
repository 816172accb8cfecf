"""Audit check: grounding claims an answer makes, checked against the annotations.

- **Boxes.** A quoted `[x1, y1, x2, y2]` is normalised when all four values are at most 1, else pixels
  (divided by the image size). It is *unmatched* when its IoU with every annotated box is below 0.5,
  *malformed* when its corners are out of order. Without the image size, a pixel box is not judged.
- **Counts.** A count claim ("three giraffes", found by the mention matcher) about a present
  category is compared with the annotated non-crowd instances. It is not judged when the category
  has a crowd region (the count is then unknown) or is counted in pairs (skis, scissors).
"""

from __future__ import annotations

import re
from typing import Any

from datagen.tasks.objects.mentions import Mention
from datagen.tasks.objects.truth import ImageTruth

IOU_MATCH = 0.5
_NUM = r"(-?\d+(?:\.\d+)?)"
_BOX_RE = re.compile(r"\[\s*" + r"\s*,\s*".join([_NUM] * 4) + r"\s*\]")
_PAIRED = {"skis", "scissors"}


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_claims(text: str, truth: ImageTruth) -> list[dict[str, Any]]:
    """Every box quoted in `text`, with how it compares to the annotated boxes."""
    if "[" not in text:
        return []
    out = []
    for m in _BOX_RE.finditer(text):
        vals = [float(v) for v in m.groups()]
        claim: dict[str, Any] = {"box": m.group(0)}
        if max(vals) <= 1.0:
            claim["units"], norm = "normalised", vals
        elif truth.width and truth.height:
            w, h = float(truth.width), float(truth.height)
            claim["units"], norm = "pixels", [vals[0] / w, vals[1] / h, vals[2] / w, vals[3] / h]
        else:
            claim.update(units="pixels", verdict="unknown_size")
            out.append(claim)
            continue
        if norm[2] <= norm[0] or norm[3] <= norm[1]:
            claim["verdict"] = "malformed"
        else:
            best, cat = max(((iou(norm, b), c) for c, b in truth.boxes), default=(0.0, None))
            claim.update(
                best_iou=round(best, 3), nearest=cat, verdict="ok" if best >= IOU_MATCH else "unmatched"
            )
        out.append(claim)
    return out


def count_claims(mentions: list[Mention], truth: ImageTruth) -> list[dict[str, Any]]:
    """Every count claim about a category the image has, with the annotated count."""
    out = []
    for m in mentions:
        if m.number is None or m.category not in truth.present:
            continue
        claim: dict[str, Any] = {"category": m.category, "words": m.words, "claimed": m.number}
        if m.category in truth.crowd or m.category in _PAIRED:
            claim["verdict"] = "unknown_count"
        else:
            annotated = truth.counts.get(m.category, 0)
            claim.update(annotated=annotated, verdict="ok" if annotated == m.number else "wrong")
        out.append(claim)
    return out
