"""Builders for the review tests: context records computed straight from the raw COCO annotation JSON
(independently of datagen's own COCO reader) and run directories written by hand in the run-dir shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.contexthelpers import TASKS
from support.jsonl import write_jsonl


def contexts_from_coco(coco_dir: Path, split: str = "val2017") -> list[dict[str, Any]]:
    """One context record per image that has a JPEG in `coco_dir/split`, from the raw annotation files."""
    caps = json.loads((coco_dir / "annotations" / f"captions_{split}.json").read_text())
    inst = json.loads((coco_dir / "annotations" / f"instances_{split}.json").read_text())
    names = {c["id"]: c["name"] for c in inst["categories"]}
    present = {p.name for p in (coco_dir / split).glob("*.jpg")}
    out = []
    for img in sorted(inst["images"], key=lambda i: i["id"]):
        if img["file_name"] not in present:
            continue
        w, h = img["width"], img["height"]
        boxes = []
        for a in inst["annotations"]:
            if a["image_id"] != img["id"]:
                continue
            x, y, bw, bh = a["bbox"]
            box: dict[str, Any] = {
                "category": names[a["category_id"]],
                "bbox": [round(x / w, 3), round(y / h, 3), round((x + bw) / w, 3), round((y + bh) / h, 3)],
            }
            if a.get("iscrowd"):
                box["crowd"] = True
            boxes.append(box)
        out.append(
            {
                "id": f"{img['id']:012d}",
                "image_id": img["id"],
                "image": img["file_name"],
                "width": w,
                "height": h,
                "captions": [
                    " ".join(c["caption"].split()) for c in caps["annotations"] if c["image_id"] == img["id"]
                ],
                "boxes": boxes,
            }
        )
    return out


def raw_boxes(coco_dir: Path, image_id: int, split: str = "val2017") -> list[tuple[str, list[float]]]:
    """(category, pixel [x, y, w, h]) of every annotation on one image, in file order."""
    inst = json.loads((coco_dir / "annotations" / f"instances_{split}.json").read_text())
    names = {c["id"]: c["name"] for c in inst["categories"]}
    return [(names[a["category_id"]], a["bbox"]) for a in inst["annotations"] if a["image_id"] == image_id]


def llava_record(
    ctx: dict[str, Any], task: str, reply: str, question: str = "What is happening here?"
) -> dict:
    return {
        "id": ctx["id"],
        "image": ctx["image"],
        "task": task,
        "sample_id": f"{task}:{ctx['id']}",
        "conversations": [
            {"from": "human", "value": f"<image>\n{question}"},
            {"from": "gpt", "value": reply},
        ],
        "model": "test-model",
        "template_hash": f"hash-{task}",
        "usage": {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020},
        "request_key": f"key-{task}-{ctx['id']}",
    }


def make_run(run_dir: Path, contexts: list[dict[str, Any]], *, failures: bool = True) -> dict[str, Any]:
    """A run dir: every task on every image except complex_reasoning on the last image (failed twice,
    then filtered) and detail on the first (failed once, then succeeded on resume: a stale failure)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for ctx in contexts:
        for task in TASKS:
            if task == "complex_reasoning" and ctx is contexts[-1]:
                continue
            reply = (
                f"In this {task} sample the picture of image {ctx['id']} shows {ctx['captions'][0].lower()}"
            )
            results.append(llava_record(ctx, task, reply))
    write_jsonl(run_dir / "results.jsonl", results)
    last, first = contexts[-1], contexts[0]
    fails = [
        {"sample_id": f"complex_reasoning:{last['id']}", "id": last["id"], "task": "complex_reasoning",
         "stage": "parse", "reason": "no Question:/Answer: pair", "attempts": 3, "raw": "I cannot <b>answer</b>"},
        {"sample_id": f"detail_description:{first['id']}", "id": first["id"], "task": "detail_description",
         "stage": "request", "reason": "timeout", "attempts": 3},
        {"sample_id": f"complex_reasoning:{last['id']}", "id": last["id"], "task": "complex_reasoning",
         "stage": "filter", "filter": "too_short", "reason": "answer has 3 words, minimum 10", "attempts": 1,
         "raw": "Question: Why?\n===\nAnswer: Because."},
    ]  # fmt: skip
    if failures:
        write_jsonl(run_dir / "failures.jsonl", fails)
    meta = {
        "version": "0.1.0",
        "config": {"model": "test-model", "task": "llava"},
        "template_hashes": {t: f"hash-{t}" for t in TASKS},
        "counts": {"done": len(results), "failed": 1},
        "filter_counts": {"too_short": 1},
    }
    (run_dir / "run.json").write_text(json.dumps(meta))
    return {"results": results, "failures": fails, "meta": meta}


def page_data(path: Path) -> dict:
    """The JSON a written review page embeds for its script (`<script id="review-data">`)."""
    html = path.read_text()
    return json.loads(
        html.split('<script type="application/json" id="review-data">', 1)[1].split("</script>")[0]
    )
