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
    def command(
        inputs: list[Path] = typer.Argument(..., help="Run dirs, results.jsonl files or LLaVA JSON arrays."),
        out: Path = typer.Option(..., "--out", help="Output folder."),
        images: Path = typer.Option(
            None, "--images", help="Image root: check images (trl/cauldron: embed them)."
        ),
        skip_missing: bool = typer.Option(
            False, "--skip-missing", help="Drop rows whose image is missing/refused."
        ),
        exclude_ids: Path = typer.Option(
            None, "--exclude-ids", help="JSON list (or lines) of ids to leave out."
        ),
        task: list[str] = typer.Option(None, "--task", help="Keep only records of this task (repeatable)."),
        shuffle: bool = typer.Option(False, "--shuffle", help="Shuffle the merged records."),
        seed: int = typer.Option(0, "--seed", help="Seed for --shuffle."),
        name: str = typer.Option(
            "datagen", "--name", help="llama-factory: dataset name in dataset_info.json."
        ),
        source: str = typer.Option(None, "--source", help="cauldron: value of `source` (default: the task)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    ) -> None:
        from datagen.commands.adapt import adapt

        adapt(
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
        )

    return command
