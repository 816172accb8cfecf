"""Where a trainer's file finds each image: the `--image-mode` of the trainer formats.

The images were already resolved under `--images ROOT` and checked (`export.images.check_images`:
names escaping ROOT refused, missing files reported), so this module only decides what the data file
says and lays files out:

- `path`  the data file names the images: absolute resolved paths with `--images`, otherwise the
          names from the records, which the trainer resolves against its own image folder option;
- `copy`  the images are copied into `OUT/images/<name>` (the export is self-contained);
- `link`  the same layout with symlinks to the checked originals (no extra disk);
- `embed` the bytes go into the data file (base64 data URLs, or parquet binary columns);
- `url`   `--image-url-prefix` + name (hosted fine-tuning services fetch them).

Formats say which modes they accept (`Format.image_modes`, the first is the default).
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from typing import Any

from datagen.errors import InputError, UsageError

IMAGE_DIR = "images"
IMAGE_MODES = ("path", "copy", "link", "embed", "url")
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def image_format(path: Path) -> tuple[str, str]:
    """`(format, mode)` of an image file from its header, e.g. ("JPEG", "RGB")."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return str(im.format), str(im.mode)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise InputError(f"{path}: not a readable image ({e.__class__.__name__})") from None


def data_url(path: Path) -> str:
    """The image as a `data:<mime>;base64,...` URL (the mime type read from the file, not its name)."""
    fmt, _ = image_format(path)
    mime = _MIME.get(fmt)
    if mime is None:
        raise InputError(f"{path}: {fmt} images cannot be embedded", hint="convert it to JPEG or PNG")
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


class Media:
    """The image reference of every record in one export, and the files `copy`/`link` lay out."""

    def __init__(
        self,
        records: list[dict[str, Any]],
        paths: list[Path | None] | None,
        out: Path,
        mode: str,
        *,
        images_root: str | Path | None = None,
        url_prefix: str | None = None,
    ) -> None:
        if mode not in IMAGE_MODES:
            raise UsageError(f"--image-mode {mode!r}: use one of {', '.join(IMAGE_MODES)}")
        if mode in ("copy", "link", "embed") and paths is None:
            raise UsageError(f"--image-mode {mode} needs --images ROOT (it reads the image files)")
        if mode == "url" and not url_prefix:
            raise UsageError("--image-mode url needs --image-url-prefix (e.g. https://host/images/)")
        self.names: list[str | None] = [r.get("image") for r in records]
        self.paths = paths
        self.out = Path(os.path.abspath(out))
        self.mode = mode
        self.images_root = Path(os.path.realpath(images_root)) if images_root is not None else None
        self.url_prefix = url_prefix or ""

    def has_image(self, i: int) -> bool:
        return self.names[i] is not None

    def source(self, i: int) -> Path | None:
        """The checked image file of record `i` (None without `--images` or for text-only records)."""
        return self.paths[i] if self.paths is not None else None

    @property
    def root(self) -> str:
        """The folder relative names are resolved against (InternVL `root`, Qwen `data_path`,
        torchtune `image_dir`, LLaVA `--image_folder`); "" when the trainer must be told."""
        if self.mode in ("copy", "link"):
            return str(self.out / IMAGE_DIR)
        return str(self.images_root) if self.images_root is not None else ""

    def relative(self, i: int) -> str | None:
        """Record `i`'s image name relative to `root` (the record's own name)."""
        return self.names[i]

    def absolute(self, i: int) -> str | None:
        """A path the trainer opens as is: inside `OUT/images` (copy/link), the resolved original
        (path mode with --images) or, lacking both, the record's name."""
        name = self.names[i]
        if name is None:
            return None
        if self.mode in ("copy", "link"):
            return str(self.out / IMAGE_DIR / name)
        src = self.source(i)
        return str(src) if src is not None else name

    def url(self, i: int) -> str | None:
        """An `image_url` value: a data URL (embed), prefix + name (url) or the absolute path."""
        name = self.names[i]
        if name is None:
            return None
        if self.mode == "embed":
            src = self.source(i)
            assert src is not None
            return data_url(src)
        if self.mode == "url":
            return self.url_prefix + name
        return self.absolute(i)

    def place(self, folder: Path) -> int:
        """Copy or link every image into `folder/images/<name>` (the export's temp folder);
        returns the number of files laid out. Other modes lay out nothing."""
        if self.mode not in ("copy", "link") or self.paths is None:
            return 0
        done: set[str] = set()
        for name, src in zip(self.names, self.paths, strict=True):
            if name is None or src is None or name in done:
                continue
            done.add(name)
            dst = folder / IMAGE_DIR / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if self.mode == "link":
                os.symlink(src, dst)  # src is the resolved real path, checked to be inside --images
            else:
                shutil.copyfile(src, dst)
        return len(done)


def media_for(
    records: list[dict[str, Any]], paths: list[Path | None] | None, out: Path, options: dict[str, Any]
) -> Media:
    """The `Media` of one export from the flow's options (`image_mode` already defaulted)."""
    return Media(
        records,
        paths,
        out,
        str(options["image_mode"]),
        images_root=options.get("images"),
        url_prefix=options.get("image_url_prefix"),
    )
