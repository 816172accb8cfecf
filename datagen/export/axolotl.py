"""`datagen export axolotl`: axolotl's multimodal `chat_template` dataset (the last step for that trainer).

axolotl trains vision models on `messages` whose contents are lists of parts, the image part being
`{"type": "image", "path": ...}` (or `"base64"`, `"url"`), which its processing strategy loads
before the model's processor applies the chat template. We write `data.jsonl` and `axolotl.yaml`
with the dataset entry and the settings axolotl's multimodal guide asks for (`processor_type`,
`skip_prepare_dataset`, `remove_unused_columns: false`, `sample_packing: false`).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_jsonl_atomic, write_text_atomic
from datagen.export.convert_vlm import to_axolotl
from datagen.export.layout import rows, trainer_folder, yaml_value
from datagen.export.media import Media, media_for

DATA_FILE = "data.jsonl"
CONFIG_FILE = "axolotl.yaml"


def config(data: Path) -> str:
    lines = [
        "# Dataset settings for an axolotl multimodal config, written by datagen (add base_model etc.).",
        "processor_type: AutoProcessor",
        "skip_prepare_dataset: true",
        "remove_unused_columns: false",
        "sample_packing: false",
        "datasets:",
        f"  - path: {yaml_value(str(data))}",
        "    ds_type: json",
        "    type: chat_template",
        "    field_messages: messages",
    ]
    return "\n".join(lines) + "\n"


def image_part(media: Media, i: int) -> dict[str, Any] | None:
    if not media.has_image(i):
        return None
    if media.mode == "embed":
        src = media.source(i)
        assert src is not None
        return {"type": "image", "base64": base64.b64encode(src.read_bytes()).decode("ascii")}
    return {"type": "image", "path": media.absolute(i)}


def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    media = media_for(records, paths, out, options)
    # A generator: with --image-mode embed only one image's base64 is in memory at a time.
    data = (
        to_axolotl(r.converted.turns, image_part(media, r.index)) for r in rows(records, media, "axolotl")
    )
    with trainer_folder(out, media) as tmp:
        n = write_jsonl_atomic(tmp / DATA_FILE, data)
        write_text_atomic(tmp / CONFIG_FILE, config(Path(out).absolute() / DATA_FILE))
    return n
