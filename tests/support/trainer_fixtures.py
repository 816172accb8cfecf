"""Inputs and readers for the trainer-format tests (tests/export/test_trainer_*.py).

`grounded_run` runs the real model-free `datagen generate grounded_qa` on COCO annotations;
`pixel_boxes` reads the raw COCO instance boxes (pixels, never through datagen) so a converted box can
be compared with the annotation it came from; `read_output` reads each format's files back the way a
trainer would find its samples (the per-format details are checked in the tests themselves).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from support.cli import run_datagen
from support.jsonl import read_jsonl

NEW_FORMATS = (
    "llava-onevision",
    "ms-swift",
    "internvl",
    "qwen2.5-vl",
    "qwen3-vl",
    "openai",
    "axolotl",
    "torchtune",
    "rlvr",
)


def grounded_run(coco_dir: Path, split: str, out: Path, *extra: str) -> Path:
    proc = run_datagen("generate", "grounded_qa", "--coco", coco_dir, "--split", split, "--out", out, *extra)
    assert proc.returncode == 0, proc.stderr
    return out


def pixel_boxes(coco_dir: Path, split: str) -> dict[str, list[tuple[str, list[float]]]]:
    """image file name → [(category, [x1, y1, x2, y2] in pixels)] for every non-crowd annotation."""
    inst = json.loads((coco_dir / "annotations" / f"instances_{split}.json").read_text())
    names = {c["id"]: c["name"] for c in inst["categories"]}
    files = {im["id"]: im["file_name"] for im in inst["images"]}
    out: dict[str, list[tuple[str, list[float]]]] = defaultdict(list)
    for a in inst["annotations"]:
        if a.get("iscrowd"):
            continue
        x, y, w, h = a["bbox"]
        out[files[a["image_id"]]].append((names[a["category_id"]], [x, y, x + w, y + h]))
    return out


def sizes(coco_dir: Path, split: str) -> dict[str, tuple[int, int]]:
    inst = json.loads((coco_dir / "annotations" / f"instances_{split}.json").read_text())
    return {im["file_name"]: (im["width"], im["height"]) for im in inst["images"]}


def pixel_error(box_px: list[float], category: str, annotations: list[tuple[str, list[float]]]) -> float:
    """The largest coordinate difference to the closest annotated box of `category`."""
    return min(
        max(abs(a - b) for a, b in zip(box_px, ann, strict=True)) for c, ann in annotations if c == category
    )


def _count(text: str) -> int:
    return text.count("<image>")


def read_output(fmt: str, out: Path) -> list[dict[str, Any]]:
    """Per sample: `images` (the image references it lists), `tokens` (image placeholders or parts)
    and `texts` (its turn texts), read from the files each trainer loads."""
    rows: list[dict[str, Any]] = []
    if fmt == "llava-onevision":
        import yaml

        for entry in yaml.safe_load((out / "mix.yaml").read_text())["datasets"]:
            for r in json.loads(Path(entry["json_path"]).read_text()):
                texts = [t["value"] for t in r["conversations"]]
                rows.append(
                    {
                        "images": [r["image"]] if "image" in r else [],
                        "tokens": sum(map(_count, texts)),
                        "texts": texts,
                    }
                )
    elif fmt == "ms-swift":
        for r in read_jsonl(out / "data.jsonl"):
            texts = [m["content"] for m in r["messages"]]
            rows.append({"images": r["images"], "tokens": sum(map(_count, texts)), "texts": texts})
    elif fmt == "internvl":
        meta = json.loads((out / "meta.json").read_text())
        (entry,) = meta.values()
        for r in read_jsonl(Path(entry["annotation"])):
            texts = [t["value"] for t in r["conversations"]]
            rows.append(
                {
                    "images": [r["image"]] if "image" in r else [],
                    "tokens": sum(map(_count, texts)),
                    "texts": texts,
                }
            )
    elif fmt in ("qwen2.5-vl", "qwen3-vl"):
        for r in json.loads(next(out.glob("*.json")).read_text()):
            texts = [t["value"] for t in r["conversations"]]
            rows.append(
                {
                    "images": [r["image"]] if "image" in r else [],
                    "tokens": sum(map(_count, texts)),
                    "texts": texts,
                }
            )
    elif fmt == "torchtune":
        for r in json.loads((out / "data.json").read_text()):
            texts = [t["value"] for t in r["dialogue"]]
            rows.append(
                {
                    "images": [r["image_path"]] if "image_path" in r else [],
                    "tokens": sum(map(_count, texts)),
                    "texts": texts,
                }
            )
    elif fmt in ("openai", "axolotl"):
        files = sorted(out.glob("train-*.jsonl")) if fmt == "openai" else [out / "data.jsonl"]
        kind = "image_url" if fmt == "openai" else "image"
        for f in files:
            for r in read_jsonl(f):
                parts = [p for m in r["messages"] if isinstance(m["content"], list) for p in m["content"]]
                texts = [
                    m["content"]
                    if isinstance(m["content"], str)
                    else " ".join(p.get("text", "") for p in m["content"])
                    for m in r["messages"]
                ]
                images = [p for p in parts if p["type"] == kind]
                rows.append({"images": images, "tokens": len(images), "texts": texts})
    elif fmt == "rlvr":
        import pyarrow.parquet as pq

        for r in pq.read_table(out / "train.parquet").to_pylist():
            texts = [m["content"] for m in r["prompt"]]
            rows.append({"images": r["images"], "tokens": sum(map(_count, texts)), "texts": texts})
    else:
        raise AssertionError(fmt)
    return rows
