"""MiniGPT-4's stage-2 folder from single-turn description records: `filter_cap.json` + `image/`.

MiniGPT-4's loader reads `{"annotations": [{"image_id": "<stem>", "caption": "..."}]}` and opens
`image/<image_id>.jpg`, so each image appears once, under its file stem, as a JPEG. Image files
come only from paths resolved under the user's image root (see `export_images`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from datagen.errors import InputError
from datagen.jsonio import write_json_atomic


def minigpt4_annotations(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One {image_id, caption} per record; refuses multi-round, image-less and duplicate-image records."""
    annotations = []
    seen: dict[str, str] = {}
    multi = [str(r["id"]) for r in records if len(r["conversations"]) != 2]
    if multi:
        raise InputError(
            f"{len(multi)} records have more than one question/answer round (e.g. {multi[0]}); "
            "MiniGPT-4's set holds single image descriptions",
            hint="pick the description task with --task detail_description (or caption_rewrite)",
        )
    for rec in records:
        if not rec.get("image"):
            raise InputError(f"record {rec['id']} has no image; MiniGPT-4 pairs every caption with one")
        stem = Path(rec["image"]).stem
        where = str(rec.get("sample_id") or rec["id"])
        if stem in seen:
            raise InputError(
                f"image '{stem}' has two descriptions ({seen[stem]} and {where})",
                hint="export one task at a time with --task, or drop duplicates with --exclude-ids",
            )
        seen[stem] = where
        annotations.append({"image_id": stem, "caption": rec["conversations"][1]["value"].strip()})
    return annotations


def write_minigpt4(
    records: list[dict[str, Any]], paths: list[Path | None], out: str | Path, *, link: bool = False
) -> int:
    """Write `out/filter_cap.json` and `out/image/<stem>.jpg` (copied, symlinked, or re-encoded to JPEG)."""
    annotations = minigpt4_annotations(records)
    folder = Path(out) / "image"
    folder.mkdir(parents=True, exist_ok=True)
    for ann, src in zip(annotations, paths, strict=True):
        if src is None:
            raise InputError(f"image '{ann['image_id']}' was not resolved; pass --images ROOT")
        dest = folder / f"{ann['image_id']}.jpg"
        if dest.exists() or dest.is_symlink():
            dest.unlink()
        if src.suffix.lower() not in (".jpg", ".jpeg"):
            # MiniGPT-4 opens `<id>.jpg`; a PNG renamed to .jpg would decode, but say what it is.
            from PIL import Image

            with Image.open(src) as im:
                im.convert("RGB").save(dest, "JPEG", quality=95)
        elif link:
            os.symlink(src, dest)
        else:
            shutil.copyfile(src, dest)
    write_json_atomic(Path(out) / "filter_cap.json", {"annotations": annotations})
    return len(annotations)
