"""LLaVA's three instruction tasks: conversation, detail description, complex reasoning.

Each builds one chat request per context record: the task's system message, its few-shot pairs,
then the record's symbolic context (captions only for conversation; captions and boxes for the
other two, or whatever the template's `task.toml` says) as the final user message.

Replies are parsed by `replies` (conversation blocks, one reasoning pair, detail prose paired with
a question drawn per sample from the instruction list), or with `--structured` as the JSON of
`formats`, into the same pairs, and judged by the quality filters of
`filters`. Each task instance owns a `DuplicateTracker`, so exact duplicates are caught across a
whole run, and a `NearDuplicateTracker` for the optional `near_duplicate` filter; `prepare` teaches
both the samples the run directory already holds. `hallucination` and `near_duplicate` are optional
(`--filter NAME`): LLaVA's own GPT-4 data was made without them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from datagen.common.resources import templates_root
from datagen.errors import ParseError
from datagen.prompts.context import render_context
from datagen.prompts.instructions import load_instructions, pick_instruction
from datagen.prompts.templates import TaskTemplate, load_template
from datagen.rundir.store import RunStore
from datagen.tasks.base import FilterFn, Job, JobSet, QAPairs, Task, TaskOptions
from datagen.tasks.dedupe import DUPLICATE, DuplicateTracker
from datagen.tasks.llava.filters import FILTERS
from datagen.tasks.llava.formats import COMPLEX_REASONING, CONVERSATION, DETAIL_DESCRIPTION, INSTRUCTION_KEY
from datagen.tasks.llava.replies import parse_complex_reasoning, parse_conversation, parse_detail
from datagen.tasks.neardup import NEAR_DUPLICATE, NearDuplicateTracker
from datagen.tasks.objects.hallucination import HALLUCINATION, hallucination
from datagen.tasks.structured import ReplyFormat, is_structured, structured_template


class LlavaTask(Task):
    """Shared request building and filters; subclasses set their name and parser."""

    optional_filters: tuple[str, ...] = (HALLUCINATION, NEAR_DUPLICATE)

    def __init__(self) -> None:
        self.duplicates = DuplicateTracker()
        self.near_duplicates = NearDuplicateTracker()

    def filters(self) -> list[tuple[str, FilterFn]]:
        # The engine skips the names in `opts.disabled_filters` (`--no-filter NAME`) and the optional
        # ones not in `opts.enabled_filters` (`--filter NAME`). Run-level trackers go last: they
        # record each sample they accept.
        return [
            *FILTERS.items(),
            (HALLUCINATION, hallucination),
            (DUPLICATE, self.duplicates.check),
            (NEAR_DUPLICATE, self.near_duplicates.check),
        ]

    reply_format: ReplyFormat

    def template(self, opts: TaskOptions) -> TaskTemplate:
        """The task's template; with --structured its few-shot answers are shown as JSON."""
        tpl = load_template(self.name, opts.templates_dir)
        if opts.structured:
            tpl = structured_template(tpl, self.reply_format, lambda _ctx, answer: self.parse_text(answer))
        return tpl

    def parse_text(self, reply: str, question: str = "") -> QAPairs:
        raise NotImplementedError

    def jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> list[Job]:
        if NEAR_DUPLICATE in opts.enabled_filters and NEAR_DUPLICATE not in opts.disabled_filters:
            self.near_duplicates.ensure_ready()  # a missing datasketch stops the run before any call
        tpl = self.template(opts)
        fields = tpl.context_fields
        response_format = self.reply_format.response_format() if opts.structured else None
        slots = tpl.image_slots()
        return [
            Job(
                sample_id=f"{self.name}:{rec['id']}",
                task=self.name,
                messages=tpl.messages(render_context(rec, fields)),
                source=rec,
                template_hash=tpl.hash,
                max_tokens=tpl.max_tokens,
                response_format=response_format,  # one dict shared by all jobs of the task
                example_images=slots,
            )
            for rec in sources
        ]

    def parse(self, reply: str, job: Job) -> QAPairs:
        if is_structured(job):
            return self.reply_format.parse(reply, job)
        return self.parse_text(reply, str(job.source.get(INSTRUCTION_KEY) or ""))

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        return JobSet(self.jobs(sources, opts))

    def prepare(self, run: RunStore) -> None:
        """Teach the duplicate tracker the samples `run` already holds, so a resumed run still
        rejects duplicates of earlier results. results.jsonl is read (once for all tasks of the run)
        only when a tracker is first used, so a re-run with nothing to judge stays instant."""
        if run.results_path.exists():
            self.duplicates.seed_later(lambda: run.results_by_task().get(self.name, []))
            self.near_duplicates.seed_later(lambda: run.results_by_task().get(self.name, []))


class ConversationTask(LlavaTask):
    name = "conversation"
    reply_format = CONVERSATION

    def parse_text(self, reply: str, question: str = "") -> QAPairs:
        return parse_conversation(reply)


class DetailDescriptionTask(LlavaTask):
    name = "detail_description"
    reply_format = DETAIL_DESCRIPTION

    def instructions(self, opts: TaskOptions, tpl: TaskTemplate) -> list[str]:
        """`--instructions FILE` (opts.instructions), else the template's list, else ours."""
        if opts.instructions:
            return load_instructions(opts.instructions)
        if tpl.instructions:
            return list(tpl.instructions)
        return load_instructions(templates_root() / self.name / "instructions.txt")

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> JobSet:
        # The model only writes the description; the question is drawn here, seeded per sample, and
        # carried in the job's source so parsing (now or on a resumed run) pairs the same one.
        items = self.instructions(opts, self.template(opts))
        return JobSet(
            [
                dataclasses.replace(
                    job,
                    source={**job.source, INSTRUCTION_KEY: pick_instruction(items, opts.seed, job.sample_id)},
                )
                for job in self.jobs(sources, opts)
            ]
        )

    def parse(self, reply: str, job: Job) -> QAPairs:
        if not job.source.get(INSTRUCTION_KEY):
            raise ParseError(f"{job.sample_id}: job has no drawn instruction (build it with build_jobs)")
        return super().parse(reply, job)

    def parse_text(self, reply: str, question: str = "") -> QAPairs:
        return parse_detail(reply, question)


class ComplexReasoningTask(LlavaTask):
    name = "complex_reasoning"
    reply_format = COMPLEX_REASONING

    def parse_text(self, reply: str, question: str = "") -> QAPairs:
        return parse_complex_reasoning(reply)
