"""`datagen adapt FORMAT INPUT... --out PATH`: samples → the files a trainer reads."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.errors import UsageError


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
    from datagen.adapter import FORMATS
    from datagen.common.jsonio import atomic_folder
    from datagen.export import trainers as writers
    from datagen.export.images import check_images
    from datagen.export.llava import to_llava, write_llava_json
    from datagen.export.minigpt4 import export_minigpt4
    from datagen.rundir.samples import load_many, read_id_list, refuse_overwriting_inputs

    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")
    if fmt == "minigpt4" and images is None:
        raise UsageError("minigpt4 needs --images ROOT (it copies the image files)")
    if out.exists() and fmt != "llama-factory" and not overwrite:
        raise UsageError(f"{out} already exists", hint="choose another --out or add --overwrite")
    if fmt == "llama-factory" and (not name or name.startswith(".") or "/" in name or "\\" in name):
        # it becomes the file `<out>/<name>.json`: `../x` would write outside --out
        raise UsageError(f"--name {name!r}: give a plain dataset name (no '/', not starting with '.')")
    if fmt == "llama-factory":  # merges into the folder: only its data file is replaced
        refuse_overwriting_inputs(inputs, [out / f"{name}.json", out / "dataset_info.json"])
    else:
        refuse_overwriting_inputs(inputs, [out], replaces_folder=fmt != "llava")
    excluded = read_id_list(exclude_ids) if exclude_ids else None
    records = load_many(list(inputs), exclude_ids=excluded)
    if task:
        records = [r for r in records if r.get("task") in set(task)]
    if not records:
        raise UsageError("no records left to adapt (inputs empty, or every record excluded/filtered)")
    if shuffle:
        records = writers.shuffled(records, seed)
    paths = None
    if images is not None:
        check = check_images(records, images, skip=skip_missing)
        if check.dropped:
            typer.echo(f"Skipped {check.dropped} rows: {check.summary(images)}", err=True)
        records, paths = check.records, check.paths

    if fmt == "llava":
        n = write_llava_json(out, (to_llava(r) for r in records))
    elif fmt == "minigpt4":
        # The same writer as `datagen export minigpt4` (one implementation of MiniGPT-4's layout).
        plan = export_minigpt4(
            records,
            out,
            images_root=images,
            mode="link" if link else "copy",
            skip_bad_images=skip_missing,
            overwrite=overwrite,
        )
        n = len(plan.annotations)
    elif fmt == "llama-factory":
        n = writers.write_llama_factory(records, paths, out, name)
    else:
        # Folder outputs are built beside the target and moved into place when complete.
        with atomic_folder(out) as tmp:
            tmp.rmdir()  # save_to_disk wants to create its folder
            n = writers.write_hf_dataset(records, paths, tmp, fmt, source=source)
    typer.echo(f"Wrote {n} {fmt} samples to {out}")
