"""`--captions-file FILE`: captions from any captioner, as JSONL or CSV rows `{image, caption}`.

`image` is a file name (`000000229358.jpg`, `photos/dog.png`) or an image id (`229358`); several rows
per image are allowed and keep their file order. An optional `source` column names the captioner;
otherwise the file's name is recorded as the captions' source.

With another source of images (COCO files, `--input`), rows attach to those images, after any
captions they already have; rows naming an unknown image are skipped and counted, and a file where
no row matches is an error. Without one, each distinct `image` becomes a new image (its size read
from the file header under `--images`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_csv_rows, iter_jsonl
from datagen.errors import InputError
from datagen.records import coco_id
from datagen.sources.coco import normalise_caption
from datagen.sources.contextset import ContextSet, norm_key


def read_caption_rows(path: str | Path) -> Iterator[tuple[str, Any, Any, Any]]:
    """`(where, image, caption, source)` per row of a JSONL or CSV captions file."""
    p = Path(path)
    rows = iter_csv_rows(p, required=("image", "caption")) if p.suffix.lower() == ".csv" else iter_jsonl(p)
    for line, row in rows:
        where = f"{p}:{line}"
        if "image" not in row or "caption" not in row:
            raise InputError(f"{where}: a row needs 'image' (file name or id) and 'caption'")
        yield where, row["image"], row["caption"], row.get("source")


def _new_image(value: Any) -> tuple[Any, dict[str, Any]]:
    """Key and info for an image first seen in a captions file."""
    text = str(value).strip()
    is_name = not isinstance(value, int) and Path(text).suffix != ""
    key = norm_key(Path(text).stem if is_name else text)
    rid = coco_id(key) if isinstance(key, int) else str(key)
    image = text if is_name else f"{rid}.jpg"
    return key, {"id": rid, "image": image, "width": None, "height": None}


def add_captions_file(cset: ContextSet, path: str | Path, images_root: Any = None) -> None:
    """Add a captioner's captions to `cset` (creating images when `cset` has none yet)."""
    p = Path(path)
    create = not cset.images
    report, default_source = cset.report, p.name
    matched = total = 0
    for where, image, caption, source in read_caption_rows(p):
        if not isinstance(image, (str, int)) or isinstance(image, bool) or str(image).strip() == "":
            raise InputError(f"{where}: 'image' must be a file name or an id")
        total += 1
        key = cset.find(image)
        if key is None and create:
            key, info = _new_image(image)
            cset.add_image(key, info, where)
        if key is None:
            report.add("caption_unknown_image", image)
            continue
        matched += 1
        text = normalise_caption(caption)
        if not text:
            report.add("caption_empty", f"{where}")
            continue
        cset.add_captions(
            key, [text], source if isinstance(source, str) and source.strip() else default_source
        )
    if total and not matched:
        raise InputError(
            f"{p}: none of its {total} rows names a known image",
            hint="'image' must match a file_name or id of the images from the other source",
        )
    if create:
        cset.fill_sizes(images_root)
