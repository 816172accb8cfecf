"""`datagen export ms-swift`: ms-swift's custom-dataset JSONL (the last step for that trainer).

One line per sample: `messages` (`{role, content}`, the `<image>` tag kept in the text) and `images`
(paths ms-swift opens as given, so absolute ones). Grounded QA boxes become ms-swift's grounding
fields: each box in the text is replaced by a `<bbox>` placeholder and listed, in order, in
`objects` = {"ref": [category, ...], "bbox": [[x1, y1, x2, y2], ...]} in pixels of the original image
(ms-swift's default `bbox_type` "real"); its template then writes each box the way the model being
trained expects (e.g. 0..1000 or Qwen2.5-VL pixels), so one export serves every model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_jsonl_atomic
from datagen.export.boxes import CONVENTIONS, SWIFT_TEXT
from datagen.export.convert_vlm import to_swift
from datagen.export.layout import rows, trainer_folder
from datagen.export.media import media_for

DATA_FILE = "data.jsonl"


def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    media = media_for(records, paths, out, options)
    converted = [
        to_swift(r.converted.turns, media.absolute(r.index), r.converted.objects)
        for r in rows(records, media, "ms-swift", text=SWIFT_TEXT, convention=CONVENTIONS["pixel"])
    ]
    with trainer_folder(out, media) as tmp:
        return write_jsonl_atomic(tmp / DATA_FILE, converted)
