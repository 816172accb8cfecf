"""`grounded_qa` task: several annotation-checked questions per image as one multi-turn LLaVA record.

Needs no model (`uses_llm = False`): the engine calls `direct_pairs` for each context record instead
of sending a request, then applies `filters()` as for any sample. Its settings are one
`GroundedOptions` (`--max-questions`, `--margin`, `--min-region`, `--negatives`; see `questions.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from datagen.errors import UsageError
from datagen.records import placement_rng
from datagen.tasks.base import FilterFn, Job, JobSet, QAPairs, Task, TaskOptions
from datagen.tasks.grounded.questions import (
    ANNOTATION_SOURCE,
    GroundedQA,
    GroundedSettings,
    grounded_questions,
)
from datagen.tasks.objects.hallucination import HALLUCINATION, hallucination


@dataclass
class GroundedOptions:
    """grounded_qa's settings as given; None keeps the default of `GroundedSettings`."""

    META_KEY = "grounded"  # run.json config records these under this key

    max_questions: int | None = None
    margin: float | None = None
    min_region: float | None = None
    negatives: bool | None = None

    def settings(self) -> GroundedSettings:
        """Validated settings (one-line usage errors for values out of range)."""
        d = GroundedSettings()
        s = GroundedSettings(
            max_questions=d.max_questions if self.max_questions is None else int(self.max_questions),
            margin=d.margin if self.margin is None else float(self.margin),
            min_region=d.min_region if self.min_region is None else float(self.min_region),
            negatives=d.negatives if self.negatives is None else bool(self.negatives),
        )
        if s.max_questions < 1:
            raise UsageError(f"--max-questions must be at least 1, got {s.max_questions}")
        if not 0.0 <= s.margin < 1.0:
            raise UsageError(
                f"--margin must be between 0 and 1 (a fraction of the image size), got {s.margin}"
            )
        if not 0.0 <= s.min_region < 1.0:
            raise UsageError(f"--min-region must be between 0 and 1, got {s.min_region}")
        return s

    def given(self) -> dict[str, Any]:
        """The settings that shape the questions, as the key of a model-free sample hashes them."""
        out: dict[str, Any] = {"negatives": self.settings().negatives}
        for name in ("max_questions", "margin", "min_region"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


class GroundedQATask(Task):
    name = "grounded_qa"
    uses_llm = False
    options_type = GroundedOptions

    def sample_id(self, source: dict[str, Any]) -> str:
        return str(source.get("id", source.get("image_id")))

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        """One message-less job per image, so the engine can key, resume and record it like the others."""
        opts.of(GroundedOptions).settings()  # fail on bad options before any work
        return JobSet(
            [
                Job(sample_id=f"{self.name}:{self.sample_id(s)}", task=self.name, messages=[], source=s)
                for s in sources
            ]
        )

    def questions(self, source: dict[str, Any], opts: TaskOptions) -> list[GroundedQA]:
        rng = placement_rng(opts.seed, f"{self.name}:{self.sample_id(source)}")
        return grounded_questions(source, rng, opts.of(GroundedOptions).settings())

    def direct_pairs(self, source: dict[str, Any], opts: TaskOptions) -> QAPairs:
        return [(qa.question, qa.answer) for qa in self.questions(source, opts)]

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        """The LLaVA record plus `facts` (one checkable fact per question/answer pair, in order) and
        the image size, so exports can convert boxes to a trainer's convention and RL exports can
        check replies (`datagen/export/boxes.py`, `datagen/export/verifiable.py`)."""
        rec = super().to_record(pairs, job, opts)
        qas = self.questions(job.source, opts)  # deterministic: the same questions direct_pairs gave
        if [(qa.question, qa.answer) for qa in qas] == [tuple(p) for p in pairs]:
            rec["facts"] = [qa.fact() for qa in qas]
        for key in ("width", "height"):
            if job.source.get(key):
                rec[key] = job.source[key]
        return rec

    def filters(self) -> list[tuple[str, FilterFn]]:
        # An image with nothing checkable to ask (no boxes) becomes a failures.jsonl line through
        # this filter, never an empty sample. `hallucination` is on: every answer is read off the
        # annotations, so one naming an absent object is a bug worth stopping.
        return [("no_questions", _no_questions), (HALLUCINATION, hallucination)]


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
