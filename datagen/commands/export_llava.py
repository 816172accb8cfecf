"""`datagen export llava INPUT... --out FILE.json`: LLaVA-Instruct JSON from run dirs (thin CLI shell)."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import adapt as A


def register(export_app: typer.Typer) -> None:
    @export_app.command("llava")
    def export_llava_cmd(
        inputs: list[Path] = typer.Argument(
            ..., help="Run dirs, results.jsonl files or LLaVA JSON arrays (concatenated in order)."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Output .json file (a folder with --per-task)."),
        per_task: bool = typer.Option(
            False,
            "--per-task",
            help="One file per task: OUT.<task>.json beside OUT.json, or OUT/<task>.json if OUT is a folder.",
        ),
        exclude_ids: Path | None = typer.Option(
            None,
            "--exclude-ids",
            help="JSON array (as downloaded from `datagen review`) or text file of ids / sample ids to drop.",
        ),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
        min_judge_score: int | None = A.MIN_JUDGE_SCORE,
        judge: Path | None = A.JUDGE,
    ) -> None:
        """Write one JSON array of {id, image, conversations}, loadable by LLaVA's training loader as is."""
        from datagen.export.llava import export_llava

        summary = export_llava(
            inputs,
            out,
            per_task=per_task,
            exclude_ids_file=exclude_ids,
            overwrite=overwrite,
            judge=judge,
            min_judge_score=min_judge_score,
        )
        if summary.exclude_note:
            typer.echo(summary.exclude_note, err=True)
        if summary.judge_note:
            typer.echo(summary.judge_note, err=True)
        for path, n in summary.written.items():
            typer.echo(f"wrote {n} samples to {path}", err=True)
        mix = ", ".join(f"{task}: {n}" for task, n in sorted(summary.per_task.items()))
        typer.echo(f"{summary.total} samples ({mix or 'none'})", err=True)
        if summary.total == 0:
            typer.echo("warning: no samples to export (the output is an empty array)", err=True)
