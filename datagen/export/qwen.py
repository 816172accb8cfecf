"""`datagen export qwen2.5-vl | qwen3-vl`: data for Qwen's own fine-tuning code (`qwen-vl-finetune`).

It reads a JSON array of `{image, conversations}` (`image` relative to the dataset's `data_path`,
one `<image>` tag per image in the human turns) through a registry entry in `qwenvl/data/__init__.py`:
`NAME = {"annotation_path": ..., "data_path": ...}` added to `data_dict`. We write `<name>.json` and
`dataset_entry.py` holding that entry.

Grounded boxes follow what each model was trained on: Qwen2.5-VL absolute pixels of the image after
its `smart_resize` (so `--min-pixels`/`--max-pixels` must match the training run's; the defaults are
the fine-tuning scripts'), Qwen3-VL integers 0..1000. A located object is answered as Qwen answers:
`{"bbox_2d": [x1, y1, x2, y2], "label": "dog"}`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_json_atomic, write_text_atomic
from datagen.export.boxes import CONVENTIONS, qwen_text
from datagen.export.convert_vlm import to_qwen
from datagen.export.layout import rows, trainer_folder
from datagen.export.media import media_for

ENTRY_FILE = "dataset_entry.py"
_STYLE = {
    "qwen2.5-vl": (CONVENTIONS["qwen2.5"], qwen_text("in pixels of the image")),
    "qwen3-vl": (CONVENTIONS["norm1000"], qwen_text("on a 0-1000 scale of the image width and height")),
}


def entry(name: str, annotation: Path, data_path: str) -> str:
    var = "".join(c if c.isalnum() else "_" for c in name).upper()
    return (
        "# Qwen-VL fine-tuning dataset entry written by datagen. Paste it into\n"
        "# qwen-vl-finetune/qwenvl/data/__init__.py, add it to data_dict, then train with\n"
        f"# --dataset_use {name}\n"
        f"{var} = {{\n"
        f'    "annotation_path": {str(annotation)!r},\n'
        f'    "data_path": {data_path!r},\n'
        "}\n"
        f"# data_dict[{name!r}] = {var}\n"
    )


def writer(fmt: str) -> Callable[[list[dict[str, Any]], Any, Path, dict[str, Any]], int]:
    convention, text = _STYLE[fmt]

    def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
        name = str(options.get("name") or "datagen")
        media = media_for(records, paths, out, options)
        data = [
            to_qwen(r.converted.turns, media.relative(r.index))
            for r in rows(records, media, fmt, text=text, convention=convention, options=options)
        ]
        annotation = Path(out).absolute() / f"{name}.json"
        with trainer_folder(out, media) as tmp:
            write_json_atomic(tmp / annotation.name, data, indent=None)
            write_text_atomic(tmp / ENTRY_FILE, entry(name, annotation, media.root))
        return len(data)

    return write
