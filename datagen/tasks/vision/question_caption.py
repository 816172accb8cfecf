"""`question_caption`: PNP-VQA's question-guided captions, written by a VLM that sees the image.

Per VQA question (`--questions FILE`, as for `vqa_answer`): the image, its captions and the
question go to the model, which writes a caption of what the question is about. Each accepted
sample is a one-turn record (a request to describe what the question concerns → the caption)
carrying `question_id`, `question` and `caption`; `after_run` writes them to
`RUN_DIR/question_captions.jsonl`.

`vqa_answer --captions-from RUN_DIR` then answers each question with a text-only model from its
caption (put first among the image's captions), which is the PICa / PNP-VQA pipeline end to end;
`datagen eval vqa` scores the answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.errors import InputError, ParseError, UsageError
from datagen.prompts.context import render_context
from datagen.prompts.templates import load_template
from datagen.rundir.store import RunStore
from datagen.tasks.base import FilterFn, Job, JobSet, QAPairs, Task, TaskOptions
from datagen.tasks.llava.filters import leak
from datagen.tasks.vqa.answer import VQAOptions, question_block
from datagen.tasks.vqa.files import QUESTION_CAPTIONS, load_questions

MAX_CAPTION_WORDS = 80
REQUEST = "Describe the part of the image this question is about: {question}"
_ANSWERING = re.compile(r"\bthe answer (?:is|would be)\b|^\s*(?:yes|no)\b[,.]", re.I)


def _answering(pairs: QAPairs, job: Job) -> str | None:
    m = _ANSWERING.search(pairs[0][1])
    return f"replies to the question instead of describing the image ('{m.group(0).strip()}')" if m else None


def _too_long(pairs: QAPairs, job: Job) -> str | None:
    n = len(pairs[0][1].split())
    return f"caption has {n} words (at most {MAX_CAPTION_WORDS})" if n > MAX_CAPTION_WORDS else None


class QuestionCaptionTask(Task):
    name = "question_caption"
    options_type = VQAOptions
    needs_images = True

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        o = opts.of(VQAOptions)
        if not o.questions:
            raise UsageError("question_caption needs --questions FILE (VQA v2 / OK-VQA questions JSON)")
        if o.examples or o.shots is not None or o.captions_from:
            raise UsageError(
                "--examples, --shots and --captions-from apply to vqa_answer, not question_caption"
            )
        template = load_template(self.name, opts.templates_dir)
        by_image = {int(s["image_id"]): s for s in sources if s.get("image_id") is not None}
        questions = load_questions(o.questions)
        matched = [q for q in questions if q["image_id"] in by_image]
        if not matched:
            raise InputError(
                f"{o.questions}: none of its {len(questions)} questions is about an image in the source",
                hint="use the COCO split the questions belong to",
            )
        out = JobSet()
        if len(matched) < len(questions):
            out.notes.append(
                f"question_caption: {len(questions) - len(matched)} of {len(questions)} questions are about "
                "images not in the source (or beyond --limit) and were left out"
            )
        slots = template.image_slots()
        for q in matched:
            ctx = by_image[q["image_id"]]
            context = render_context(ctx, template.context_fields)
            out.jobs.append(
                Job(
                    sample_id=f"{self.name}:{ctx['id']}:{q['question_id']}",
                    task=self.name,
                    messages=template.messages(question_block(context, q["question"])),
                    source={**ctx, "question_id": q["question_id"], "question": q["question"]},
                    template_hash=template.hash,
                    max_tokens=template.max_tokens,
                    example_images=slots,
                )
            )
        return out

    def parse(self, reply: str, job: Job) -> QAPairs:
        caption = " ".join(reply.strip().strip('"').split())
        if not caption:
            raise ParseError("empty reply: no caption")
        return [(REQUEST.format(question=job.source["question"]), caption)]

    def filters(self) -> list[tuple[str, FilterFn]]:
        return [("answering", _answering), ("too_long", _too_long), ("leak", leak)]

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        rec = super().to_record(pairs, job, opts)
        rec.update(
            image_id=job.source.get("image_id"),
            question_id=job.source["question_id"],
            question=job.source["question"],
            caption=pairs[0][1],
        )
        return rec

    def after_run(self, run: RunStore) -> list[Path]:
        rows = [
            {
                "question_id": r["question_id"],
                "image_id": r.get("image_id"),
                "question": r["question"],
                "caption": r["caption"],
            }
            for r in run.results_by_task().get(self.name, [])
        ]
        return [run.write_side_jsonl(QUESTION_CAPTIONS, rows)] if rows else []
