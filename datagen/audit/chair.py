"""Audit check: object hallucination, CHAIR-style, against the image's COCO labels.

Per sample, the categories its model turns name (each once, however often it is named; negated
mentions set aside, see `tasks/objects/mentions.py`) are compared with the categories annotated in
its image. Over a set of samples (Rohrbach et al.'s CHAIR, with our matcher):

- CHAIR_i = hallucinated category mentions / all category mentions;
- CHAIR_s = samples with at least one hallucinated mention / samples with at least one mention;
- recall  = annotated categories the samples name / all annotated categories of those samples.

Only samples whose image has checkable ground truth count; the rest are tallied as `no_truth`
(image not in the annotations) or `not_checkable` (no annotated boxes to trust).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from datagen.tasks.objects.mentions import Mention
from datagen.tasks.objects.truth import ImageTruth


@dataclass(slots=True)
class ObjectFinding:
    named: dict[str, list[str]] = field(default_factory=dict)  # category -> words that named it
    negated: dict[str, list[str]] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)  # named categories the image does not have
    covered: int = 0  # annotated categories named
    annotated: int = 0


def object_finding(mentions: list[Mention], truth: ImageTruth) -> ObjectFinding:
    found = ObjectFinding()
    for m in mentions:
        bucket = found.negated if m.negated else found.named
        words = bucket.setdefault(m.category, [])
        if m.words not in words:
            words.append(m.words)
    found.absent = [c for c in found.named if c not in truth.present]
    found.annotated = len(truth.present)
    found.covered = sum(1 for c in truth.present if c in found.named)
    return found


def tally(counter: Counter[str], f: ObjectFinding) -> None:
    """Add one checkable sample's finding to a group's counters."""
    counter["checkable"] += 1
    counter["mentions"] += len(f.named)
    counter["hallucinated"] += len(f.absent)
    counter["negated"] += len(f.negated)
    counter["with_mention"] += 1 if f.named else 0
    counter["with_hallucination"] += 1 if f.absent else 0
    counter["covered"] += f.covered
    counter["annotated"] += f.annotated


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def figures(c: Counter[str]) -> dict[str, float | int | None]:
    return {
        "chair_i": _ratio(c["hallucinated"], c["mentions"]),
        "chair_s": _ratio(c["with_hallucination"], c["with_mention"]),
        "recall": _ratio(c["covered"], c["annotated"]),
        "samples_checked": c["checkable"],
        "samples_with_mention": c["with_mention"],
        "samples_with_hallucination": c["with_hallucination"],
        "mentions": c["mentions"],
        "hallucinated_mentions": c["hallucinated"],
        "negated_mentions": c["negated"],
        "no_truth": c["no_truth"],
        "not_checkable": c["not_checkable"],
    }
