"""`img2llm_qa` task (Img2LLM-style): answers taken from the captions, a model writes their questions.

Per image: rank answer candidates from the captions (`datagen/tasks/vqa/candidates.py`), send the context and
the numbered candidates with our few-shot template, and pair each numbered question in the reply
with its candidate. Settings: one `Img2LLMOptions` (`max_questions`: candidates per image, default 5).

Each accepted sample is a multi-turn LLaVA record that also carries `qa_context` (the text the model
saw) and `qa_pairs`; `after_run` turns those into `RUN_DIR/vqa_examples.jsonl`, an `--examples`
pool for `vqa_answer`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.errors import UsageError
from datagen.prompts.context import render_context
from datagen.prompts.templates import load_template
from datagen.rundir.store import RunStore
from datagen.tasks.base import FilterFn, Job, JobSet, QAPairs, Task, TaskOptions
from datagen.tasks.structured import is_structured, structured_template
from datagen.tasks.vqa.candidates import (
    answer_candidates,
    candidates_block,
    candidates_from_block,
    parse_questions,
)
from datagen.tasks.vqa.files import write_vqa_examples
from datagen.tasks.vqa.formats import IMG2LLM_FORMAT

DEFAULT_CANDIDATES = 5


def _repeated_question(pairs: QAPairs, job: Job) -> str | None:
    questions = [q.lower() for q, _ in pairs]
    return "the same question was written for two answers" if len(set(questions)) < len(questions) else None


@dataclass
class Img2LLMOptions:
    """img2llm_qa's settings: answer candidates per image (`--max-questions`)."""

    META_KEY = "img2llm"  # run.json config records these under this key

    max_questions: int | None = None


class Img2LLMQATask(Task):
    name = "img2llm_qa"
    options_type = Img2LLMOptions
    reply_format = IMG2LLM_FORMAT

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        limit = opts.of(Img2LLMOptions).max_questions
        k = DEFAULT_CANDIDATES if limit is None else int(limit)
        if k < 1:
            raise UsageError(f"--max-questions must be at least 1, got {k}")
        template = load_template(self.name, opts.templates_dir)
        response_format = None
        if opts.structured:  # few-shot questions shown as JSON, paired with the example's own answers
            template = structured_template(
                template,
                IMG2LLM_FORMAT,
                lambda ctx, answer: parse_questions(answer, candidates_from_block(ctx)),
            )
            response_format = IMG2LLM_FORMAT.response_format()
        records = list(sources)
        ranked = answer_candidates(records, k)
        empty = [str(rec.get("id")) for rec, cands in zip(records, ranked, strict=True) if not cands]
        out = JobSet()
        if empty:
            # Nothing in the captions to ask about: no request is sent for these images, and the
            # command reports them (it prints the notes) instead of writing empty samples.
            out.notes.append(
                f"img2llm_qa: {len(empty)} image(s) have no answer candidate in their captions and were "
                f"left out (first: {empty[0]})"
            )
        for rec, cands in zip(records, ranked, strict=True):
            if not cands:
                continue
            context = render_context(rec, template.context_fields)
            out.jobs.append(
                Job(
                    sample_id=f"{self.name}:{rec.get('id', rec.get('image_id'))}",
                    task=self.name,
                    messages=template.messages(context + "\n\n" + candidates_block(cands)),
                    source={**rec, "answer_candidates": cands, "qa_context": context},
                    template_hash=template.hash,
                    max_tokens=template.max_tokens,
                    response_format=response_format,
                    example_images=template.image_slots(),
                )
            )
        return out

    def parse(self, reply: str, job: Job) -> QAPairs:
        if is_structured(job):
            return IMG2LLM_FORMAT.parse(reply, job)
        return parse_questions(reply, job.source["answer_candidates"])

    def filters(self) -> list[tuple[str, FilterFn]]:
        return [("repeated_question", _repeated_question)]

    def to_record(self, pairs: QAPairs, job: Job, opts: TaskOptions) -> dict[str, Any]:
        rec = super().to_record(pairs, job, opts)
        rec["image_id"] = job.source.get("image_id")
        rec["qa_context"] = job.source["qa_context"]
        rec["qa_pairs"] = [{"question": q, "answer": a} for q, a in pairs]
        return rec

    def after_run(self, run: RunStore) -> list[Path]:
        written = write_vqa_examples(run)
        return [written] if written else []
