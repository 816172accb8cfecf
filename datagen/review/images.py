"""Review step 2: turn each card's image name into something the page can show.

Names come from data files, so each is resolved under the user's image root and refused if it
escapes it (`datagen.common.safepaths`). The page then either links the file by a path relative to where
the HTML is written (small page, images stay on disk) or embeds a JPEG thumbnail as a data URI
(`--embed`: one file to mail around). Each distinct image is read or encoded once.
"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from datagen.common.image_sizes import header_size
from datagen.common.safepaths import resolve_under
from datagen.errors import InputError

THUMB_MAX_SIDE = 512
THUMB_QUALITY = 80


@dataclass
class ImageRef:
    """How the page shows one image: `src` (relative URL or data URI) or `missing` (why not)."""

    src: str | None = None
    width: int | None = None  # natural size when known (for the page layout before the image loads)
    height: int | None = None
    missing: str | None = None


def relative_url(target: Path, page_dir: Path) -> str:
    """URL of `target` relative to the folder the page is written to (percent-encoded)."""
    try:
        rel = os.path.relpath(target, page_dir)
    except ValueError:  # different drive on Windows: no relative path exists
        return target.as_uri()
    return quote(Path(rel).as_posix())


def thumbnail_data_uri(path: Path) -> tuple[str, int, int]:
    """A JPEG thumbnail (longest side ≤ THUMB_MAX_SIDE) as a data URI, plus its size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.draft("RGB", (THUMB_MAX_SIDE, THUMB_MAX_SIDE))  # JPEG: decode at reduced scale, much faster
            im = im.convert("RGB")
            im.thumbnail((THUMB_MAX_SIDE, THUMB_MAX_SIDE))
            buf = io.BytesIO()
            im.save(buf, "JPEG", quality=THUMB_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError) as e:
        raise InputError(f"{path}: cannot read image ({e})") from None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), im.width, im.height


class ImageResolver:
    """Resolves image names under `root` for a page written into `page_dir`, caching per name."""

    def __init__(self, root: str | Path, page_dir: Path, *, embed: bool) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"--images {root}: no such folder", hint="pass the folder holding the images")
        # Real paths on both sides, so a symlinked temp or home folder does not skew the relative URL.
        self.page_dir = Path(os.path.realpath(page_dir))
        self.embed = embed
        self._cache: dict[str, ImageRef] = {}

    def ref(self, name: str, where: str) -> ImageRef:
        """Look up `name`; `where` names the record for the error when the path escapes the root."""
        if name not in self._cache:
            try:
                path = resolve_under(self.root, name)
            except InputError as e:
                raise InputError(f"{where}: {e}", hint="image paths must stay inside --images") from None
            self._cache[name] = self._make(path, name)
        return self._cache[name]

    def _make(self, path: Path, name: str) -> ImageRef:
        if not path.is_file():
            return ImageRef(missing=f"image not found: {name} (under {self.root})")
        if self.embed:
            try:
                uri, w, h = thumbnail_data_uri(path)
            except InputError as e:
                return ImageRef(missing=str(e))
            return ImageRef(src=uri, width=w, height=h)
        size = header_size(path)
        if size is None:
            return ImageRef(missing=f"not a readable image: {name}")
        return ImageRef(src=relative_url(path, self.page_dir), width=size[0], height=size[1])

    @property
    def missing(self) -> list[str]:
        return sorted(n for n, r in self._cache.items() if r.missing)
