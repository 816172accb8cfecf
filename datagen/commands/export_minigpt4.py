"""`datagen export minigpt4 INPUT... --out DIR`: a MiniGPT-4 stage-2 folder (filter_cap.json + image/)."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import adapt as A
from datagen.errors import UsageError


def register(export_app: typer.Typer) -> None:
    @export_app.command("minigpt4")
    def minigpt4(
        inputs: list[Path] = typer.Argument(
            ..., metavar="INPUT", help="Run directories, results.jsonl or LLaVA JSON files."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Folder to write filter_cap.json and image/ into."),
        images: Path | None = typer.Option(
            None, "--images", help="Image root the samples' image names are relative to (copies into image/)."
        ),
        link: bool = typer.Option(False, "--link", help="Symlink images instead of copying them."),
        copy: bool = typer.Option(
            False, "--copy", help="Copy images (the default); non-JPEGs are converted."
        ),
        exclude_ids: Path | None = typer.Option(
            None, "--exclude-ids", help="File of ids to leave out (JSON array or one per line)."
        ),
        skip_bad_images: bool = typer.Option(
            False, "--skip-missing-images", help="Drop samples whose image is missing, refused or unreadable."
        ),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out folder."),
        task: list[str] | None = typer.Option(
            None, "--task", help="Keep only records of this task (repeatable), e.g. detail_description."
        ),
        min_judge_score: int | None = A.MIN_JUDGE_SCORE,
        judge: Path | None = A.JUDGE,
    ) -> None:
        """Write DIR/filter_cap.json ({"annotations": [{"image_id", "caption"}]}) and DIR/image/<image_id>.jpg."""
        from datagen.export.minigpt4 import export_minigpt4, problem_summary
        from datagen.export.outputs import keep_judged
        from datagen.rundir.samples import load_many, read_id_list, refuse_overwriting_inputs

        if link and copy:
            raise UsageError("--link and --copy exclude each other")
        if link and images is None:
            raise UsageError("--link needs --images ROOT")
        refuse_overwriting_inputs(inputs, [out], replaces_folder=True)
        excluded = read_id_list(exclude_ids) if exclude_ids else None
        records = load_many(inputs, exclude_ids=excluded)
        if excluded is not None:
            typer.echo(excluded.note(), err=True)
        if task:
            records = [r for r in records if r.get("task") in set(task)]
        records, judged = keep_judged(records, judge, min_judge_score)
        if judged:
            typer.echo(judged, err=True)
        plan = export_minigpt4(
            records,
            out,
            images_root=images,
            mode="link" if link else "copy",
            skip_bad_images=skip_bad_images,
            overwrite=overwrite,
        )
        typer.echo(f"Wrote {len(plan.annotations)} captions to {out / 'filter_cap.json'}")
        if images is not None:
            verb = "linked" if link else "copied"
            typer.echo(f"{len(plan.images)} images {verb} into {out / 'image'}")
        else:
            typer.echo(
                "No --images given: image/ not written; MiniGPT-4 needs image/<image_id>.jpg beside it."
            )
        if plan.problems:
            typer.echo(f"Skipped {len(plan.problems)} sample(s): {problem_summary(plan.problems)}", err=True)
