"""LLaVA's three instruction tasks: conversation, detail description, complex reasoning.

Each builds one chat request per context record: the task's system message, its few-shot pairs,
then the record's symbolic context (captions only for conversation; captions and boxes for the
other two, or whatever the template's `task.toml` says) as the final user message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from datagen.context import render_context
from datagen.tasks.base import Job, Task, TaskOptions
from datagen.templates import TaskTemplate, load_template


class LlavaTask(Task):
    """Shared request building; subclasses only set their name (parsing lives with each task)."""

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


class DetailDescriptionTask(LlavaTask):
    name = "detail_description"


class ComplexReasoningTask(LlavaTask):
    name = "complex_reasoning"
