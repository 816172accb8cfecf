"""Export single-description samples as a MiniGPT-4 stage-2 dataset folder: the last step of the
caption-rewrite flow.

MiniGPT-4's dataset reader loads `filter_cap.json` (`{"annotations": [{"image_id", "caption"}]}`)
and opens `image/<image_id>.jpg` for each annotation, so `image_id` must be a string equal to the
image's file stem and every image must exist as a JPEG under that name. Everything is checked before
anything is written; the folder is built in a temporary sibling and renamed into place, so a failure
leaves no partial output. Image names come from data files, so each is resolved under the image root
with `resolve_under`: names that escape it (`..`, absolute paths, symlinks pointing out) are refused.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from datagen.common.jsonio import atomic_folder, write_json_atomic
from datagen.common.safepaths import PathEscapeError, resolve_under
from datagen.errors import DatagenError, InputError
from datagen.export.outputs import claim_output

CAPTIONS_FILE = "filter_cap.json"
IMAGE_DIR = "image"
ImageMode = Literal["copy", "link"]


@dataclass
class ExportPlan:
    """What will be written: annotations in input order and, per image id, its source file."""

    annotations: list[dict[str, str]] = field(default_factory=list)
    images: dict[str, Path] = field(default_factory=dict)
    needs_convert: set[str] = field(default_factory=set)  # image ids whose source is not a JPEG
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, id, message)


def caption_of(rec: dict[str, Any]) -> str:
    """The description a single-turn record answers with; multi-turn samples are not captions."""
    turns = rec.get("conversations") or []
    if len(turns) != 2:
        raise InputError(
            f"sample '{rec.get('id')}' has {len(turns) // 2} question/answer pairs; MiniGPT-4 wants one "
            "description per image",
            hint="export caption_rewrite or detail_description samples (--task detail_description)",
        )
    return str(turns[1]["value"]).strip()


def image_id_of(rec: dict[str, Any]) -> str:
    """MiniGPT-4's image id: the stem of the record's image file name (or its id when it has none)."""
    name = rec.get("image") or f"{rec.get('id')}.jpg"
    stem = Path(str(name)).stem
    if stem in ("", ".", "..") or any(c in stem for c in "/\\\0"):
        raise InputError(f"sample '{rec.get('id')}': image name {name!r} gives no usable image id")
    return stem


def _is_jpeg(path: Path) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.format == "JPEG"
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"not a readable image ({e.__class__.__name__})") from None


def plan_export(
    records: list[dict[str, Any]], images_root: str | Path | None, mode: ImageMode = "copy"
) -> ExportPlan:
    """Check every record and image; collect problems instead of stopping at the first."""
    plan = ExportPlan()
    for rec in records:
        image_id = image_id_of(rec)
        caption = caption_of(rec)
        if images_root is not None:
            name = str(rec.get("image") or f"{image_id}.jpg")
            try:
                src = resolve_under(images_root, name)
            except PathEscapeError as e:
                plan.problems.append(("refused", image_id, str(e)))
                continue
            if not src.is_file():
                plan.problems.append(("missing", image_id, f"image '{name}' not found under {images_root}"))
                continue
            previous = plan.images.get(image_id)
            if previous is not None and previous != src:
                plan.problems.append(
                    ("conflict", image_id, f"images {previous} and {src} would both be image/{image_id}.jpg")
                )
                continue
            if previous is None:
                try:
                    jpeg = _is_jpeg(src)
                except ValueError as e:
                    plan.problems.append(("unreadable", image_id, f"image '{name}': {e}"))
                    continue
                if not jpeg:
                    if mode == "link":
                        plan.problems.append(
                            ("not_jpeg", image_id, f"image '{name}' is not a JPEG; --copy converts it")
                        )
                        continue
                    plan.needs_convert.add(image_id)
                plan.images[image_id] = src
        plan.annotations.append({"image_id": image_id, "caption": caption})
    return plan


def problem_summary(problems: list[tuple[str, str, str]], limit: int = 3) -> str:
    counts = Counter(kind for kind, _, _ in problems)
    head = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
    examples = "; ".join(msg for _, _, msg in problems[:limit])
    return f"{head} ({examples}{'; ...' if len(problems) > limit else ''})"


def _write_image(src: Path, dst: Path, mode: ImageMode, convert: bool) -> None:
    if mode == "link":
        os.symlink(src, dst)  # src is the resolved real path, checked to be inside the root
    elif convert:
        from PIL import Image

        with Image.open(src) as im:
            im.convert("RGB").save(dst, format="JPEG", quality=95)
    else:
        shutil.copyfile(src, dst)


def write_export(
    plan: ExportPlan, out_dir: str | Path, mode: ImageMode = "copy", overwrite: bool = False
) -> None:
    """Write `filter_cap.json` and `image/` into `out_dir` all at once (temp folder + rename)."""
    out = Path(out_dir)
    claim_output(out, overwrite=overwrite, folder=True)
    try:
        with atomic_folder(out) as tmp:
            if plan.images:
                (tmp / IMAGE_DIR).mkdir()
                for image_id, src in plan.images.items():
                    _write_image(
                        src, tmp / IMAGE_DIR / f"{image_id}.jpg", mode, image_id in plan.needs_convert
                    )
            write_json_atomic(tmp / CAPTIONS_FILE, {"annotations": plan.annotations})
    except OSError as e:
        raise DatagenError(f"{out}: writing the export failed, nothing written ({e})") from e


def export_minigpt4(
    records: list[dict[str, Any]],
    out_dir: str | Path,
    *,
    images_root: str | Path | None = None,
    mode: ImageMode = "copy",
    skip_bad_images: bool = False,
    overwrite: bool = False,
) -> ExportPlan:
    """Plan, check and write the export; problems fail it unless `skip_bad_images` drops those rows."""
    if images_root is not None and not Path(images_root).is_dir():
        raise InputError(f"{images_root}: image root is not a folder", hint="check --images")
    if not records:
        raise InputError("no samples to export")
    plan = plan_export(records, images_root, mode)
    if plan.problems and not skip_bad_images:
        raise InputError(
            f"{len(plan.problems)} image problem(s), nothing written: {problem_summary(plan.problems)}",
            hint="fix the paths or pass --skip-missing-images to drop those samples",
        )
    if not plan.annotations:
        raise InputError(
            f"every sample was dropped, nothing to export: {problem_summary(plan.problems)}",
            hint="fix the image paths (or --images)",
        )
    write_export(plan, out_dir, mode, overwrite)
    return plan
