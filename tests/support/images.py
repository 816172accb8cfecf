"""Image files for the vision tests, made with Pillow (plus the real COCO-mini photos when present).

Each maker writes one file and returns its path. The awkward ones are what real folders contain:
an EXIF-rotated phone photo, a PNG with transparency, a CMYK JPEG from a print workflow, an
animated GIF, a truncated download, a header claiming 20000x20000 pixels, a text file named .jpg.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image

RED, BLUE, GREEN, WHITE = (255, 0, 0), (0, 0, 255), (0, 160, 0), (255, 255, 255)


def photo(path: Path, size: tuple[int, int], real: Path | None = None) -> Path:
    """A photo of `size`: a real COCO image resized when `real` is given, else a colour gradient."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if real is not None and real.is_file():
        with Image.open(real) as im:
            im.convert("RGB").resize(size).save(path, "JPEG", quality=90)
        return path
    w, h = size
    im = Image.linear_gradient("L").resize(size).convert("RGB")
    im.paste(RED, (0, 0, max(1, w // 4), max(1, h // 4)))
    im.save(path, "JPEG", quality=90)
    return path


def oriented_jpeg(path: Path) -> Path:
    """Shown upright it is 40 wide, 60 tall, red on top and blue below; stored turned a quarter
    (60x40) with EXIF orientation 6, as phones save portrait photos."""
    shown = Image.new("RGB", (40, 60), BLUE)
    shown.paste(RED, (0, 0, 40, 30))
    stored = shown.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, "JPEG", quality=95, exif=exif.tobytes())
    return path


def alpha_png(path: Path) -> Path:
    """48x32: the left half fully transparent, the right half opaque green."""
    im = Image.new("RGBA", (48, 32), (0, 0, 0, 0))
    im.paste((*GREEN, 255), (24, 0, 48, 32))
    im.save(path, "PNG")
    return path


def cmyk_jpeg(path: Path) -> Path:
    """A CMYK JPEG (pure red in ink terms: no cyan, full magenta and yellow)."""
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(path, "JPEG", quality=95)
    return path


def palette_png(path: Path) -> Path:
    """A palette PNG whose palette index 0 is transparent (left half), index 1 blue (right half)."""
    im = Image.new("P", (32, 32), 0)
    im.putpalette([0, 0, 0, *BLUE] + [0, 0, 0] * 254)
    im.paste(1, (16, 0, 32, 32))
    im.save(path, "PNG", transparency=0)
    return path


def animated_gif(path: Path) -> Path:
    """Two frames: red, then blue (the first frame is what is sent)."""
    frames = [Image.new("RGB", (30, 20), RED), Image.new("RGB", (30, 20), BLUE)]
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def truncated_jpeg(path: Path, source: Path) -> Path:
    """The first third of a real JPEG (a download cut short)."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def bomb_png(path: Path, side: int = 20000) -> Path:
    """A tiny file whose PNG header claims side x side pixels (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    idat = zlib.compress(b"\x00" * 64)
    body += struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
    body += struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND"))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def not_an_image(path: Path) -> Path:
    path.write_text("this is a caption file, not a picture\n")
    return path
