"""Grounded QA boxes in each trainer's coordinate convention (a step of the trainer exports).

grounded_qa writes boxes as LLaVA does: `[x1, y1, x2, y2]` as fractions of the image size, 3 decimals,
and stores each question's fact (`facts`, with the box) in the record. Trainers of grounding models
expect their own convention, so those exports rewrite the box text of region and locate questions:

- `pixel` (ms-swift `objects`, `bbox_type` "real"): absolute pixels of the original image;
- `qwen2.5` (Qwen2.5-VL): absolute pixels of the image *as the model sees it*, i.e. after Qwen's
  `smart_resize` to multiples of 28 within `min_pixels`..`max_pixels` (the trainer's settings);
- `norm1000` (Qwen3-VL, InternVL): integers 0..1000 of the image width and height.

Pixel conventions need the image size: the record's `width`/`height` (COCO sources) or the image
header under `--images`. The boxes are as exact as the context's 3 decimals (1/2000 of a side), so a
converted box comes back within a pixel for images up to 1000 pixels a side.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.common.image_sizes import header_size
from datagen.errors import InputError
from datagen.tasks.grounded.nouns import noun
from datagen.tasks.grounded.phrasing import COORDS_NOTE
from datagen.tasks.grounded.questions import format_box

BOX_KINDS = ("region", "locate")
QWEN_FACTOR = 28  # Qwen2.5-VL: 14-pixel patches merged 2x2
QWEN_MIN_PIXELS = 28 * 28 * 16  # the defaults of Qwen's fine-tuning scripts (qwenvl/train/argument.py)
QWEN_MAX_PIXELS = 28 * 28 * 576

Size = tuple[int, int]  # (width, height)


def smart_resize(
    height: int, width: int, min_pixels: int, max_pixels: int, factor: int = QWEN_FACTOR
) -> Size:
    """`(height, width)` Qwen2.5-VL resizes an image to: both multiples of `factor`, the area within
    [min_pixels, max_pixels], the aspect ratio kept as closely as possible."""
    if min(height, width) < factor:
        raise InputError(f"image of {width}x{height} pixels is smaller than Qwen's {factor}-pixel minimum")
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return h, w


@dataclass(frozen=True)
class Convention:
    """How one trainer writes a box: the frame it is measured in and how it appears in text."""

    name: str
    needs_size: bool
    frame: Callable[[Size, dict[str, Any]], tuple[float, float]]  # (size, options) → (W, H) multipliers
    integer: bool
    clamp_to_frame: bool = True

    def coords(self, box: list[float], size: Size | None, options: dict[str, Any]) -> list[float]:
        if self.needs_size and size is None:
            raise InputError("no image size")  # callers check sizes first; this is a guard
        fw, fh = self.frame(size or (1, 1), options)
        out = []
        for i, v in enumerate(box):
            scale = fw if i % 2 == 0 else fh
            x = v * scale
            x = float(round(x)) if self.integer else round(x, 1)
            if self.clamp_to_frame:
                x = min(max(x, 0.0), scale)
            out.append(int(x) if self.integer else x)
        return out

    def back(self, coords: list[float], size: Size | None, options: dict[str, Any]) -> list[float]:
        """Fractions of the image size again (for checks: converted and back)."""
        fw, fh = self.frame(size or (1, 1), options)
        return [v / (fw if i % 2 == 0 else fh) for i, v in enumerate(coords)]


def _qwen25_frame(size: Size, options: dict[str, Any]) -> tuple[float, float]:
    w, h = size
    lo = int(options.get("min_pixels") or QWEN_MIN_PIXELS)
    hi = int(options.get("max_pixels") or QWEN_MAX_PIXELS)
    rh, rw = smart_resize(h, w, lo, hi)
    return float(rw), float(rh)


CONVENTIONS = {
    "pixel": Convention("pixel", True, lambda s, o: (float(s[0]), float(s[1])), integer=False),
    "qwen2.5": Convention("qwen2.5", True, _qwen25_frame, integer=True),
    "norm1000": Convention("norm1000", False, lambda s, o: (1000.0, 1000.0), integer=True),
}


def facts_of(rec: dict[str, Any], where: str) -> list[dict[str, Any]] | None:
    """A record's per-pair facts; None for records of other tasks. A grounded_qa record without them
    was written before datagen stored them, and its boxes cannot be converted safely."""
    facts = rec.get("facts")
    if facts is None:
        if rec.get("task") == "grounded_qa":
            raise InputError(
                f"{where}: grounded_qa sample '{rec.get('id')}' has no `facts` (written by an older datagen)",
                hint="generate it again into a new --out folder",
            )
        return None
    pairs = len(rec["conversations"]) // 2
    if not isinstance(facts, list) or len(facts) != pairs:
        raise InputError(f"{where}: sample '{rec.get('id')}' has {len(facts)} facts for {pairs} questions")
    return facts


def has_boxes(facts: list[dict[str, Any]] | None) -> bool:
    return bool(facts) and any(f.get("kind") in BOX_KINDS and f.get("box") for f in facts or [])


def image_size(rec: dict[str, Any], path: Path | None) -> Size | None:
    """`(width, height)` from the record, else from the image header (None if neither is known)."""
    w, h = rec.get("width"), rec.get("height")
    if isinstance(w, int | float) and isinstance(h, int | float) and w > 0 and h > 0:
        return int(w), int(h)
    return header_size(path) if path is not None else None


def require_size(rec: dict[str, Any], path: Path | None, fmt: str) -> Size:
    size = image_size(rec, path)
    if size is None:
        raise InputError(
            f"{fmt}: sample '{rec.get('id')}' has boxes but no image size (the record has no width/height)",
            hint="pass --images ROOT so the sizes are read from the image headers",
        )
    return size


@dataclass(frozen=True)
class BoxText:
    """How a trainer's text shows a box, given its coordinates in the trainer's convention."""

    box: Callable[[list[float]], str]  # the box inside a question or answer sentence
    note: str  # replaces grounded_qa's "fractions" note ("" drops it)
    locate_hint: str = ""  # replaces (or adds) the note of locate questions, saying what to answer
    locate_answer: Callable[[list[float], str], str] | None = None  # a whole locate answer, or None


def _plain(c: list[float]) -> str:
    return "[" + ", ".join(str(v) for v in c) + "]"


def qwen_text(scale: str) -> BoxText:
    return BoxText(
        box=_plain,
        note=f" (Coordinates are [x1, y1, x2, y2] {scale}.)",
        locate_hint=" Output the bbox coordinates in JSON format.",
        locate_answer=lambda c, label: json.dumps({"bbox_2d": c, "label": label}),
    )


INTERNVL_TEXT = BoxText(
    box=lambda c: "<box>[" + _plain(c) + "]</box>",
    note="",
    locate_answer=lambda c, label: f"<ref>{label}</ref><box>[{_plain(c)}]</box>",
)
SWIFT_TEXT = BoxText(box=lambda c: "<bbox>", note="")  # ms-swift fills <bbox> from `objects`


@dataclass
class Rewritten:
    turns: list[dict[str, str]]  # LLaVA turns with the boxes in the trainer's convention
    objects: list[tuple[str, list[float]]]  # (category, coords) in the order the boxes appear


def rewrite(
    rec: dict[str, Any],
    facts: list[dict[str, Any]] | None,
    text: BoxText,
    convention: Convention,
    size: Size | None,
    options: dict[str, Any],
) -> Rewritten:
    """The record's turns with every region/locate box rewritten; other turns unchanged."""
    turns = [{"from": t["from"], "value": t["value"]} for t in rec["conversations"]]
    objects: list[tuple[str, list[float]]] = []
    for i, fact in enumerate(facts or []):
        if fact.get("kind") not in BOX_KINDS or not fact.get("box"):
            continue
        q, a = turns[2 * i], turns[2 * i + 1]
        shown = format_box(fact["box"])
        if shown not in q["value"] and shown not in a["value"]:
            raise InputError(
                f"sample '{rec.get('id')}': question {i + 1} does not show the box {shown} its fact names",
                hint="export the grounded_qa results as generated (edited turns no longer match their facts)",
            )
        coords = convention.coords([float(v) for v in fact["box"]], size, options)
        category = str(fact["subject"][0])
        if fact["kind"] == "locate":
            question = q["value"].replace(COORDS_NOTE, "")
            q["value"] = _insert_hint(question, text.locate_hint) if text.locate_hint else question
            if text.locate_answer is not None:
                a["value"] = text.locate_answer(coords, noun(category).singular)
            else:
                a["value"] = a["value"].replace(shown, text.box(coords))
        else:
            q["value"] = q["value"].replace(shown, text.box(coords)).replace(COORDS_NOTE, text.note)
        objects.append((category, coords))
    return Rewritten(turns, objects)


def _insert_hint(question: str, hint: str) -> str:
    """Add a hint after the question, before the `<image>` line when the token closes the turn."""
    tail = "\n<image>"
    if question.endswith(tail):
        return question[: -len(tail)] + hint + tail
    return question + hint
