"""`datagen demo`: the whole pipeline on the bundled COCO sample; no model needed, more with one.

Steps live in `datagen/commands/demo_steps.py`; this command only sequences and prints them.
"""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    out: Path = typer.Option(Path("datagen-demo"), "--out", "-o", help="Folder for the demo's files."),
    model: str | None = typer.Option(
        None, "--model", help="Model for the live part (when OPENAI_API_KEY or OPENAI_BASE_URL is set)."
    ),
) -> None:
    """Build contexts for the bundled COCO images, generate grounded QA (no model), dry-run every LLM
    task, and export. With OPENAI_API_KEY / OPENAI_BASE_URL set, also generate a few real samples of
    each LLM task and score the VQA answers."""
    from datagen.commands import demo_steps as D
    from datagen.common.jsonio import write_jsonl_atomic
    from datagen.common.resources import data_root
    from datagen.engine.config import DEFAULT_MODEL, GenerationParams
    from datagen.engine.dryrun import write_dry_run
    from datagen.errors import UsageError
    from datagen.prompts.context import render_context
    from datagen.sources.load import SourceSpec, load_contexts

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; pass a folder")
    spec = SourceSpec(coco=data_root() / "coco", split="val2017")
    records, report = load_contexts(spec)
    contexts_path = out / "contexts.jsonl"
    write_jsonl_atomic(contexts_path, records)
    typer.echo(f"1. contexts: {len(records)} images from the bundled COCO val2017 sample -> {contexts_path}")
    for line in report.lines():
        typer.echo(f"   skipped/adjusted: {line}")
    first = records[0]
    typer.echo(f"\n   what detail_description sees for image {first['id']}:\n")
    typer.echo("   " + render_context(first).replace("\n", "\n   ") + "\n")
    grounded_dir = out / "grounded"
    typer.echo("2. grounded_qa, answers read off the annotations (no model):")
    for line in D.grounded(records, grounded_dir):
        typer.echo(f"   {line}")
    run_dir = out / "run"
    jobs, notes = D.llm_jobs(records, D.demo_options())
    summary = write_dry_run(jobs, run_dir, GenerationParams(model=model or DEFAULT_MODEL))
    typer.echo(f"\n3. dry run of {', '.join(D.LLAVA_TASKS + D.VQA_TASKS)}:")
    for line in [*summary.lines(), *notes]:
        typer.echo(f"   {line}")
    run_dirs = [grounded_dir]
    if D.live_requested():
        typer.echo(f"\n4. live: a few samples of each LLM task with {model or DEFAULT_MODEL}:")
        for line in D.live(records, out, model or DEFAULT_MODEL):
            typer.echo(f"   {line}")
        live_dir = out / "live"
        if live_dir.is_dir():
            run_dirs += sorted(p for p in live_dir.iterdir() if p.is_dir())
    else:
        typer.echo("\n4. live generation skipped: set OPENAI_API_KEY (or OPENAI_BASE_URL) to run it")
    typer.echo("\n5. exports:")
    for line in D.exports(run_dirs, out):
        typer.echo(f"   {line}")
    typer.echo("\n" + D.summary(run_dirs, summary.requests, summary.path))
    typer.echo(
        "\nNext: send these requests to a model.\n"
        f"  OpenAI:            export OPENAI_API_KEY=...; datagen generate llava --input {contexts_path} --out {run_dir} --model {DEFAULT_MODEL}\n"
        f"  Local (vLLM, Ollama, llama.cpp): datagen generate llava --input {contexts_path} --out {run_dir} "
        "--base-url http://localhost:8000/v1 --model YOUR_MODEL\n"
        f"  Or submit {summary.path} to the OpenAI Batch API as it is.\n"
        "  Your own data: datagen context --coco /path/to/coco --split train2017 --out contexts.jsonl"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
