"""`datagen export FORMAT ...`: one subcommand per format of `export.registry.FORMATS`.

llava, hf and minigpt4 have options of their own (their modules); every other format takes the
shared options of `datagen adapt` and goes through the same flow (`export.flow.run_export`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import export_hf, export_llava, export_minigpt4

# Formats whose subcommand has its own options; the rest get the shared ones below.
OWN_COMMANDS = {"llava": export_llava, "hf": export_hf, "minigpt4": export_minigpt4}


def register(app: typer.Typer) -> None:
    from datagen.export.registry import FORMATS

    export_app = typer.Typer(
        help="Export generated samples: " + ", ".join(FORMATS) + ".", no_args_is_help=True
    )
    for name, fmt in FORMATS.items():
        if name in OWN_COMMANDS:
            OWN_COMMANDS[name].register(export_app)
        else:
            export_app.command(name, help=f"{fmt.summary} (the same as `datagen adapt {name}`).")(
                _shared_command(name)
            )
    app.add_typer(export_app, name="export")


def _shared_command(fmt: str):  # type: ignore[no-untyped-def]
    from datagen.commands import adapt as A

    def command(
        inputs: list[Path] = A.INPUTS,
        out: Path = A.OUT,
        images: Path | None = A.IMAGES,
        skip_missing: bool = A.SKIP_MISSING,
        exclude_ids: Path | None = A.EXCLUDE_IDS,
        task: list[str] | None = A.TASK,
        shuffle: bool = A.SHUFFLE,
        seed: int = A.SEED,
        name: str = A.NAME,
        source: str | None = A.SOURCE,
        overwrite: bool = A.OVERWRITE,
        image_mode: str | None = A.IMAGE_MODE,
        mix: list[str] | None = A.MIX,
        image_url_prefix: str | None = A.IMAGE_URL_PREFIX,
        max_file_mb: float | None = A.MAX_FILE_MB,
        min_pixels: int | None = A.MIN_PIXELS,
        max_pixels: int | None = A.MAX_PIXELS,
        vqa_annotations: Path | None = A.VQA_ANNOTATIONS,
        min_judge_score: int | None = A.MIN_JUDGE_SCORE,
        judge: Path | None = A.JUDGE,
    ) -> None:
        A.adapt(
            fmt,
            inputs,
            out,
            images,
            skip_missing,
            exclude_ids,
            task,
            shuffle,
            seed,
            name,
            source,
            False,
            overwrite,
            image_mode,
            mix,
            image_url_prefix,
            max_file_mb,
            min_pixels,
            max_pixels,
            vqa_annotations,
            min_judge_score,
            judge,
        )

    return command
