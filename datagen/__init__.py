"""datagen: multimodal instruction-tuning data from symbolic image context and any OpenAI-compatible LLM.

The public Python API, importable from the top (`from datagen import run_llava, SourceSpec`). Each
name is loaded on first use, so `import datagen` stays instant and the training API pulls in torch
only when asked for. The stage modules behind these names are listed in docs/architecture.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> "module" (a module) or "module:attribute"
_API: dict[str, str] = {
    # sources and prompts
    "SourceSpec": "datagen.sources.load:SourceSpec",
    "load_contexts": "datagen.sources.load:load_contexts",
    "render_context": "datagen.prompts.context:render_context",
    "load_template": "datagen.prompts.templates:load_template",
    # tasks
    "Task": "datagen.tasks.base:Task",
    "Job": "datagen.tasks.base:Job",
    "JobSet": "datagen.tasks.base:JobSet",
    "Rejected": "datagen.tasks.base:Rejected",
    "TaskOptions": "datagen.tasks.base:TaskOptions",
    "get_task": "datagen.tasks.registry:get_task",
    "register_task": "datagen.tasks.registry:register_task",
    "GroundedOptions": "datagen.tasks.grounded.task:GroundedOptions",
    "RewriteOptions": "datagen.tasks.rewrite.task:RewriteOptions",
    "VQAOptions": "datagen.tasks.vqa.answer:VQAOptions",
    "Img2LLMOptions": "datagen.tasks.vqa.img2llm:Img2LLMOptions",
    "JudgeOptions": "datagen.tasks.judge.options:JudgeOptions",
    "ReplyFormat": "datagen.tasks.structured:ReplyFormat",
    "read_descriptions": "datagen.tasks.rewrite.descriptions:read_descriptions",
    "split_short": "datagen.tasks.rewrite.descriptions:split_short",
    "rewrite_filters": "datagen.tasks.rewrite.filters",
    # the engine
    "EngineConfig": "datagen.engine.config:EngineConfig",
    "GenerationParams": "datagen.engine.config:GenerationParams",
    "build_jobs": "datagen.engine.jobs:build_jobs",
    "run_jobs": "datagen.engine.runner:run_jobs",
    "run_direct": "datagen.engine.direct:run_direct",
    "run_batch": "datagen.engine.batch:run_batch",
    "write_dry_run": "datagen.engine.dryrun:write_dry_run",
    "run_generate": "datagen.engine.generate:run_generate",
    "run_llava": "datagen.engine.generate:run_llava",
    "llava_options": "datagen.engine.options:llava_options",
    "task_options": "datagen.engine.options:task_options",
    "select_tasks": "datagen.engine.options:select_tasks",
    # run directories and samples
    "RunStore": "datagen.rundir.store:RunStore",
    "load_samples": "datagen.rundir.samples:load_samples",
    "load_many": "datagen.rundir.samples:load_many",
    "read_id_list": "datagen.rundir.samples:read_id_list",
    "load_judge_scores": "datagen.rundir.judged:load_judge_scores",
    # export, review, stats
    "FORMATS": "datagen.export.registry:FORMATS",
    "run_export": "datagen.export.flow:run_export",
    "export_llava": "datagen.export.llava:export_llava",
    "export_minigpt4": "datagen.export.minigpt4:export_minigpt4",
    "build_review": "datagen.review.build:build_review",
    "dataset_stats": "datagen.review.stats:dataset_stats",
    # audit
    "run_audit": "datagen.audit.run:run_audit",
    "AuditOptions": "datagen.audit.run:AuditOptions",
    "TruthSpec": "datagen.audit.truth:TruthSpec",
    "find_mentions": "datagen.tasks.objects.mentions:find_mentions",
    # the training API (needs the `train` extra)
    "SupervisedDataset": "datagen.adapter.torch_data:SupervisedDataset",
    "Collator": "datagen.adapter.torch_data:Collator",
    "ConversationTemplate": "datagen.adapter.torch_data:ConversationTemplate",
    "ImageTransform": "datagen.adapter.torch_data:ImageTransform",
    "llava_image_tokens": "datagen.adapter.torch_data:llava_image_tokens",
}

__all__ = ["__version__", *_API]


def _version() -> str:
    """The installed version, looked up on first use (importlib.metadata costs ~40 ms)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("datagen")
    except PackageNotFoundError:  # running from a source checkout without install
        return "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()[name] = found = _version()
        return found
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'datagen' has no attribute {name!r}")
    module, _, attr = target.partition(":")
    value = importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
