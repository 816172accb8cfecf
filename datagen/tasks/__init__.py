"""Generation tasks: each task turns source records into LLM jobs and parses replies into samples.

`get_task(name)` looks a task up by name or alias; task modules add themselves to `REGISTRY`.
"""

from __future__ import annotations

import importlib

from datagen.errors import UsageError
from datagen.tasks.base import Task

# name -> "module:attribute" (imported lazily so `datagen --help` stays fast)
TASK_MODULES: dict[str, str] = {
    "conversation": "datagen.tasks.llava:ConversationTask",
    "detail_description": "datagen.tasks.llava:DetailDescriptionTask",
    "complex_reasoning": "datagen.tasks.llava:ComplexReasoningTask",
    "caption_rewrite": "datagen.tasks.caption_rewrite:CaptionRewriteTask",
    "grounded_qa": "datagen.tasks.grounded_qa:GroundedQATask",
    "vqa_answer": "datagen.tasks.vqa_answer:VQAAnswerTask",
    "img2llm_qa": "datagen.tasks.img2llm_qa:Img2LLMQATask",
}
ALIASES: dict[str, str] = {"detail": "detail_description", "reasoning": "complex_reasoning"}


def task_names() -> list[str]:
    return list(TASK_MODULES)


def canonical_task_name(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in TASK_MODULES:
        known = ", ".join([*TASK_MODULES, *ALIASES])
        raise UsageError(f"unknown task '{name}'", hint=f"choose one of: {known}")
    return name


def get_task(name: str) -> Task:
    module, attr = TASK_MODULES[canonical_task_name(name)].split(":")
    return getattr(importlib.import_module(module), attr)()
