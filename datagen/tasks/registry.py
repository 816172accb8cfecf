"""Every task by name: the one list the CLI, the engine and the docs read.

Adding a task is one line here (plus its module and template folder). `register_task` adds one at
run time, for plugins and tests. `llava` names LLaVA's three tasks together.
"""

from __future__ import annotations

from datagen.errors import UsageError
from datagen.tasks.base import Task
from datagen.tasks.grounded.task import GroundedQATask
from datagen.tasks.judge.task import JudgeTask, PairwiseJudgeTask
from datagen.tasks.llava.task import ComplexReasoningTask, ConversationTask, DetailDescriptionTask
from datagen.tasks.rewrite.task import CaptionRewriteTask
from datagen.tasks.vision.question_caption import QuestionCaptionTask
from datagen.tasks.vision.task import DenseCaptionTask, VisualConversationTask
from datagen.tasks.vqa.answer import VQAAnswerTask
from datagen.tasks.vqa.img2llm import Img2LLMQATask

TASKS: dict[str, type[Task]] = {
    "conversation": ConversationTask,
    "detail_description": DetailDescriptionTask,
    "complex_reasoning": ComplexReasoningTask,
    "caption_rewrite": CaptionRewriteTask,
    "grounded_qa": GroundedQATask,
    "vqa_answer": VQAAnswerTask,
    "img2llm_qa": Img2LLMQATask,
    "dense_caption": DenseCaptionTask,  # the VLM-native tasks (they need --image-input)
    "visual_conversation": VisualConversationTask,
    "question_caption": QuestionCaptionTask,
    "judge": JudgeTask,  # `datagen judge` runs these two
    "judge_pairwise": PairwiseJudgeTask,
}
ALIASES: dict[str, str] = {"detail": "detail_description", "reasoning": "complex_reasoning"}
TASK_GROUPS: dict[str, list[str]] = {
    "llava": ["conversation", "detail_description", "complex_reasoning"],
}
LLAVA_TASKS = TASK_GROUPS["llava"]
# Tasks a command of their own runs (not `datagen generate`).
OWN_COMMAND: dict[str, str] = {"judge": "datagen judge", "judge_pairwise": "datagen judge --pairwise"}


def generate_choices() -> list[str]:
    """What `datagen generate TASK` accepts: every group, then every task without its own command."""
    return [*TASK_GROUPS, *(t for t in TASKS if t not in OWN_COMMAND)]


def choices_text() -> str:
    """The valid TASK values of `datagen generate`, with the aliases, for help and error hints."""
    aliases = ", ".join(f"{a} = {t}" for a, t in ALIASES.items())
    return f"{', '.join(generate_choices())} (aliases: {aliases})"


def register_task(name: str, cls: type[Task]) -> None:
    """Make `cls` available as task `name` (a plugin's own task, or a test's scripted one)."""
    TASKS[name] = cls


def task_names() -> list[str]:
    return list(TASKS)


def canonical_task_name(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in TASKS:
        known = ", ".join([*TASKS, *ALIASES])
        raise UsageError(f"unknown task '{name}'", hint=f"choose one of: {known}")
    return name


def expand_task_names(name: str) -> list[str]:
    """`llava` → its three tasks; an alias → its canonical name; unknown names raise UsageError."""
    if name in TASK_GROUPS:
        return list(TASK_GROUPS[name])
    if ALIASES.get(name, name) not in TASKS:
        raise UsageError(f"unknown task '{name}'", hint=f"choose one of: {choices_text()}")
    return [canonical_task_name(name)]


def get_task(name: str) -> Task:
    """A fresh instance of the task called `name` (or an alias of it)."""
    return TASKS[canonical_task_name(name)]()
