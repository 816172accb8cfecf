"""`generate` options for caption_rewrite (descriptions in, not COCO contexts), kept out of generate.py.

The values travel to the task in `TaskOptions.extra`; descriptions the task flags before any call
(too short) come back through the `rejected_sources` list so the command can report and record them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from datagen.errors import UsageError

REWRITE_TASK = "caption_rewrite"

DESCRIPTIONS = typer.Option(
    None,
    "--descriptions",
    help="caption_rewrite: descriptions to clean (.jsonl, .json array or MiniGPT-4 filter_cap.json, .csv/.tsv).",
)
FROM_RUN = typer.Option(
    None, "--from-run", help="caption_rewrite: rewrite the detail descriptions of an earlier run directory."
)
ID_FIELD = typer.Option(
    None, "--id-field", help="caption_rewrite: id column (default image_id, image or id)."
)
TEXT_FIELD = typer.Option(
    None, "--text-field", help="caption_rewrite: text column (default caption or description)."
)
MIN_WORDS = typer.Option(
    None,
    "--min-words",
    min=0,
    help="caption_rewrite: report descriptions under N words instead of sending them (10).",
)
MIN_RATIO = typer.Option(
    None,
    "--min-ratio",
    min=0.0,
    max=1.0,
    help="caption_rewrite: reject rewrites keeping less than this share of the (de-duplicated) words (0.5).",
)


def rewrite_extra(
    task_names: list[str],
    source_given: bool,
    descriptions: Path | None,
    from_run: Path | None,
    id_field: str | None,
    text_field: str | None,
    min_words: int | None,
    min_ratio: float | None,
) -> dict[str, Any]:
    """Check the caption_rewrite options against the task and return them as `TaskOptions.extra`."""
    given = {
        "--descriptions": descriptions,
        "--from-run": from_run,
        "--id-field": id_field,
        "--text-field": text_field,
        "--min-words": min_words,
        "--min-ratio": min_ratio,
    }
    if REWRITE_TASK not in task_names:
        used = [flag for flag, value in given.items() if value is not None]
        if used:
            raise UsageError(f"{', '.join(used)} only apply to caption_rewrite")
        return {}
    if source_given:
        raise UsageError(
            "caption_rewrite reads descriptions, not COCO/context sources",
            hint="use --descriptions FILE or --from-run RUN_DIR",
        )
    if (descriptions is None) == (from_run is None):
        raise UsageError("caption_rewrite needs exactly one of --descriptions FILE or --from-run RUN_DIR")
    if from_run is not None and (id_field or text_field):
        raise UsageError("--id-field/--text-field apply to --descriptions files, not --from-run")
    return {
        "descriptions": str(descriptions) if descriptions else None,
        "from_run": str(from_run) if from_run else None,
        "id_field": id_field,
        "text_field": text_field,
        "min_words": min_words,
        "min_ratio": min_ratio,
        "rejected_sources": [],
    }


def echo_rejected(extra: dict[str, Any], where: str, limit: int = 5) -> None:
    """Tell the user (stderr) which descriptions were flagged before any call, and where they are listed."""
    rejected = extra.get("rejected_sources") or []
    if rejected:
        ids = ", ".join(r["id"] for r in rejected[:limit]) + (", ..." if len(rejected) > limit else "")
        typer.echo(
            f"{len(rejected)} description(s) flagged too_short_input, not sent ({ids}); {where} "
            "(--min-words 0 sends everything)",
            err=True,
        )


def record_rejected_before(extra: dict[str, Any], out: Path, shard: tuple[int, int] | None) -> None:
    """Live/batch runs: write this shard's flagged descriptions to failures.jsonl before sending."""
    if "rejected_sources" not in extra:
        return
    from datagen.common.shard import in_shard
    from datagen.tasks.rewrite.prefail import write_prefailures

    mine = [f for f in extra["rejected_sources"] if in_shard(f["sample_id"], shard)]
    extra["rejected_sources"] = mine
    out.mkdir(parents=True, exist_ok=True)
    write_prefailures(out, mine)
    echo_rejected(extra, "listed in failures.jsonl")


def record_rejected_after(extra: dict[str, Any], out: Path) -> None:
    """Add the flagged count to the run.json the engine just wrote."""
    if "rejected_sources" in extra:
        from datagen.tasks.rewrite.prefail import count_prefailures

        count_prefailures(out, len(extra["rejected_sources"]))


def rewrite_meta(extra: dict[str, Any]) -> dict[str, Any]:
    """The caption_rewrite inputs and settings, for run.json's config (provenance)."""
    if "rejected_sources" not in extra:
        return {}
    keys = ("descriptions", "from_run", "id_field", "text_field", "min_words", "min_ratio")
    return {"rewrite": {k: extra.get(k) for k in keys}}
