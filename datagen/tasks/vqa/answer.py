"""`vqa_answer` task (PICa-style): answer VQA v2 / OK-VQA questions from an image's text context.

Per question, the prompt is our system message, then `--shots K` in-context examples (context +
question → short answer), then the image's context and the question. With `--examples FILE` the
shots are the K pool examples most similar to the question (`datagen/tasks/vqa/picker.py`); without
it, the template folder's own few-shot pairs are used. Settings: one `VQAOptions` (`questions`,
required, `examples`, `shots`).

Each accepted sample is a one-turn LLaVA record carrying `question_id` and `answer`; after the run,
`after_run` writes `RUN_DIR/vqa_results.json` from them for `datagen eval vqa`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.errors import InputError, UsageError
from datagen.prompts.context import render_context
from datagen.prompts.templates import load_template
from datagen.rundir.store import RunStore
from datagen.tasks.base import FilterFn, Job, JobSet, Message, QAPairs, Task, TaskOptions
from datagen.tasks.structured import is_structured
from datagen.tasks.vqa.files import load_question_captions, load_questions, write_vqa_results
from datagen.tasks.vqa.formats import VQA_FORMAT, short_answer
from datagen.tasks.vqa.picker import ExamplePicker, load_examples

DEFAULT_SHOTS = 4
MAX_ANSWER_WORDS = 8
# Appended to the question in the training record, so a model learns when a short answer is wanted.
SHORT_ANSWER_HINT = "Reply with a single word or a short phrase."


def question_block(context: str, question: str) -> str:
    """A context followed by its question: the user turn of a shot and of the final request."""
    return context + "\n\nQuestion: " + question


def _too_long(pairs: QAPairs, job: Job) -> str | None:
    words = len(pairs[0][1].split())
    return (
        f"answer has {words} words (short answers only, at most {MAX_ANSWER_WORDS})"
        if words > MAX_ANSWER_WORDS
        else None
    )


@dataclass
class VQAOptions:
    """vqa_answer's inputs: the questions to answer, an optional examples pool, shots per question."""

    META_KEY = "vqa"  # run.json config records these under this key

    questions: str | None = None
    examples: str | None = None
    shots: int | None = None
    captions_from: str | None = None  # a question_caption run: answer from its captions (PNP-VQA)

    @property
    def k(self) -> int:
        k = DEFAULT_SHOTS if self.shots is None else int(self.shots)
        if k < 0:
            raise UsageError(f"--shots must be 0 or more, got {k}")
        return k


class VQAAnswerTask(Task):
    name = "vqa_answer"
    options_type = VQAOptions
    reply_format = VQA_FORMAT

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        o = opts.of(VQAOptions)
        qpath = o.questions
        if not qpath:
            raise UsageError("vqa_answer needs --questions FILE (VQA v2 / OK-VQA questions JSON)")
        k = o.k
        template = load_template(self.name, opts.templates_dir)
        structured = opts.structured
        response_format = VQA_FORMAT.response_format() if structured else None
        template_hash = VQA_FORMAT.template_hash(template.hash) if structured else template.hash
        picker = ExamplePicker(load_examples(o.examples)) if o.examples else None
        out = JobSet()
        fixed = template.examples[:k]
        by_image = {int(s["image_id"]): s for s in sources if s.get("image_id") is not None}
        questions = load_questions(qpath)
        if not questions:  # else the run "succeeds" with nothing sent and an empty vqa_results.json
            raise InputError(f'{qpath}: no questions (its "questions" list is empty)')
        matched = [q for q in questions if q["image_id"] in by_image]
        focused = load_question_captions(o.captions_from) if o.captions_from else None
        if focused is not None:
            have = [q for q in matched if q["question_id"] in focused]
            if not have:
                raise InputError(
                    f"--captions-from {o.captions_from}: no caption for any of the {len(matched)} questions",
                    hint="run question_caption with the same --questions file and source first",
                )
            if len(have) < len(matched):
                out.notes.append(
                    f"vqa_answer: {len(matched) - len(have)} question(s) have no caption in "
                    f"{o.captions_from} and were left out"
                )
            matched = have
        if not matched:
            raise InputError(
                f"{qpath}: none of its {len(questions)} questions is about an image in the source",
                hint="use the COCO split the questions belong to (e.g. val2014 questions with val2014 images)",
            )
        if len(matched) < len(questions):
            # Expected with --limit or a subset of images; reported by the command, never silent.
            out.notes.append(
                f"vqa_answer: {len(questions) - len(matched)} of {len(questions)} questions are about "
                "images not in the source (or beyond --limit) and were left out"
            )
        for q in matched:
            ctx = by_image[q["image_id"]]
            if focused is not None:  # the question's own caption first, then the image's captions
                ctx = {**ctx, "captions": [focused[q["question_id"]], *(ctx.get("captions") or [])]}
            messages: list[Message] = [{"role": "system", "content": template.system}]
            if picker is not None:
                shots = picker.pick(
                    q["question"], k, seed=opts.seed, key=str(q["question_id"]), exclude_image=q["image_id"]
                )
                pairs = [(question_block(e.context, e.question), e.answer) for e in shots]
            else:
                pairs = fixed
            for user, assistant in pairs:
                if structured:  # the shot's answer in the JSON shape the reply must have
                    assistant = VQA_FORMAT.render([("", short_answer(assistant))])
                messages.append({"role": "user", "content": user})
                messages.append({"role": "assistant", "content": assistant})
            context = render_context(ctx, template.context_fields)
            messages.append({"role": "user", "content": question_block(context, q["question"])})
            out.jobs.append(
                Job(
                    sample_id=f"{self.name}:{ctx['id']}:{q['question_id']}",
                    task=self.name,
                    messages=messages,
                    source={**ctx, "question_id": q["question_id"], "question": q["question"]},
                    template_hash=template_hash,
                    max_tokens=template.max_tokens,
                    response_format=response_format,
                    example_images=template.image_slots(k) if picker is None else (),
                )
            )
        return out

    def parse(self, reply: str, job: Job) -> QAPairs:
        if is_structured(job):
            return VQA_FORMAT.parse(reply, job)
        return [(job.source["question"], short_answer(reply))]

    def filters(self) -> list[tuple[str, FilterFn]]:
        return [("short_answer", _too_long)]

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        (question, answer), *_ = pairs
        rec = super().to_record([(question + "\n" + SHORT_ANSWER_HINT, answer)], job, opts)
        rec["question_id"] = job.source["question_id"]
        rec["answer"] = answer
        return rec

    def after_run(self, run: RunStore) -> list[Path]:
        written = write_vqa_results(run)
        return [written] if written else []
