"""`datagen export internvl`: InternVL's chat fine-tuning data (the last step for that trainer).

InternVL reads a meta JSON naming each dataset: `root` (the image folder), `annotation` (a JSONL file
of `{id, image, width, height, conversations}`, `image` relative to `root`), `data_augment`,
`repeat_time` and `length`, which must be the exact number of lines in the annotation file. We write
`<name>.jsonl` and `meta.json`. Grounded QA boxes use InternVL's grounding markup,
`<box>[[x1, y1, x2, y2]]</box>` on a 0..1000 scale, and a located object is answered as
`<ref>object</ref><box>[[...]]</box>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_json_atomic, write_jsonl_atomic
from datagen.export.boxes import CONVENTIONS, INTERNVL_TEXT
from datagen.export.convert_vlm import to_internvl
from datagen.export.layout import rows, trainer_folder
from datagen.export.media import media_for

META_FILE = "meta.json"


def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    name = str(options.get("name") or "datagen")
    media = media_for(records, paths, out, options)
    lines = [
        to_internvl(str(r.record["id"]), r.converted.turns, media.relative(r.index), r.size)
        for r in rows(
            records, media, "internvl", text=INTERNVL_TEXT, convention=CONVENTIONS["norm1000"], want_size=True
        )
    ]
    annotation = Path(out).absolute() / f"{name}.jsonl"
    with trainer_folder(out, media) as tmp:
        n = write_jsonl_atomic(tmp / annotation.name, lines)
        meta = {
            name: {
                "root": media.root,
                "annotation": str(annotation),
                "data_augment": False,
                "repeat_time": 1,
                "length": n,
            }
        }
        write_json_atomic(tmp / META_FILE, meta)
    return n
