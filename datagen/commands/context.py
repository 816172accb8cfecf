"""`datagen context`: build context records from a source and write them, or show one as a task sees it."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import _sources as S
from datagen.errors import UsageError


def context(
    coco: Path | None = S.COCO,
    split: str | None = S.SPLIT,
    captions: Path | None = S.CAPTIONS,
    instances: Path | None = S.INSTANCES,
    input: Path | None = S.INPUT,
    skip_crowd: bool = S.SKIP_CROWD,
    box_format: str = S.BOX_FORMAT,
    images: Path | None = S.IMAGES,
    captions_file: Path | None = S.CAPTIONS_FILE,
    detections: Path | None = S.DETECTIONS,
    categories: Path | None = S.CATEGORIES,
    min_score: float = S.MIN_SCORE,
    max_boxes: int | None = S.MAX_BOXES,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the context records here (JSONL)."),
    report: Path | None = typer.Option(None, "--report", help="Also write the skip report here (JSON)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out / --report file."),
    show: str | None = typer.Option(None, "--show", help="Print the context text of this image id instead."),
    task: str = typer.Option(
        "detail_description", "--as-task", help="With --show: the task whose view of the context to print."
    ),
    templates_dir: Path | None = typer.Option(
        None, "--templates-dir", help="Folder with one subfolder per task."
    ),
) -> None:
    """Turn annotations into context records (captions + normalised boxes), one JSON line per image."""
    from datagen.common.jsonio import write_json_atomic, write_jsonl_atomic
    from datagen.sources.load import find_record, load_contexts

    if out is None and show is None:
        raise UsageError("nothing to do: pass --out contexts.jsonl, or --show ID --as-task TASK")
    from datagen.export.outputs import claim_output

    for path in (out, report):
        if path is not None:
            claim_output(path, overwrite=overwrite, folder=False)
    spec = S.source_spec(locals())
    records, rep = load_contexts(spec)
    S.echo_report(rep.lines())
    if report is not None:
        write_json_atomic(report, rep.to_dict())
    if show is not None:
        from datagen.prompts.context import render_context
        from datagen.prompts.templates import load_template
        from datagen.tasks.registry import canonical_task_name

        tpl = load_template(canonical_task_name(task), templates_dir)
        typer.echo(render_context(find_record(records, show), tpl.context_fields))
    if out is not None:
        n = write_jsonl_atomic(out, records)
        typer.echo(f"wrote {n} context records to {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command("context")(context)
