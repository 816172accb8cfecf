"""`datagen adapt FORMAT INPUT... --out PATH`: samples → the files a trainer reads (thin CLI shell
over `export.flow.run_export`; the formats are `export.registry.FORMATS`).

The options are declared once here; `datagen export <format>` reuses them for every registry format
without a command of its own."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.export.registry import FORMATS

FLOW_FORMATS = " | ".join(n for n, f in FORMATS.items() if f.write is not None)

INPUTS = typer.Argument(..., help="Run dirs, results.jsonl files or LLaVA JSON arrays.")
OUT = typer.Option(..., "--out", "-o", help="Output file (llava) or folder (the other formats).")
IMAGES = typer.Option(None, "--images", help="Image root: check images (trl/cauldron: embed them).")
SKIP_MISSING = typer.Option(
    False, "--skip-missing-images", help="Drop rows whose image is missing or refused (reported)."
)
EXCLUDE_IDS = typer.Option(None, "--exclude-ids", help="JSON list (or lines) of ids to leave out.")
TASK = typer.Option(None, "--task", help="Keep only records of this task (repeatable).")
SHUFFLE = typer.Option(False, "--shuffle", help="Shuffle the merged records.")
SEED = typer.Option(0, "--seed", help="Seed for --shuffle.")
NAME = typer.Option(
    "datagen", "--name", help="llama-factory, internvl, qwen*: the dataset's name (and its file's)."
)
SOURCE = typer.Option(None, "--source", show_default="the task", help="cauldron: value of `source`.")
LINK = typer.Option(False, "--link", help="minigpt4: symlink images instead of copying.")
OVERWRITE = typer.Option(False, "--overwrite", help="Replace an existing output.")
IMAGE_MODE = typer.Option(
    None,
    "--image-mode",
    help="Trainer formats: path (name the images), copy/link (into OUT/images), embed (bytes), url.",
)
MIX = typer.Option(None, "--mix", help="llava-onevision: TASK=all|first:N|end:N|random:N (N or N%).")
IMAGE_URL_PREFIX = typer.Option(None, "--image-url-prefix", help="openai: URL prefix for --image-mode url.")
MAX_FILE_MB = typer.Option(
    None, "--max-file-mb", show_default="512", help="openai: largest output file in MB."
)
MIN_PIXELS = typer.Option(None, "--min-pixels", help="qwen2.5-vl: the training run's min_pixels.")
MAX_PIXELS = typer.Option(None, "--max-pixels", help="qwen2.5-vl: the training run's max_pixels.")
VQA_ANNOTATIONS = typer.Option(
    None, "--vqa-annotations", help="rlvr: VQA annotations; vqa_answer samples are checked against them."
)


def format_options(
    name: str,
    source: str | None,
    link: bool,
    image_mode: str | None,
    mix: list[str] | None,
    image_url_prefix: str | None,
    max_file_mb: float | None,
    min_pixels: int | None,
    max_pixels: int | None,
    vqa_annotations: Path | None,
) -> dict[str, object]:
    """The `options` dict the writers read (the flow refuses the ones a format does not take)."""
    return {
        "name": name,
        "source": source,
        "link": link,
        "image_mode": image_mode,
        "mix": mix or [],
        "image_url_prefix": image_url_prefix,
        "max_file_mb": max_file_mb,
        "min_pixels": min_pixels,
        "max_pixels": max_pixels,
        "vqa_annotations": str(vqa_annotations) if vqa_annotations is not None else None,
    }


MIN_JUDGE_SCORE = typer.Option(
    None, "--min-judge-score", min=1, max=10, help="Keep only samples a `datagen judge` run scored N or more."
)
JUDGE = typer.Option(
    None, "--judge", help="The judge directory (`datagen judge --out`) --min-judge-score reads."
)


def register(app: typer.Typer) -> None:
    app.command("adapt")(adapt)


def adapt(
    fmt: str = typer.Argument(..., metavar="FORMAT", help=FLOW_FORMATS),
    inputs: list[Path] = INPUTS,
    out: Path = OUT,
    images: Path | None = IMAGES,
    skip_missing: bool = SKIP_MISSING,
    exclude_ids: Path | None = EXCLUDE_IDS,
    task: list[str] | None = TASK,
    shuffle: bool = SHUFFLE,
    seed: int = SEED,
    name: str = NAME,
    source: str | None = SOURCE,
    link: bool = LINK,
    overwrite: bool = OVERWRITE,
    image_mode: str | None = IMAGE_MODE,
    mix: list[str] | None = MIX,
    image_url_prefix: str | None = IMAGE_URL_PREFIX,
    max_file_mb: float | None = MAX_FILE_MB,
    min_pixels: int | None = MIN_PIXELS,
    max_pixels: int | None = MAX_PIXELS,
    vqa_annotations: Path | None = VQA_ANNOTATIONS,
    min_judge_score: int | None = MIN_JUDGE_SCORE,
    judge: Path | None = JUDGE,
) -> None:
    """Convert samples to a trainer's format (see `datagen export --help` for the list)."""
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
        options=format_options(
            name,
            source,
            link,
            image_mode,
            mix,
            image_url_prefix,
            max_file_mb,
            min_pixels,
            max_pixels,
            vqa_annotations,
        ),
        judge=judge,
        min_judge_score=min_judge_score,
    )
    for note in result.notes:
        typer.echo(note, err=True)
    if result.skipped_images:
        typer.echo(result.skipped_images, err=True)
    typer.echo(f"Wrote {result.written} {fmt} samples to {out}")
