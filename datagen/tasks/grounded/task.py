"""`grounded_qa` task: several annotation-checked questions per image as one multi-turn LLaVA record.

Needs no model (`uses_llm = False`): the engine calls `direct_pairs` for each context record instead
of sending a request, then applies `filters()` as for any sample. Task-specific options arrive in `TaskOptions.extra`: `max_questions`, `margin`,
`min_region`, `negatives` (see `datagen/tasks/grounded/questions.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from datagen.errors import UsageError
from datagen.records import placement_rng
from datagen.tasks.base import FilterFn, Job, QAPairs, Task, TaskOptions
from datagen.tasks.grounded.questions import (
    ANNOTATION_SOURCE,
    GroundedQA,
    GroundedSettings,
    grounded_questions,
)


def settings_from(opts: TaskOptions) -> GroundedSettings:
    """Validated settings from `opts.extra` (missing keys keep the defaults)."""
    extra = opts.extra
    default = GroundedSettings()
    max_q = extra.get("max_questions")
    margin = extra.get("margin")
    min_region = extra.get("min_region")
    s = GroundedSettings(
        max_questions=default.max_questions if max_q is None else int(max_q),
        margin=default.margin if margin is None else float(margin),
        min_region=default.min_region if min_region is None else float(min_region),
        negatives=bool(extra.get("negatives", default.negatives)),
    )
    if s.max_questions < 1:
        raise UsageError(f"--max-questions must be at least 1, got {s.max_questions}")
    if not 0.0 <= s.margin < 1.0:
        raise UsageError(f"--margin must be between 0 and 1 (a fraction of the image size), got {s.margin}")
    if not 0.0 <= s.min_region < 1.0:
        raise UsageError(f"--min-region must be between 0 and 1, got {s.min_region}")
    return s


class GroundedQATask(Task):
    name = "grounded_qa"
    uses_llm = False

    def sample_id(self, source: dict[str, Any]) -> str:
        return str(source.get("id", source.get("image_id")))

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> Iterator[Job]:
        """One message-less job per image, so the engine can key, resume and record it like the others."""
        settings_from(opts)  # fail on bad options before any work
        for src in sources:
            yield Job(sample_id=f"{self.name}:{self.sample_id(src)}", task=self.name, messages=[], source=src)

    def questions(self, source: dict[str, Any], opts: TaskOptions) -> list[GroundedQA]:
        rng = placement_rng(opts.seed, f"{self.name}:{self.sample_id(source)}")
        return grounded_questions(source, rng, settings_from(opts))

    def direct_pairs(self, source: dict[str, Any], opts: TaskOptions) -> QAPairs:
        return [(qa.question, qa.answer) for qa in self.questions(source, opts)]

    def filters(self) -> list[tuple[str, FilterFn]]:
        # An image with nothing checkable to ask (no boxes) becomes a failures.jsonl line through
        # this filter, never an empty sample.
        return [("no_questions", _no_questions)]


def _no_questions(pairs: QAPairs, job: Job) -> str | None:
    if pairs:
        return None
    others = sorted({str(b.get("source")) for b in job.source.get("boxes") or []} - {ANNOTATION_SOURCE})
    if others:
        return (
            "no annotation-checkable question: no COCO-annotated box "
            f"(boxes from {', '.join(others)} are not used by grounded_qa)"
        )
    return "no annotation-checkable question (the image has no boxes)"
