"""Grounded QA: question/answer pairs computed from a COCO context record alone, with no LLM.

Every answer is a fact read off the annotations: how many non-crowd instances a category has
(1 to 10), whether a category is present (COCO labels all 80 categories exhaustively, so a category
with no box is reliably absent and makes a useful "No" answer), where one single-instance object is
relative to another (only when their box centres are more than `margin` apart, so "left of" is never
a judgement call), which category fills a given box, and the box of a single-instance category.

Only human-annotated boxes are used (source `coco`, or no source as in hand-made records); boxes a
detector added with `--detections` are ignored, since they are guesses rather than annotations.

Choices (which facts, which phrasing) come from an RNG seeded by `(seed, image id)`, so the output
is the same for the same seed whatever order images are processed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datagen.sources.coco import COCO_SOURCE
from datagen.tasks.grounded.nouns import COCO_CATEGORIES, noun
from datagen.tasks.grounded.phrasing import (
    ask_absent,
    ask_count,
    ask_exists,
    ask_locate,
    ask_region,
    ask_relation,
)

ANNOTATION_SOURCE = COCO_SOURCE  # the `source` of boxes from COCO's instance annotations
KINDS = ("count", "exists", "absent", "relation", "region", "locate")


@dataclass(frozen=True)
class GroundedSettings:
    max_questions: int = 6  # questions per image (one multi-turn record)
    margin: float = 0.1  # min distance between box centres (fraction of image size) for relations
    min_region: float = 0.01  # min box area (fraction of image) for "what is in this region?"
    negatives: bool = True  # ask about absent categories (needs exhaustive COCO labels)


@dataclass(frozen=True)
class GroundedQA:
    """One question with its answer text and the checkable fact behind it."""

    kind: str  # one of KINDS
    question: str
    answer: str
    subject: tuple[str, ...]  # the category (or the two categories, for relations)
    value: Any  # count (int), presence (bool), relation word, category name or bbox list
    # The exact short answer to the question as asked ("3", "yes", "left", "dog", "[0.1, ...]"):
    # what an RL reward checks a reply against (`export/verifiable.py`).
    expected: str = ""
    box: list[float] | None = None  # region/locate: the box the question or answer shows (normalised)

    def fact(self) -> dict[str, Any]:
        """The checkable fact as stored with the sample (`facts` in results.jsonl), one per turn pair."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "subject": list(self.subject),
            "value": self.value,
            "expected": self.expected,
        }
        if self.box is not None:
            out["box"] = list(self.box)
        return out


@dataclass
class _Objects:
    """Per category: its non-crowd boxes and whether a crowd region also covers some of it."""

    boxes: dict[str, list[list[float]]]
    crowd: set[str]

    def present(self) -> list[str]:
        return sorted(set(self.boxes) | self.crowd)

    def single(self) -> list[str]:
        """Categories with exactly one instance and no crowd region: "the dog" is unambiguous."""
        return sorted(c for c, b in self.boxes.items() if len(b) == 1 and c not in self.crowd)


def format_box(bbox: list[float]) -> str:
    """A box as the context shows it: `[x1, y1, x2, y2]`, 3 decimals, as Python prints floats."""
    return "[" + ", ".join(repr(round(float(v), 3)) for v in bbox) + "]"


def annotated_boxes(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The boxes that are human annotations: source `coco` (or no source, as in older records).
    Boxes from a detector (`--detections`) are guesses, so no grounded answer is built on them."""
    return [b for b in record.get("boxes") or [] if b.get("source", ANNOTATION_SOURCE) == ANNOTATION_SOURCE]


def _objects(record: dict[str, Any]) -> _Objects:
    boxes: dict[str, list[list[float]]] = {}
    crowd: set[str] = set()
    for box in annotated_boxes(record):
        if box.get("crowd"):
            crowd.add(box["category"])
        else:
            boxes.setdefault(box["category"], []).append([float(v) for v in box["bbox"]])
    return _Objects(boxes, crowd)


def _centre(b: list[float]) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def _counts(objs: _Objects, rng: random.Random, s: GroundedSettings) -> list[GroundedQA]:
    out = []
    for cat, boxes in objs.boxes.items():
        # A crowd region hides an unknown number of instances, so such a category is not counted.
        if cat not in objs.crowd and 1 <= len(boxes) <= 10:
            q, a = ask_count(noun(cat), len(boxes), rng)
            out.append(GroundedQA("count", q, a, (cat,), len(boxes), str(len(boxes))))
    return out


def _exists(objs: _Objects, rng: random.Random, s: GroundedSettings) -> list[GroundedQA]:
    out = []
    for cat in objs.present():
        several = cat in objs.crowd or len(objs.boxes.get(cat, [])) > 1
        q, a = ask_exists(noun(cat), several, rng)
        out.append(GroundedQA("exists", q, a, (cat,), True, "yes"))
    return out


def _absent(objs: _Objects, rng: random.Random, s: GroundedSettings) -> list[GroundedQA]:
    present = objs.present()
    # Absence is only reliable when the labels are COCO's exhaustive ones: at least one box (so the
    # instance annotations were loaded) and every label a COCO category (not an open-vocabulary detector).
    if not s.negatives or not present or any(c not in COCO_CATEGORIES for c in present):
        return []
    absent = [c for c in COCO_CATEGORIES if c not in present]
    out = []
    for cat in rng.sample(absent, min(len(absent), s.max_questions)):
        q, a = ask_absent(noun(cat), rng)
        out.append(GroundedQA("absent", q, a, (cat,), False, "no"))
    return out


def _relations(objs: _Objects, rng: random.Random, s: GroundedSettings) -> list[GroundedQA]:
    single = objs.single()
    out = []
    for i, a in enumerate(single):
        for b in single[i + 1 :]:
            first, second = (a, b) if rng.random() < 0.5 else (b, a)
            (fx, fy), (sx, sy) = _centre(objs.boxes[first][0]), _centre(objs.boxes[second][0])
            axes = []
            if abs(fx - sx) > s.margin:
                axes.append(("left", "right") if fx < sx else ("right", "left"))
            if abs(fy - sy) > s.margin:  # image y grows downwards
                axes.append(("above", "below") if fy < sy else ("below", "above"))
            if not axes:
                continue
            true, opposite = rng.choice(axes)
            q, ans, short = ask_relation(noun(first), noun(second), true, opposite, rng)
            out.append(GroundedQA("relation", q, ans, (first, second), true, short))
    return out


def _regions(objs: _Objects, rng: random.Random, s: GroundedSettings) -> list[GroundedQA]:
    seen: dict[str, int] = {}
    for boxes in objs.boxes.values():
        for b in boxes:
            seen[format_box(b)] = seen.get(format_box(b), 0) + 1
    out = []
    for cat, boxes in objs.boxes.items():
        for b in boxes:
            area = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
            # Skip specks, and boxes shared by two annotations (the answer would be ambiguous).
            if area < s.min_region or seen[format_box(b)] > 1:
                continue
            q, a = ask_region(noun(cat), format_box(b), rng)
            out.append(GroundedQA("region", q, a, (cat,), cat, noun(cat).singular, list(b)))
    return out


def _locates(objs: _Objects, rng: random.Random, s: GroundedSettings) -> list[GroundedQA]:
    out = []
    for cat in objs.single():
        box = objs.boxes[cat][0]
        q, a = ask_locate(noun(cat), format_box(box), rng)
        rounded = [round(v, 3) for v in box]
        out.append(GroundedQA("locate", q, a, (cat,), rounded, format_box(box), list(box)))
    return out


_MAKERS: dict[str, Callable[[_Objects, random.Random, GroundedSettings], list[GroundedQA]]] = {
    "count": _counts,
    "exists": _exists,
    "absent": _absent,
    "relation": _relations,
    "region": _regions,
    "locate": _locates,
}


def grounded_questions(
    record: dict[str, Any], rng: random.Random, settings: GroundedSettings | None = None
) -> list[GroundedQA]:
    """Up to `max_questions` facts about one image, mixing kinds round-robin in a random order."""
    s = settings or GroundedSettings()
    objs = _objects(record)
    pools = {kind: make(objs, rng, s) for kind, make in _MAKERS.items()}
    for pool in pools.values():
        rng.shuffle(pool)
    order = [k for k in KINDS if pools[k]]
    rng.shuffle(order)
    chosen: list[GroundedQA] = []
    asked: set[str] = set()
    while order and len(chosen) < s.max_questions:
        for kind in list(order):
            if len(chosen) >= s.max_questions:
                break
            pool = pools[kind]
            while pool and pool[-1].question in asked:
                pool.pop()
            if not pool:
                order.remove(kind)
                continue
            qa = pool.pop()
            asked.add(qa.question)
            chosen.append(qa)
    return chosen
