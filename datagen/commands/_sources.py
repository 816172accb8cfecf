"""Source options shared by every command that reads images (`context`, `generate`, ...).

Typer has no option groups, so commands repeat these parameters with the defaults below and pass
`locals()` to `source_spec(...)`, which builds the `SourceSpec` the library understands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from datagen.sources.load import SourceSpec

COCO = typer.Option(None, "--coco", help="COCO root folder holding annotations/captions_SPLIT.json etc.")
SPLIT = typer.Option(None, "--split", help="COCO split with --coco, e.g. val2017 or train2017.")
CAPTIONS = typer.Option(None, "--captions", help="A COCO captions_*.json file.")
INSTANCES = typer.Option(None, "--instances", help="A COCO instances_*.json file (boxes), with --captions.")
INPUT = typer.Option(
    None, "--input", help="Context records as JSONL (e.g. from `datagen context`, or your own)."
)
SKIP_CROWD = typer.Option(False, "--skip-crowd", help="Drop COCO crowd regions (iscrowd=1) from the boxes.")
BOX_FORMAT = typer.Option(
    "xyxy-norm", "--box-format", help="Box format of --input rows: xyxy-norm | xyxy-pixel | xywh-pixel."
)
IMAGES = typer.Option(
    None,
    "--images",
    help="Image folder; sizes missing from the data are read from file headers, and "
    "--image-input base64 reads the images sent from here.",
)
CAPTIONS_FILE = typer.Option(
    None,
    "--captions-file",
    help="A captioner's captions: JSONL or CSV rows {image (file name or id), caption}.",
)
DETECTIONS = typer.Option(
    None, "--detections", help="A detector's boxes, COCO results JSON [{image_id, category_id, bbox, score}]."
)
CATEGORIES = typer.Option(
    None, "--categories", help="Category names for --detections (JSON with 'categories')."
)
MIN_SCORE = typer.Option(0.5, "--min-score", help="Drop detections scoring below this (0-1).")
MAX_BOXES = typer.Option(
    None, "--max-boxes", help="Keep at most N detections per image, highest scores first."
)


def source_spec(options: Mapping[str, Any]) -> SourceSpec:
    """The source part of a command's options (commands pass `locals()`): every `SourceSpec` field,
    taken by name, so each command that reads images declares the options once and builds the spec
    the same way."""
    return SourceSpec(
        **{f.name: options[f.name] for f in dataclasses.fields(SourceSpec) if f.name in options}
    )


def echo_report(lines: list[str], header: str = "skipped or adjusted while reading the source:") -> None:
    """The skip report as a short stderr summary (stdout stays clean for piping)."""
    if lines:
        typer.echo(header, err=True)
        for line in lines:
            typer.echo(f"  {line}", err=True)


def image_root(options: Mapping[str, Any]) -> Path | None:
    """The folder the source's images are under, when the options say (for hints like `review --images`)."""
    if options.get("images") is not None:
        return Path(options["images"])
    if options.get("coco") is not None and options.get("split"):
        return Path(options["coco"]) / str(options["split"])
    return None
