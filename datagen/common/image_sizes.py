"""Image width/height from the file header (Pillow reads only the header, not the pixels).

Used when a source gives no size for an image (a captioner's output, a detector's boxes for your own
photos, a COCO-style file without width/height): pixel boxes cannot be normalised without it.
Names are resolved with `safepaths.resolve_under`, so a data file cannot make us open files
outside the `--images` folder.
"""

from __future__ import annotations

from pathlib import Path

from datagen.common.safepaths import resolve_under


def read_size(images_root: str | Path, name: str) -> tuple[int, int] | None:
    """`(width, height)` of `images_root/name`, or None when the file is missing or not an image."""
    path = resolve_under(images_root, name)
    return header_size(path) if path.is_file() else None


def header_size(path: Path) -> tuple[int, int] | None:
    """`(width, height)` of an image file from its header, or None if it is not a readable image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    return (w, h) if w > 0 and h > 0 else None
