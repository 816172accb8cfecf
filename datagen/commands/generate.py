"""`datagen generate TASK <source> --out RUN_DIR`: build each sample's request and send it (or, with
--dry-run, write them as an OpenAI Batch file with a token and cost estimate)."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import _engine_opts as E
from datagen.commands import _sources as S
from datagen.commands import _task_opts as T


def generate(
    ctx: typer.Context,
    task: str = typer.Argument(
        ..., help="conversation | detail_description | complex_reasoning | llava (all three) | ..."
    ),
    coco: Path | None = S.COCO,
    split: str | None = S.SPLIT,
    captions: Path | None = S.CAPTIONS,
    instances: Path | None = S.INSTANCES,
    input: Path | None = S.INPUT,
    skip_crowd: bool = S.SKIP_CROWD,
    box_format: str = S.BOX_FORMAT,
    images: Path | None = S.IMAGES,
    captions_file: Path | None = S.CAPTIONS_FILE,
    detections: Path | None = S.DETECTIONS,
    categories: Path | None = S.CATEGORIES,
    min_score: float = S.MIN_SCORE,
    max_boxes: int | None = S.MAX_BOXES,
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (created if needed)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Write RUN_DIR/requests.jsonl (Batch API input); send nothing."
    ),
    model: str = E.MODEL,
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Use only the first N source rows per task (was --limit-per-task)."
    ),
    templates_dir: Path | None = typer.Option(
        None, "--templates-dir", help="Folder with one subfolder per task."
    ),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", min=1, show_default="the task's", help="Reply length cap."
    ),
    temperature: float = E.TEMPERATURE,
    seed: int = typer.Option(0, "--seed", help="Seed for every random choice (e.g. where <image> goes)."),
    price_in: float | None = typer.Option(None, "--price-in", min=0.0, help="USD per 1M prompt tokens."),
    price_out: float | None = typer.Option(
        None, "--price-out", min=0.0, help="USD per 1M completion tokens."
    ),
    image_input: str = E.IMAGE_INPUT,
    image_url_prefix: str | None = E.IMAGE_URL_PREFIX,
    image_max_side: int | None = E.IMAGE_MAX_SIDE,
    image_format: str = E.IMAGE_FORMAT,
    image_quality: int = E.IMAGE_QUALITY,
    image_detail: str | None = E.IMAGE_DETAIL,
    image_tokens: int | None = E.IMAGE_TOKENS,
    batch: bool = E.BATCH,
    structured: bool = E.STRUCTURED,
    base_url: list[str] | None = E.BASE_URL,
    concurrency: int = E.CONCURRENCY,
    rpm: float | None = E.RPM,
    tpm: float | None = E.TPM,
    timeout: float = E.TIMEOUT,
    max_prompt_tokens: int = E.MAX_PROMPT_TOKENS,
    max_attempts: int = E.MAX_ATTEMPTS,
    max_retries: int = E.MAX_RETRIES,
    shard: str | None = E.SHARD,
    executor: str = E.EXECUTOR,
    ray_address: str | None = E.RAY_ADDRESS,
    workers: int = E.WORKERS,
    quiet: bool = E.QUIET,
    log_every: float = E.LOG_EVERY,
    json_progress: bool = E.JSON_PROGRESS,
    append: bool = typer.Option(
        False, "--append", help="Add samples from another source to an existing run directory."
    ),
    no_filter: list[str] | None = E.NO_FILTER,
    filter_on: list[str] | None = E.FILTER,
    tasks_opt: str | None = typer.Option(
        None,
        "--tasks",
        help="With `llava`: which of its tasks to run, comma-separated (e.g. conversation,detail).",
    ),
    instructions: Path | None = typer.Option(
        None,
        "--instructions",
        show_default="our own list",
        help="Detail-description questions, one per line.",
    ),
    image_token: str = typer.Option(
        "random",
        "--image-token",
        help="Where <image> goes in the first question: first | last | random (seeded).",
    ),
    descriptions: Path | None = T.DESCRIPTIONS,
    from_run: Path | None = T.FROM_RUN,
    id_field: str | None = T.ID_FIELD,
    text_field: str | None = T.TEXT_FIELD,
    min_words: int | None = T.MIN_WORDS,
    min_ratio: float | None = T.MIN_RATIO,
    questions: Path | None = T.QUESTIONS,
    examples: Path | None = T.EXAMPLES,
    shots: int | None = T.SHOTS,
    captions_from: Path | None = T.CAPTIONS_FROM,
    margin: float | None = T.MARGIN,
    max_questions: int | None = T.MAX_QUESTIONS,
    min_region: float | None = T.MIN_REGION,
    negatives: bool | None = T.NEGATIVES,
    max_failure_rate: float | None = typer.Option(
        None,
        "--max-failure-rate",
        metavar="R",
        help="Exit with an error (code 5) when more than this share of samples failed, e.g. 0.2. "
        "A run where every sample failed is always an error.",
    ),
) -> None:
    """Generate samples for TASK from a source of images."""
    given = dict(locals())
    from datagen.commands._argv import typed_command
    from datagen.engine.generate import run_generate
    from datagen.engine.options import run_mode, select_tasks, task_options

    names = select_tasks(task, tasks_opt)
    opts = task_options(
        names,
        templates_dir=templates_dir,
        seed=seed,
        image_token=image_token,
        no_filter=no_filter or [],
        filter_on=filter_on or [],
        instructions=instructions,
        flags={name: given[name] for name in T.TASK_FLAGS},
        structured=structured,
    )
    cfg = E.engine_config(given)
    mode = run_mode(dry_run=dry_run, batch=batch)
    result = run_generate(
        names,
        source=S.source_spec(given),
        opts=opts,
        cfg=cfg,
        out=out,
        mode=mode,
        limit=limit,
        requested=task,
        note=lambda text: typer.echo(text, err=True),
        command=typed_command(ctx, "datagen generate"),
        append=append,
        max_failure_rate=max_failure_rate,
        say=typer.echo,  # the result lines, printed before a failed run's error
        executor=E.executor_spec(given),
    )
    if mode == "dry-run":
        if not quiet:
            typer.echo(
                "next: the same command without --dry-run sends them (or with --batch, at half price)",
                err=True,
            )
        return
    E.echo_next_steps(out, result.stats, cfg, images=S.image_root(given))


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
