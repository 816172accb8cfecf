"""The shared export flow: inputs → checked records → one format's writer (`datagen adapt`, and
`datagen export` for every format without a planner of its own).

Order matters for the user: the inputs are read and checked first (a bad input is reported before
anything else), then the outputs are claimed under the one overwrite rule, then images are
resolved and checked (every problem reported at once, nothing written), then the writer runs.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.errors import UsageError
from datagen.export.images import check_images
from datagen.export.outputs import claim_output, keep_judged, load_records
from datagen.export.registry import FORMATS, SPECIFIC_OPTIONS, Format, get_format


@dataclass
class ExportResult:
    written: int
    skipped_images: str = ""  # what --skip-missing-images dropped, for one stderr line
    notes: list[str] = field(default_factory=list)


def shuffled(records: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """A seeded shuffle that does not touch the caller's list (same seed, same order)."""
    out = list(records)
    random.Random(seed).shuffle(out)
    return out


def run_export(
    fmt_name: str,
    inputs: Iterable[str | Path],
    out: str | Path,
    *,
    images: str | Path | None = None,
    skip_missing: bool = False,
    exclude_ids: str | Path | None = None,
    tasks: Iterable[str] = (),
    shuffle: bool = False,
    seed: int = 0,
    overwrite: bool = False,
    options: dict[str, Any] | None = None,
    judge: str | Path | None = None,
    min_judge_score: int | None = None,
) -> ExportResult:
    """Write the records of `inputs` to `out` in format `fmt_name`; returns how many were written."""
    fmt = get_format(fmt_name, flow_only=True)
    assert fmt.write is not None
    opts = dict(options or {})
    out = Path(out)
    check_options(fmt, opts)
    if fmt.needs_images and images is None:
        raise UsageError(
            f"{fmt.name} needs --images ROOT (its output holds the image files or their checked paths)"
        )
    name = str(opts.get("name", "datagen"))
    if not name or name.startswith(".") or "/" in name or "\\" in name:
        # it becomes a file name (`<out>/<name>.json` of llama-factory, internvl, qwen*): `../x`
        # would write outside --out
        raise UsageError(f"--name {name!r}: give a plain dataset name (no '/', not starting with '.')")
    targets = fmt.outputs(out, opts)
    result = ExportResult(0)
    records = load_records(
        inputs,
        targets,
        exclude_ids=exclude_ids,
        replaces_folder=fmt.layout == "folder",
        tasks=tasks,
        notes=result.notes,
    )
    records, judged = keep_judged(records, judge, min_judge_score)
    if judged:
        result.notes.append(judged)
    if not records:
        raise UsageError("no records left to adapt (inputs empty, or every record excluded/filtered)")
    for target in fmt.claims(out, opts):
        claim_output(target, overwrite=overwrite, folder=fmt.layout == "folder")
    if shuffle:
        records = shuffled(records, seed)
    paths = None
    if images is not None:
        check = check_images(records, images, skip=skip_missing)
        if check.dropped:
            result.skipped_images = f"Skipped {check.dropped} rows: {check.summary(images)}"
        records, paths = check.records, check.paths
    if images is not None and fmt.layout == "folder" and Path(images).resolve().is_relative_to(out.resolve()):
        # the folder is replaced whole: the images would be deleted (or linked to a deleted folder)
        raise UsageError(f"--images {images} is inside --out {out}", hint="choose another --out")
    opts.update(images=images, skip_missing=skip_missing, notes=result.notes)
    result.written = fmt.write(records, paths, out, opts)
    return result


def check_options(fmt: Format, opts: dict[str, Any]) -> None:
    """Refuse options the format does not take (one line naming the formats that do); fill in the
    default `--image-mode`."""
    for flag, key in SPECIFIC_OPTIONS.items():
        if opts.get(key) not in (None, [], ()) and key not in fmt.accepts:
            takers = ", ".join(n for n, f in FORMATS.items() if key in f.accepts)
            raise UsageError(f"{flag} only applies to {takers} (not {fmt.name})")
    mode = opts.get("image_mode")
    if mode is not None and mode not in fmt.image_modes:
        if not fmt.image_modes:
            raise UsageError(f"--image-mode does not apply to {fmt.name}")
        raise UsageError(f"{fmt.name} takes --image-mode {' | '.join(fmt.image_modes)}, not {mode!r}")
    if fmt.image_modes:
        opts["image_mode"] = mode or fmt.image_modes[0]
