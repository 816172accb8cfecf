"""`datagen export hf INPUT... --out DIR`: samples → a Hugging Face dataset folder (+ optional Hub push)."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import adapt as A
from datagen.commands._argv import typed_command
from datagen.errors import UsageError


def register(export_app: typer.Typer) -> None:
    export_app.command("hf")(export_hf)


def export_hf(
    ctx: typer.Context,
    inputs: list[Path] = typer.Argument(
        ..., help="Run dirs, results.jsonl files or LLaVA JSON arrays (chat.json)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the dataset to."),
    fmt: str = typer.Option(
        "parquet", "--format", help="parquet (sharded, Hub layout) or arrow (save_to_disk)."
    ),
    max_shard_size: str = typer.Option("500MB", "--max-shard-size", help="Largest shard, e.g. 500MB."),
    split: str = typer.Option(
        "train", "--hf-split", help="Name of the dataset's split (was --split; ignored with --by-task)."
    ),
    by_task: bool = typer.Option(False, "--by-task", help="One split per task (a DatasetDict)."),
    task: list[str] | None = A.TASK,
    default_task: str | None = typer.Option(
        None, "--default-task", help="Task label for records that carry none (LLaVA JSON arrays)."
    ),
    images: Path = typer.Option(
        None, "--images", help="Image root; every image path must resolve inside it."
    ),
    embed_images: bool = typer.Option(False, "--embed-images", help="Store image bytes (Image feature)."),
    skip_missing: bool = A.SKIP_MISSING,
    exclude_ids: Path = typer.Option(None, "--exclude-ids", help="JSON list (or lines) of ids to leave out."),
    contexts: Path = typer.Option(
        None, "--contexts", help="Context JSONL the run used: the card counts caption/box sources."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out folder."),
    push_to_hub: str = typer.Option(None, "--push-to-hub", help="Also upload to this Hub dataset repo."),
    private: bool = typer.Option(False, "--private", help="Create the Hub repo as private."),
    min_judge_score: int | None = A.MIN_JUDGE_SCORE,
    judge: Path | None = A.JUDGE,
) -> None:
    """Export samples as a Hugging Face dataset with an explicit schema and a dataset card."""
    from datagen.export import card
    from datagen.export import hf as export_hf
    from datagen.export import hf_write as export_hf_write
    from datagen.export import hub as export_hub
    from datagen.rundir.samples import read_id_list, refuse_overwriting_inputs

    token = None
    if push_to_hub:
        if fmt != "parquet":
            raise UsageError("--push-to-hub needs --format parquet (the layout the Hub reads)")
        token = export_hub.check_push_possible(push_to_hub)
    elif private:
        raise UsageError("--private only applies with --push-to-hub")
    refuse_overwriting_inputs(inputs, [out], replaces_folder=True)
    excluded = read_id_list(exclude_ids) if exclude_ids else None
    loaded = export_hf.read_inputs(list(inputs), exclude_ids=excluded, default_task=default_task)
    if excluded is not None:
        typer.echo(excluded.note(), err=True)
    if task:
        _keep_tasks(loaded, task)
    if judge is not None or min_judge_score is not None:
        from datagen.export.outputs import keep_judged

        for inp in loaded:
            inp.records, note = keep_judged(inp.records, judge, min_judge_score)
            typer.echo(f"{inp.path}: {note}", err=True)
    plan = export_hf.plan_export(
        loaded,
        split=split,
        by_task=by_task,
        images_root=images,
        embed_images=embed_images,
        skip_missing=skip_missing,
    )
    dropped = plan.images.summary(images) if plan.images and plan.images.dropped else ""
    if dropped:
        typer.echo(f"Skipped {plan.images.dropped} rows: {dropped}", err=True)  # type: ignore[union-attr]
    render = card.card_renderer(
        command=typed_command(ctx, "datagen export hf"),
        fmt=fmt,
        embedded_images=embed_images,
        dropped=dropped,
        contexts=contexts,
    )

    counts, fingerprint = export_hf_write.write_export(
        plan,
        out,
        fmt=fmt,
        max_shard_size=max_shard_size,
        embed_images=embed_images,
        overwrite=overwrite,
        card_text=render,
    )
    summary = ", ".join(f"{k}: {v}" for k, v in counts.items())
    typer.echo(
        f"Wrote {sum(counts.values())} samples ({summary}) to {out} as {fmt} (fingerprint {fingerprint})"
    )
    if push_to_hub and token:
        url = export_hub.push_folder(out, push_to_hub, token=token, private=private)
        typer.echo(f"Pushed to {url}")


def _keep_tasks(loaded: list, tasks: list[str]) -> None:
    """`--task` keeps only these tasks' records, as in every export. Until the next release a single
    `--task NAME` also labels records that carry no task (its old meaning, now `--default-task`)."""
    unlabelled = sum(1 for inp in loaded for r in inp.records if not r.get("task"))
    if unlabelled and len(tasks) == 1:
        typer.echo(
            f"warning: --task {tasks[0]} labelled {unlabelled} records that had no task; that is "
            f"--default-task {tasks[0]} now (--task only filters from the next release)",
            err=True,
        )
        for inp in loaded:
            for r in inp.records:
                r.setdefault("task", tasks[0])
    wanted = set(tasks)
    for inp in loaded:
        inp.records = [r for r in inp.records if r.get("task") in wanted]
