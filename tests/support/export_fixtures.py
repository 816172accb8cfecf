"""Real inputs for the export/adapter tests, built from the shared COCO-mini and CC3M samples.

The generation engine is built elsewhere; these helpers write what its contract (HELPERS.md) says a
run directory holds: `results.jsonl` with LLaVA records plus provenance, and `run.json`. The text of
each sample is taken from the real COCO captions and boxes of the three val2017 images, so image
names, ids and sizes are real. `cc3m_chat` writes a LLaVA-CC3M `chat.json` from real CC3M lines.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from support.jsonl import write_jsonl

MODEL = "scripted-test-model"
TEMPLATE_HASHES = {
    "conversation": "c0nv" * 4,
    "detail_description": "d3ta" * 4,
    "complex_reasoning": "c0mp" * 4,
}


def coco_val(coco_mini: Path) -> list[dict[str, Any]]:
    """Per val image: file name, id, size, captions and box categories (from the real annotations)."""
    ann = coco_mini / "annotations"
    caps = json.loads((ann / "captions_val2017.json").read_text())
    inst = json.loads((ann / "instances_val2017.json").read_text())
    names = {c["id"]: c["name"] for c in inst["categories"]}
    by_img: dict[int, list[str]] = defaultdict(list)
    for a in caps["annotations"]:
        by_img[a["image_id"]].append(a["caption"].strip())
    cats: dict[int, list[str]] = defaultdict(list)
    for a in inst["annotations"]:
        cats[a["image_id"]].append(names[a["category_id"]])
    return [
        {
            "id": f"{im['id']:012d}",
            "image": im["file_name"],
            "width": im["width"],
            "height": im["height"],
            "captions": by_img[im["id"]],
            "categories": sorted(set(cats[im["id"]])),
        }
        for im in sorted(caps["images"], key=lambda x: x["id"])
    ]


def _pairs(task: str, img: dict[str, Any]) -> list[tuple[str, str]]:
    caps, cats = img["captions"], img["categories"] or ["nothing labelled"]
    if task == "conversation":
        return [
            ("What is happening in this picture?", caps[0]),
            ("Which objects can you see?", "I can see " + ", ".join(cats) + "."),
        ]
    if task == "detail_description":
        return [("Describe the image in detail.", " ".join(caps))]
    return [
        (f"Why might someone take a photo like this? {caps[1]}", f"Because {caps[2][0].lower()}{caps[2][1:]}")
    ]


def llava_records(coco_mini: Path) -> list[dict[str, Any]]:
    """LLaVA records with provenance, 3 tasks x 3 real images, `<image>` first or last alternately."""
    out = []
    for task in TEMPLATE_HASHES:
        for k, img in enumerate(coco_val(coco_mini)):
            conv = []
            for i, (q, a) in enumerate(_pairs(task, img)):
                if i == 0:
                    q = f"<image>\n{q}" if k % 2 == 0 else f"{q}\n<image>"
                conv += [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
            key = hashlib.sha256(f"{task}:{img['id']}".encode()).hexdigest()
            out.append(
                {
                    "id": img["id"],
                    "image": img["image"],
                    "conversations": conv,
                    "task": task,
                    "sample_id": f"{task}:{img['id']}",
                    "model": MODEL,
                    "template_hash": TEMPLATE_HASHES[task],
                    "usage": {
                        "prompt_tokens": 900 + k,
                        "completion_tokens": 120 + k,
                        "total_tokens": 1020 + 2 * k,
                    },
                    "request_key": key,
                    "source": "coco:captions+instances",
                }
            )
    return out


def coco_run(coco_mini: Path, run_dir: Path, records: list[dict[str, Any]] | None = None) -> Path:
    """A run directory in the engine's layout holding `records` (default: `llava_records`)."""
    recs = llava_records(coco_mini) if records is None else records
    run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(run_dir / "results.jsonl", recs)
    (run_dir / "failures.jsonl").write_text("")
    meta = {
        "config": {"model": MODEL, "base_url": "http://127.0.0.1:9/v1", "task": "llava"},
        "version": "0.1.0",
        "template_hashes": TEMPLATE_HASHES,
        "counts": {"done": len(recs), "failed": 0},
    }
    (run_dir / "run.json").write_text(json.dumps(meta))
    return run_dir


def cc3m_chat(cc3m_tsv: Path, out: Path, n: int = 40) -> Path:
    """`chat.json` in the LLaVA-CC3M-Pretrain layout from the first `n` real CC3M lines."""
    recs = []
    with open(cc3m_tsv, encoding="utf-8") as f:
        for row, line in enumerate(f):
            if row >= n:
                break
            caption = line.split("\t")[0].strip()
            rid = f"GCC_train_{row:09d}"
            recs.append(
                {
                    "id": rid,
                    "image": f"{rid}.jpg",
                    "conversations": [
                        {"from": "human", "value": "Give a short caption for this picture.\n<image>"},
                        {"from": "gpt", "value": caption},
                    ],
                }
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(recs))
    return out
