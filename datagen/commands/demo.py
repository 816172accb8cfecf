"""`datagen demo`: the whole front half of the pipeline on the bundled COCO sample, no model needed."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    out: Path = typer.Option(Path("datagen-demo"), "--out", help="Folder for the demo's files."),
) -> None:
    """Build contexts for the bundled COCO images and dry-run LLaVA's three tasks on them."""
    from datagen.commands.generate import DEFAULT_MODEL
    from datagen.context import render_context
    from datagen.dryrun import GenerationParams, write_dry_run
    from datagen.errors import UsageError
    from datagen.jobs import build_jobs, expand_task_names
    from datagen.jsonio import write_jsonl_atomic
    from datagen.resources import data_root
    from datagen.sources import SourceSpec, load_contexts
    from datagen.tasks.base import TaskOptions

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
    run_dir = out / "run"
    jobs = build_jobs(expand_task_names("llava"), TaskOptions(), lambda: records)
    summary = write_dry_run(jobs, run_dir, GenerationParams(model=DEFAULT_MODEL))
    typer.echo("2. dry run of conversation, detail_description and complex_reasoning:")
    for line in summary.lines():
        typer.echo(f"   {line}")
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
