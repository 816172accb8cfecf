"""LLaVA's three instruction tasks: conversation, detail description, complex reasoning.

Each builds one chat request per context record: the task's system message, its few-shot pairs,
then the record's symbolic context (captions only for conversation; captions and boxes for the
other two, or whatever the template's `task.toml` says) as the final user message.

Replies are parsed by `datagen.tasks.llava.replies` (conversation blocks, one reasoning pair, detail prose paired
with a question drawn per sample from the instruction list) and judged by the quality filters of
`datagen.tasks.filters`. Each task instance owns a `DuplicateTracker`, so exact duplicates are caught
across a whole run; `resume_duplicates` teaches it the samples a run directory already holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from datagen.common.resources import templates_root
from datagen.errors import ParseError
from datagen.prompts.context import render_context
from datagen.prompts.templates import TaskTemplate, load_template
from datagen.rundir.samples import RESULTS, load_samples
from datagen.tasks.base import FilterFn, Job, QAPairs, Task, TaskOptions
from datagen.tasks.dedupe import DUPLICATE, DuplicateTracker
from datagen.tasks.filters import FILTERS
from datagen.tasks.llava.replies import (
    load_instructions,
    parse_complex_reasoning,
    parse_conversation,
    parse_detail,
    pick_instruction,
)

# Key under which a detail job's source carries the question drawn for it (set in build_jobs).
INSTRUCTION_KEY = "instruction"


class LlavaTask(Task):
    """Shared request building and filters; subclasses set their name and parser."""

    def __init__(self) -> None:
        self.duplicates = DuplicateTracker()

    def filters(self) -> list[tuple[str, FilterFn]]:
        # The runner skips the names in `opts.disabled_filters` (`--no-filter NAME`).
        return [*FILTERS.items(), (DUPLICATE, self.duplicates.check)]

    def template(self, opts: TaskOptions) -> TaskTemplate:
        return load_template(self.name, opts.templates_dir)

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> Iterator[Job]:
        tpl = self.template(opts)
        fields = tpl.context_fields
        for rec in sources:
            yield Job(
                sample_id=f"{self.name}:{rec['id']}",
                task=self.name,
                messages=tpl.messages(render_context(rec, fields)),
                source=rec,
                template_hash=tpl.hash,
                max_tokens=tpl.max_tokens,
            )


class ConversationTask(LlavaTask):
    name = "conversation"

    def parse(self, reply: str, job: Job) -> QAPairs:
        return parse_conversation(reply)


class DetailDescriptionTask(LlavaTask):
    name = "detail_description"

    def instructions(self, opts: TaskOptions, tpl: TaskTemplate) -> list[str]:
        """`--instructions FILE` (opts.extra["instructions"]), else the template's list, else ours."""
        path = opts.extra.get("instructions")
        if path:
            return load_instructions(path)
        if tpl.instructions:
            return list(tpl.instructions)
        return load_instructions(templates_root() / self.name / "instructions.txt")

    def build_jobs(self, sources: Iterable[dict[str, Any]], opts: TaskOptions) -> Iterator[Job]:
        # The model only writes the description; the question is drawn here, seeded per sample, and
        # carried in the job's source so parsing (now or on a resumed run) pairs the same one.
        items = self.instructions(opts, self.template(opts))
        for job in super().build_jobs(sources, opts):
            question = pick_instruction(items, opts.seed, job.sample_id)
            yield dataclasses.replace(job, source={**job.source, INSTRUCTION_KEY: question})

    def parse(self, reply: str, job: Job) -> QAPairs:
        question = job.source.get(INSTRUCTION_KEY)
        if not question:
            raise ParseError(f"{job.sample_id}: job has no drawn instruction (build it with build_jobs)")
        return parse_detail(reply, str(question))


class ComplexReasoningTask(LlavaTask):
    name = "complex_reasoning"

    def parse(self, reply: str, job: Job) -> QAPairs:
        return parse_complex_reasoning(reply)


def resume_duplicates(tasks: Mapping[str, Task], run_dir: str | Path) -> int:
    """Teach each task's duplicate tracker the samples `run_dir/results.jsonl` already holds, so a
    resumed run still rejects duplicates of earlier results. The file is read (once, for all tasks)
    only when a tracker is first used, so a re-run with nothing to judge stays instant.
    Returns how many trackers were set up."""
    results = Path(run_dir) / RESULTS
    if not results.exists():
        return 0
    by_task: dict[str, list[dict[str, Any]]] = {}
    loaded: list[bool] = []

    def records_of(name: str) -> Callable[[], list[dict[str, Any]]]:
        def load() -> list[dict[str, Any]]:
            if not loaded:
                for rec in load_samples(results, validate=False):
                    by_task.setdefault(str(rec.get("task", "")), []).append(rec)
                loaded.append(True)
            return by_task.get(name, [])

        return load

    count = 0
    for name, task in tasks.items():
        tracker = getattr(task, "duplicates", None)
        if isinstance(tracker, DuplicateTracker):
            tracker.seed_later(records_of(name))
            count += 1
    return count
