"""What every trainer-format writer shares: the output folder built whole, and records walked with
their image reference, image size and boxes already in the trainer's convention.

A writer (`export/onevision.py`, `swift.py`, `internvl.py`, `qwen.py`, `openai_chat.py`,
`axolotl.py`, `torchtune.py`, `rlvr.py`) gets records the shared flow has loaded, excluded, filtered
and whose images it has checked; it opens `trainer_folder(out, media)`, writes its files into the
temp folder (paths inside the data files point at the final `out`), and the folder replaces `out`
only when complete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.common.atomic import atomic_folder
from datagen.export.boxes import (
    BoxText,
    Convention,
    Rewritten,
    Size,
    facts_of,
    has_boxes,
    image_size,
    require_size,
    rewrite,
)
from datagen.export.media import Media


@contextmanager
def trainer_folder(out: Path, media: Media) -> Iterator[Path]:
    """The temp folder a writer fills; images are copied or linked into it first (copy/link)."""
    with atomic_folder(out) as tmp:
        media.place(tmp)
        yield tmp


@dataclass
class Row:
    index: int
    record: dict[str, Any]
    converted: Rewritten
    size: Size | None


def rows(
    records: list[dict[str, Any]],
    media: Media,
    fmt: str,
    *,
    text: BoxText | None = None,
    convention: Convention | None = None,
    options: dict[str, Any] | None = None,
    want_size: bool = False,
) -> Iterator[Row]:
    """Each record with its turns rewritten to the trainer's box convention (unchanged without one)
    and its image size (from the record or the image header, when known: always for boxes in
    pixels, otherwise only with `want_size`)."""
    for i, rec in enumerate(records):
        facts = facts_of(rec, fmt) if text is not None else None
        src = media.source(i)
        if text is not None and convention is not None and has_boxes(facts):
            size = require_size(rec, src, fmt) if convention.needs_size else image_size(rec, src)
            converted = rewrite(rec, facts, text, convention, size, options or {})
        else:
            size = image_size(rec, src) if want_size else None
            turns = [{"from": t["from"], "value": t["value"]} for t in rec["conversations"]]
            converted = Rewritten(turns, [])
        yield Row(i, rec, converted, size)


def yaml_value(value: str) -> str:
    """A string as a YAML scalar: JSON's double-quoted form is valid YAML and escapes everything."""
    return json.dumps(value, ensure_ascii=False)
