"""`generate` options of the grounded / VQA tasks, kept here so `generate.py` stays thin.

Each option lands in `TaskOptions.extra` under the name the tasks read (`questions`, `examples`,
`shots`, `margin`, `max_questions`, `min_region`, `negatives`); tasks ignore keys they do not use.
After a run, `after_run` writes the VQA-side files (`vqa_results.json`, `vqa_examples.jsonl`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from datagen.tasks.base import Job, Task, TaskOptions

QUESTIONS = typer.Option(
    None,
    "--questions",
    help="vqa_answer: VQA v2 / OK-VQA questions JSON to answer (required for vqa_answer).",
)
EXAMPLES = typer.Option(
    None,
    "--examples",
    help="vqa_answer: pool of {context, question, answer} examples (JSONL/JSON, e.g. an img2llm_qa "
    "run's vqa_examples.jsonl); shots are the most similar ones. Default: the template's own examples.",
)
SHOTS = typer.Option(None, "--shots", min=0, help="vqa_answer: in-context examples per question (default 4).")
MARGIN = typer.Option(
    None,
    "--margin",
    min=0.0,
    max=0.99,
    help="grounded_qa: min distance between box centres (fraction of image size) for left/right/above/below (default 0.1).",
)
MAX_QUESTIONS = typer.Option(
    None,
    "--max-questions",
    min=1,
    help="grounded_qa: questions per image (default 6); img2llm_qa: answer candidates per image (default 5).",
)
MIN_REGION = typer.Option(
    None,
    "--min-region",
    min=0.0,
    max=0.99,
    help="grounded_qa: min box area (fraction of the image) for 'what is in this region?' (default 0.01).",
)
NEGATIVES = typer.Option(
    True,
    "--negatives/--no-negatives",
    help="grounded_qa: also ask about categories absent from the image (answer 'No').",
)


def vqa_extra(
    questions: Path | None,
    examples: Path | None,
    shots: int | None,
    margin: float | None,
    max_questions: int | None,
    min_region: float | None,
    negatives: bool,
) -> dict[str, Any]:
    """The `TaskOptions.extra` entries for the options the user gave (unset ones keep task defaults)."""
    extra: dict[str, Any] = {"negatives": negatives}
    for key, value in (
        ("questions", questions),
        ("examples", examples),
        ("shots", shots),
        ("margin", margin),
        ("max_questions", max_questions),
        ("min_region", min_region),
    ):
        if value is not None:
            extra[key] = str(value) if isinstance(value, Path) else value
    return extra


def echo_notes(extra: dict[str, Any]) -> None:
    """Print what tasks left out while building jobs (never silently)."""
    for note in extra.get("notes", []):
        typer.echo(f"note: {note}", err=True)


def check_model_free(names: list[str], *, dry_run: bool, batch: bool) -> None:
    """A task that needs no model (grounded_qa) has no requests to dry-run or batch."""
    from datagen.errors import UsageError
    from datagen.tasks.registry import get_task

    for name in names:
        if not get_task(name).uses_llm and (dry_run or batch):
            flag = "--dry-run" if dry_run else "--batch"
            raise UsageError(
                f"{name} needs no model, so there is nothing to {flag}", hint=f"run it without {flag}"
            )


def run_without_model(
    task: Task,
    jobs: list[Job],
    opts: TaskOptions,
    out: Path,
    meta: dict[str, Any],
    shard: tuple[int, int] | None = None,
) -> None:
    """Compute every sample of a model-free task (resumable, filtered, recorded like a live run)."""
    from datagen.engine.runner import run_direct

    stats = run_direct(task, [j.source for j in jobs], opts, out, shard=shard, meta=meta)
    typer.echo(
        f"{task.name}: {stats.ok} samples written, {sum(stats.failed.values())} failed, "
        f"{stats.skipped} already done -> {out}"
    )


def after_run(run_dir: Path) -> None:
    """Write `vqa_results.json` / `vqa_examples.jsonl` from the run's results, if it has such samples."""
    from datagen.tasks.vqa.files import write_run_outputs

    for path in write_run_outputs(run_dir):
        typer.echo(f"wrote {path}")
