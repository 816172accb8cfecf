"""`datagen export torchtune`: a torchtune multimodal chat dataset (the last step for that trainer).

torchtune's `multimodal_chat_dataset` reads ShareGPT-style JSON through `datasets`; `image_tag`
"<image>" marks where the image goes, `image_dir` is prepended to each image path and `column_map`
names the conversation and image columns. We write `data.json` (rows `{dialogue, image_path}`) and
`torchtune.yaml`, the `dataset:` section of a torchtune recipe config with all of that filled in.
Boxes stay in LLaVA's convention (fractions of the image size).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_json_atomic, write_text_atomic
from datagen.export.convert_vlm import to_torchtune
from datagen.export.layout import rows, trainer_folder, yaml_value
from datagen.export.media import media_for

DATA_FILE = "data.json"
CONFIG_FILE = "torchtune.yaml"


def config(data: Path, image_dir: str) -> str:
    lines = [
        "# The dataset section of a torchtune recipe config, written by datagen.",
        "dataset:",
        "  _component_: torchtune.datasets.multimodal.multimodal_chat_dataset",
        "  source: json",
        f"  data_files: {yaml_value(str(data))}",
        "  split: train",
        "  column_map:",
        "    conversations: dialogue",
        "    image: image_path",
        '  image_tag: "<image>"',
        # torchtune requires image_dir; without --images the names are relative to a folder we do not know
        f"  image_dir: {yaml_value(image_dir)}"
        if image_dir
        else '  image_dir: "."  # set to your image folder',
    ]
    return "\n".join(lines) + "\n"


def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    media = media_for(records, paths, out, options)
    data = [
        to_torchtune(r.converted.turns, media.relative(r.index)) for r in rows(records, media, "torchtune")
    ]
    with trainer_folder(out, media) as tmp:
        write_json_atomic(tmp / DATA_FILE, data, indent=None)
        write_text_atomic(tmp / CONFIG_FILE, config(Path(out).absolute() / DATA_FILE, media.root))
    return len(data)
