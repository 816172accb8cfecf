"""`datagen review INPUT --images ROOT --out review.html`: write a static page to review samples by eye."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands._sources import CAPTIONS, COCO, INSTANCES, SKIP_CROWD, SPLIT


def review(
    input: Path = typer.Argument(
        ..., metavar="RUN_DIR|FILE", help="A run directory, its results.jsonl, or a LLaVA JSON array."
    ),
    images: Path = typer.Option(
        ..., "--images", metavar="ROOT", help="Folder the records' `image` paths are relative to."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="FILE.html", help="HTML file to write (images are linked relative to it)."
    ),
    sample: int | None = typer.Option(
        None, "--sample", metavar="N", help="Show a random N samples (and N failures)."
    ),
    seed: int = typer.Option(0, "--seed", metavar="S", help="Seed for --sample."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out page."),
    embed: bool = typer.Option(
        False, "--embed", help="Embed JPEG thumbnails so the page is one portable file."
    ),
    include_failures: bool = typer.Option(
        False, "--include-failures", help="Also show failed and filtered samples with their reason."
    ),
    contexts: list[Path] = typer.Option(
        [],
        "--contexts",
        metavar="FILE.jsonl",
        help="Context JSONL (from `datagen context`) with captions and boxes; repeatable.",
    ),
    judge: Path | None = typer.Option(
        None,
        "--judge",
        metavar="JUDGE_DIR",
        help="Show each sample's score from a `datagen judge` directory.",
    ),
    coco: Path | None = COCO,
    split: str | None = SPLIT,
    captions: Path | None = CAPTIONS,
    instances: Path | None = INSTANCES,
    skip_crowd: bool = SKIP_CROWD,
) -> None:
    """Write one self-contained HTML page showing each sample beside its image, boxes and captions.

    Captions and boxes come from --contexts files, from COCO annotations (--coco DIR --split S, or
    --captions/--instances), or from the run itself (a contexts.jsonl in it, or the source its
    run.json records).
    Accept/reject samples on the page and download the rejected ids; `datagen adapt|export ... --exclude-ids
    rejected-ids.json` leaves them out.
    """
    from datagen.review import build_review
    from datagen.rundir.samples import refuse_overwriting_inputs

    refuse_overwriting_inputs([input, *contexts], [out])  # `--out RUN/results.jsonl` replaced the run
    from datagen.export.outputs import claim_output

    claim_output(out, overwrite=overwrite, folder=False)
    records: list[dict] = []
    if any(x is not None for x in (coco, split, captions, instances)):
        # Captions and boxes straight from COCO annotation files, the same way `datagen context` builds them.
        from datagen.sources.load import SourceSpec, load_contexts

        spec = SourceSpec(
            coco=coco, split=split, captions=captions, instances=instances, skip_crowd=skip_crowd
        )
        records, _ = load_contexts(spec)
    result = build_review(
        input,
        images=images,
        out=out,
        sample=sample,
        seed=seed,
        embed=embed,
        include_failures=include_failures,
        contexts=tuple(contexts),
        context_records=records,
        judge=judge,
    )
    s = result.summary
    if result.missing_images:
        shown = ", ".join(result.missing_images[:5])
        more = f" and {len(result.missing_images) - 5} more" if len(result.missing_images) > 5 else ""
        typer.echo(
            f"Warning: {len(result.missing_images)} images not found under {images}: {shown}{more}", err=True
        )
    if s.context_note:
        typer.echo(f"Note: {s.context_note}.", err=True)
    if s.contexts_missing and s.contexts_found == 0:
        typer.echo(
            "Note: no captions/boxes found for these samples; pass --contexts contexts.jsonl.", err=True
        )
    failures = (
        f", {s.shown_failures} failure{'s' if s.shown_failures != 1 else ''}" if include_failures else ""
    )
    typer.echo(
        f"Wrote {out} ({result.bytes_written / 1e6:.1f} MB): {s.shown_samples} of "
        f"{sum(s.samples_by_task.values())} samples{failures}. Open it in a browser."
    )


def register(app: typer.Typer) -> None:
    app.command("review")(review)
