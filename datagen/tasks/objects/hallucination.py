"""The `hallucination` generation filter: reject a sample whose answers name a COCO object that the
image's annotations do not have.

It reads the job's own context record (the one the prompt was built from), so it needs no extra
input; a record without COCO-annotated boxes cannot be judged and is accepted (see `truth`). Only
the answers count: questions are prompts, and a model asking "is there a dog?" claims nothing.
A negated mention ("there is no dog") is not a claim either (see `mentions`). `datagen audit`
measures the same thing over a finished data set (CHAIR) with the same matcher.

The filter is on by default for tasks whose text should be grounded in the annotations (grounded_qa,
and any task listing it in `filters()` but not in `optional_filters`), and off for LLaVA's text-only
tasks (`--filter hallucination` turns it on), because LLaVA's GPT-4 data has such mentions too
and dropping them changes the recipe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from datagen.tasks.objects.mentions import find_mentions
from datagen.tasks.objects.truth import truth_from_record

if TYPE_CHECKING:
    from datagen.tasks.base import Job, QAPairs

HALLUCINATION = "hallucination"


def hallucination(pairs: QAPairs, job: Job) -> str | None:
    """Reject the first answer naming a category absent from the image's annotations."""
    truth = truth_from_record(job.source)
    if not truth.checkable:
        return None
    for i, (_q, answer) in enumerate(pairs, start=1):
        for m in find_mentions(answer):
            if not m.negated and m.category not in truth.present:
                return f"turn {i} answer names {m.category} ('{m.words}'), which the image's annotations do not have"
    return None
