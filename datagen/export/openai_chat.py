"""`datagen export openai`: chat fine-tuning JSONL with image parts, as hosted services take it.

Each line is `{"messages": [...]}`: user turns carry their text and, in the first, an
`{"type": "image_url", "image_url": {"url": ...}}` part (a base64 data URL with `--image-mode embed`,
the default, or `--image-url-prefix` + the image name with `--image-mode url`); assistant turns are
plain text. OpenAI's vision fine-tuning documents these limits, enforced here before anything is
written: images JPEG, PNG or WEBP in RGB or RGBA mode, at most 10 MB each; at most 50,000 examples
with images per file; and an upload is at most 512 MB, so the output is split into
`train-00001-of-0000N.jsonl` parts of at most `--max-file-mb` (default 512) each.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from datagen.errors import InputError, UsageError
from datagen.export.convert_vlm import to_openai
from datagen.export.layout import rows, trainer_folder
from datagen.export.media import Media, image_format, media_for

MAX_FILE_MB = 512.0
MAX_IMAGE_EXAMPLES = 50_000
MAX_IMAGE_BYTES = 10 * 1024 * 1024
FORMATS = ("JPEG", "PNG", "WEBP")
MODES = ("RGB", "RGBA")
MIN_EXAMPLES = 10  # fine-tuning jobs refuse smaller training files


def image_problems(media: Media, n: int) -> list[str]:
    """Every image that breaks the service's rules (checked when the files are at hand)."""
    problems = []
    for i in range(n):
        src = media.source(i)
        if src is None:
            continue
        size = os.path.getsize(src)
        fmt, mode = image_format(src)
        if fmt not in FORMATS:
            problems.append(f"{media.names[i]!r} is {fmt} (use JPEG, PNG or WEBP)")
        elif mode not in MODES:
            problems.append(f"{media.names[i]!r} is in {mode} mode (use RGB or RGBA)")
        elif size > MAX_IMAGE_BYTES:
            problems.append(f"{media.names[i]!r} is {size / 2**20:.1f} MB (at most 10 MB)")
    return problems


class Parts:
    """JSONL lines into numbered part files, a new part before one would pass a limit."""

    def __init__(self, folder: Path, max_mb: float) -> None:
        self.folder, self.max_mb, self.max_bytes = folder, max_mb, int(max_mb * 1024 * 1024)
        self.files: list[Path] = []
        self.handle: IO[bytes] | None = None
        self.bytes = self.images = 0

    def add(self, line: bytes, has_image: bool) -> None:
        if len(line) > self.max_bytes:
            raise UsageError(
                f"one example is {len(line) / 2**20:.2f} MB, more than --max-file-mb {self.max_mb:g}"
            )
        full = self.bytes + len(line) > self.max_bytes or (has_image and self.images >= MAX_IMAGE_EXAMPLES)
        if self.handle is None or full:
            self._next()
        assert self.handle is not None
        self.handle.write(line)
        self.bytes += len(line)
        self.images += has_image

    def _next(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.files.append(self.folder / f".part-{len(self.files) + 1:05d}")
        self.handle = open(self.files[-1], "wb")  # noqa: SIM115 - closed in _next/finish
        self.bytes = self.images = 0

    def finish(self) -> list[Path]:
        """Close the last part and give every part its final name (`train-0000K-of-0000N.jsonl`)."""
        if self.handle is not None:
            self.handle.close()
        total = len(self.files)
        final = [self.folder / f"train-{k:05d}-of-{total:05d}.jsonl" for k in range(1, total + 1)]
        for tmp, name in zip(self.files, final, strict=True):
            os.replace(tmp, name)
        return final


def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    media = media_for(records, paths, out, options)
    max_mb = float(options.get("max_file_mb") or MAX_FILE_MB)
    if max_mb <= 0:
        raise UsageError(f"--max-file-mb must be positive, got {max_mb:g}")
    problems = image_problems(media, len(records))
    if problems:
        more = ", ..." if len(problems) > 3 else ""
        raise InputError(
            f"{len(problems)} of {len(records)} images break the fine-tuning rules: "
            f"{'; '.join(problems[:3])}{more}; nothing was written",
            hint="convert those images, or leave their samples out with --exclude-ids",
        )
    encode = json.JSONEncoder(ensure_ascii=False).encode
    with trainer_folder(out, media) as tmp:
        parts = Parts(tmp, max_mb)
        for r in rows(records, media, "openai"):
            line = (encode(to_openai(r.converted.turns, media.url(r.index))) + "\n").encode("utf-8")
            parts.add(line, media.has_image(r.index))
        files = parts.finish()
    notes = options.setdefault("notes", [])
    if len(files) > 1:
        notes.append(
            f"split into {len(files)} files of at most {max_mb:g} MB / {MAX_IMAGE_EXAMPLES} image examples"
        )
    if len(records) < MIN_EXAMPLES:
        notes.append(f"only {len(records)} examples: fine-tuning jobs need at least {MIN_EXAMPLES}")
    return len(records)
