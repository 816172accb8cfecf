"""One image file → the bytes a vision-language model is sent, prepared as a careful user would.

Two steps, both per image and per request (nothing is held for a whole run):

- `probe(path, max_side)` reads the file once to hash it and its header (no pixel decoding): the
  digest, the stored size, the EXIF orientation and the size that will be sent. The request key is
  built from it, so a resumed run knows which requests are unchanged without encoding anything.
- `encode(path, spec)` decodes the first frame, applies the EXIF orientation, converts CMYK,
  palette, 16-bit and alpha images to RGB (transparency composited on white), shrinks the image
  to `max_side` keeping its aspect (never enlarging it), and saves it as JPEG, PNG or WebP.
  It is pure CPU work: the engine runs it in worker threads (Pillow releases the GIL while it
  decodes, resizes and encodes), never on the event loop.

Anything wrong with the file is an `ImageProblem` naming it: missing, empty, not an image,
truncated or corrupt, or a decompression bomb (more pixels than Pillow's `MAX_IMAGE_PIXELS`).
The sample then fails at stage `input`; it is never sent without its image.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from datagen.common.safepaths import PathEscapeError, resolve_under

FORMATS = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
# EXIF orientations 5..8 turn the picture a quarter: the stored width is the shown height.
_QUARTER_TURNS = (5, 6, 7, 8)
_ORIENTATION_TAG = 0x0112


class ImageProblem(Exception):
    """This sample's image cannot be sent; `str(e)` is the reason written to failures.jsonl."""


@dataclass(frozen=True)
class Probe:
    """What the request key needs to know about one image file, read without decoding pixels."""

    digest: str  # blake2b of the file's bytes (16 hex chars)
    width: int  # as stored
    height: int
    orientation: int  # EXIF orientation tag, 1 = none
    out_size: tuple[int, int]  # (width, height) that will be sent, after orientation and resize
    as_is: bool = False  # the file's own bytes are sent (see `encode`)


@dataclass(frozen=True)
class EncodeSpec:
    format: str = "jpeg"  # jpeg | png | webp
    quality: int = 85  # jpeg / webp
    max_side: int | None = None  # None: keep the size


@dataclass(frozen=True)
class Encoded:
    data: bytes
    mime: str
    size: tuple[int, int]

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def locate(name: str, root: str | Path | None) -> Path:
    """The file of a record's `image`: under `root` (never escaping it), or the path itself."""
    if not name:
        raise ImageProblem("the record names no image")
    if root is None:
        return Path(name)
    try:
        return resolve_under(root, name)
    except PathEscapeError as e:
        raise ImageProblem(str(e)) from None


def fitted(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """`size` shrunk so its longer side is at most `max_side` (aspect kept, never enlarged)."""
    w, h = size
    if not max_side or max(w, h) <= max_side:
        return w, h
    scale = max_side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageProblem(f"image {path} not found") from None
    except IsADirectoryError:
        raise ImageProblem(f"image {path} is a folder, not a file") from None
    except OSError as e:
        raise ImageProblem(f"image {path} cannot be read ({e.strerror})") from None
    if not data:
        raise ImageProblem(f"image {path} is empty (0 bytes)")
    return data


def _open(data: bytes, path: Path):  # type: ignore[no-untyped-def]
    """Pillow's lazy image (header only), refusing non-images and decompression bombs."""
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise ImageProblem(f"image {path} refused as a decompression bomb ({e})") from None
    except UnidentifiedImageError:
        raise ImageProblem(f"image {path} is not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageProblem(f"image {path} is corrupt ({e})") from None
    w, h = im.size
    limit = Image.MAX_IMAGE_PIXELS
    if limit and w * h > limit:  # Pillow only warns below twice its limit; we refuse
        raise ImageProblem(
            f"image {path} refused as a decompression bomb ({w}x{h} = {w * h:,} pixels, "
            f"over Pillow's limit of {limit:,})"
        )
    if w <= 0 or h <= 0:
        raise ImageProblem(f"image {path} has no pixels ({w}x{h})")
    return im


def _orientation(im) -> int:  # type: ignore[no-untyped-def]
    try:
        value = im.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block: treat as upright, like most viewers do
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def _as_is(im, spec: EncodeSpec, orientation: int) -> bool:  # type: ignore[no-untyped-def]
    """A baseline RGB JPEG, upright, one frame, already within `max_side`, asked for as JPEG:
    re-encoding it would only lose quality, so its own bytes are sent."""
    return (
        spec.format == "jpeg"
        and im.format == "JPEG"
        and im.mode == "RGB"
        and orientation == 1
        and getattr(im, "n_frames", 1) == 1
        and fitted(im.size, spec.max_side) == im.size
    )


def probe(path: Path, spec: EncodeSpec) -> Probe:
    """Hash the file and read its header; `ImageProblem` if it cannot be sent."""
    data = _read(path)
    im = _open(data, path)
    w, h = im.size
    orientation = _orientation(im)
    shown = (h, w) if orientation in _QUARTER_TURNS else (w, h)
    digest = hashlib.blake2b(data, digest_size=8).hexdigest()
    return Probe(digest, w, h, orientation, fitted(shown, spec.max_side), _as_is(im, spec, orientation))


def encode(path: Path, spec: EncodeSpec) -> Encoded:
    """Decode, orient, convert, resize and encode one image (CPU work: call it off the event loop).
    A JPEG that needs none of it is checked (decoded at 1/8 scale, which still reads every byte
    of it, so a truncated file fails) and sent as it is."""
    data = _read(path)
    im = _open(data, path)
    try:
        if _as_is(im, spec, _orientation(im)):
            size = im.size
            im.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
            im.load()
            return Encoded(data, FORMATS["jpeg"], size)
        return _encode(im, spec)
    except ImageProblem:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as e:  # truncated or corrupt pixel data
        raise ImageProblem(f"image {path} cannot be decoded ({e})") from None
    finally:
        im.close()


def _encode(im, spec: EncodeSpec) -> Encoded:  # type: ignore[no-untyped-def]
    from PIL import Image

    orientation = _orientation(im)
    shown = (im.height, im.width) if orientation in _QUARTER_TURNS else im.size
    target = fitted(shown, spec.max_side)
    if getattr(im, "n_frames", 1) > 1:
        im.seek(0)  # animated GIF / WebP, multi-page TIFF: the first frame
    if im.format == "JPEG" and target != shown:
        # Let the JPEG decoder skip detail we would throw away (as Image.thumbnail does): it
        # decodes at 1/2, 1/4 or 1/8 scale, never below twice the target.
        stored_target = (target[1], target[0]) if orientation in _QUARTER_TURNS else target
        im.draft("RGB", (stored_target[0] * 2, stored_target[1] * 2))
    im.load()
    im = _rgb(im)
    if orientation != 1:
        im = im.transpose(_transposes()[orientation])
    if im.size != target:
        im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=None)
    buf = io.BytesIO()
    fmt = _PIL_FORMAT[spec.format]
    if fmt == "PNG":
        im.save(buf, fmt, optimize=False, compress_level=6)
    elif fmt == "WEBP":
        im.save(buf, fmt, quality=spec.quality, method=4)
    else:
        im.save(buf, fmt, quality=spec.quality, optimize=False)
    return Encoded(buf.getvalue(), FORMATS[spec.format], im.size)


def _rgb(im):  # type: ignore[no-untyped-def]
    """RGB pixels: alpha (also a palette's transparency) composited on white, CMYK/16-bit converted."""
    from PIL import Image

    if im.mode == "RGB":
        return im
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        im = im.point(lambda v: v / 256).convert("L") if im.mode != "F" else im.convert("L")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")  # CMYK (Pillow inverts Adobe's CMYK JPEGs itself), L, 1, YCbCr, ...


@lru_cache(maxsize=1)
def _transposes() -> dict[int, Any]:
    from PIL import Image

    t = Image.Transpose
    return {
        2: t.FLIP_LEFT_RIGHT,
        3: t.ROTATE_180,
        4: t.FLIP_TOP_BOTTOM,
        5: t.TRANSPOSE,
        6: t.ROTATE_270,
        7: t.TRANSVERSE,
        8: t.ROTATE_90,
    }


def cpu_workers() -> int:
    """Threads for image encoding: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
