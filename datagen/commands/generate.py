"""`datagen generate TASK <source> --out RUN_DIR`: build each sample's request and send it (or, with
--dry-run, write them as an OpenAI Batch file with a token and cost estimate)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from datagen.commands import _engine_opts as E
from datagen.commands import _rewrite_opts as R
from datagen.commands import _sources as S
from datagen.commands import _vqa_options as V
from datagen.errors import UsageError

DEFAULT_MODEL = "gpt-4o-mini"


def generate(
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
    out: Path = typer.Option(..., "--out", help="Run directory (created if needed)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Write RUN_DIR/requests.jsonl (Batch API input); send nothing."
    ),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help="Model name as the server knows it."),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Use only the first N source rows per task."
    ),
    templates_dir: Path | None = typer.Option(
        None, "--templates-dir", help="Folder with one subfolder per task."
    ),
    max_tokens: int | None = typer.Option(
        None, "--max-tokens", min=1, help="Reply length cap (default: per task)."
    ),
    temperature: float = typer.Option(0.7, "--temperature", min=0.0, max=2.0, help="Sampling temperature."),
    seed: int = typer.Option(0, "--seed", help="Seed for every random choice (e.g. where <image> goes)."),
    price_in: float | None = typer.Option(None, "--price-in", min=0.0, help="USD per 1M prompt tokens."),
    price_out: float | None = typer.Option(
        None, "--price-out", min=0.0, help="USD per 1M completion tokens."
    ),
    batch: bool = E.BATCH,
    base_url: list[str] | None = E.BASE_URL,
    concurrency: int = E.CONCURRENCY,
    rpm: float | None = E.RPM,
    tpm: float | None = E.TPM,
    timeout: float = E.TIMEOUT,
    max_attempts: int = E.MAX_ATTEMPTS,
    max_retries: int = E.MAX_RETRIES,
    shard: str | None = E.SHARD,
    quiet: bool = E.QUIET,
    no_filter: list[str] | None = E.NO_FILTER,
    tasks_opt: str | None = typer.Option(
        None,
        "--tasks",
        help="With `llava`: which of its tasks to run, comma-separated (e.g. conversation,detail).",
    ),
    limit_per_task: int | None = typer.Option(
        None, "--limit-per-task", min=1, help="First N source rows per task (same as --limit)."
    ),
    instructions: Path | None = typer.Option(
        None, "--instructions", help="Detail-description questions, one per line (default: our own list)."
    ),
    image_token: str = typer.Option(
        "random",
        "--image-token",
        help="Where <image> goes in the first question: first | last | random (seeded).",
    ),
    descriptions: Path | None = R.DESCRIPTIONS,
    from_run: Path | None = R.FROM_RUN,
    id_field: str | None = R.ID_FIELD,
    text_field: str | None = R.TEXT_FIELD,
    min_words: int | None = R.MIN_WORDS,
    min_ratio: float | None = R.MIN_RATIO,
    questions: Path | None = V.QUESTIONS,
    examples: Path | None = V.EXAMPLES,
    shots: int | None = V.SHOTS,
    margin: float | None = V.MARGIN,
    max_questions: int | None = V.MAX_QUESTIONS,
    min_region: float | None = V.MIN_REGION,
    negatives: bool = V.NEGATIVES,
) -> None:
    """Generate samples for TASK from a source of images."""
    from datagen.engine.dryrun import GenerationParams, write_dry_run
    from datagen.engine.generate import llava_options, prepare_tasks, resolve_limit, run_meta, select_tasks
    from datagen.engine.jobs import build_jobs
    from datagen.sources.load import load_contexts

    names = select_tasks(task, tasks_opt)
    limit = resolve_limit(limit, limit_per_task)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; it must be a run directory")
    spec = S.source_spec(locals())
    extra = R.rewrite_extra(
        names, spec.given(), descriptions, from_run, id_field, text_field, min_words, min_ratio
    )
    extra.update(V.vqa_extra(questions, examples, shots, margin, max_questions, min_region, negatives))
    opts = llava_options(
        task_names=names,
        templates_dir=templates_dir,
        seed=seed,
        image_token=image_token,
        no_filter=no_filter or [],
        instructions=instructions,
    )
    opts.extra.update(extra)
    cfg = E.engine_config(locals())

    def contexts() -> list[dict]:
        records, report = load_contexts(spec)
        S.echo_report(report.lines())
        return records

    if dry_run and batch:
        raise UsageError("--dry-run and --batch exclude each other", hint="pick one")
    V.check_model_free(names, dry_run=dry_run, batch=batch)
    jobs = build_jobs(names, opts, contexts, limit=limit)
    V.echo_notes(opts.extra)
    if not dry_run:
        from datagen.engine.runner import run_jobs

        tasks = prepare_tasks(names, out)  # duplicate filters learn what `out` already holds
        # Paths are stored absolute so `review` and resumed runs find the sources from any folder.
        source = {
            k: str(v.absolute() if isinstance(v, Path) else v)
            for k, v in dataclasses.asdict(spec).items()
            if v is not None
        }
        meta = {
            "task": task,
            "tasks": names,
            "source": source,
            "limit": limit,
            **run_meta(opts, limit),
            **R.rewrite_meta(extra),
        }
        R.record_rejected_before(extra, out, cfg.shard)
        if not tasks[names[0]].uses_llm:  # e.g. grounded_qa: answers computed, no model
            V.run_without_model(tasks[names[0]], jobs, opts, out, meta, shard=cfg.shard)
        elif batch:
            from datagen.engine.batch import run_batch

            run_batch(tasks, jobs, opts, cfg, out, meta=meta)
        else:
            run_jobs(tasks, jobs, opts, cfg, out, meta=meta)
        R.record_rejected_after(extra, out)
        V.after_run(out)
        return
    if cfg.shard is not None:  # the same 1/N a live run of this shard would send
        from datagen.common.shard import in_shard

        kn = cfg.shard
        jobs = [j for j in jobs if in_shard(j.sample_id, kn)]
    params = GenerationParams(model=model, temperature=temperature, max_tokens=max_tokens, seed=seed)
    summary = write_dry_run(jobs, out, params, price_in=price_in, price_out=price_out)
    R.echo_rejected(extra, "not in requests.jsonl")
    for line in summary.lines():
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
