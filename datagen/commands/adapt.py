"""`datagen adapt FORMAT INPUT... --out PATH`: samples → the files a trainer reads (thin CLI shell
over `export.flow.run_export`; the formats are `export.registry.FORMATS`)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt)


def adapt(
    fmt: str = typer.Argument(
        ..., metavar="FORMAT", help="llava | llama-factory | trl | cauldron | minigpt4"
    ),
    inputs: list[Path] = typer.Argument(..., help="Run dirs, results.jsonl files or LLaVA JSON arrays."),
    out: Path = typer.Option(..., "--out", help="Output file (llava) or folder (the other formats)."),
    images: Path = typer.Option(
        None, "--images", help="Image root: check images (trl/cauldron: embed them)."
    ),
    skip_missing: bool = typer.Option(
        False, "--skip-missing", help="Drop rows whose image is missing/refused."
    ),
    exclude_ids: Path = typer.Option(None, "--exclude-ids", help="JSON list (or lines) of ids to leave out."),
    task: list[str] = typer.Option(None, "--task", help="Keep only records of this task (repeatable)."),
    shuffle: bool = typer.Option(False, "--shuffle", help="Shuffle the merged records."),
    seed: int = typer.Option(0, "--seed", help="Seed for --shuffle."),
    name: str = typer.Option("datagen", "--name", help="llama-factory: dataset name in dataset_info.json."),
    source: str = typer.Option(None, "--source", help="cauldron: value of `source` (default: the task)."),
    link: bool = typer.Option(False, "--link", help="minigpt4: symlink images instead of copying."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
) -> None:
    """Convert samples to a trainer's format (LLaVA, LLaMA-Factory, TRL, the_cauldron, MiniGPT-4)."""
    from datagen.export.flow import run_export

    result = run_export(
        fmt,
        inputs,
        out,
        images=images,
        skip_missing=skip_missing,
        exclude_ids=exclude_ids,
        tasks=task or (),
        shuffle=shuffle,
        seed=seed,
        overwrite=overwrite,
        options={"name": name, "source": source, "link": link},
    )
    if result.skipped_images:
        typer.echo(result.skipped_images, err=True)
    typer.echo(f"Wrote {result.written} {fmt} samples to {out}")
