"""Make a COCO train2017-scale captions + instances pair from the real COCO-mini sample.

    python bench/make_synthetic_coco.py --out /tmp/coco-synth [--images 118287] [--instances 860001]

Every synthetic image copies one real sample image (size, its 5-7 real captions) and a random subset of
that image's real instance annotations, with their real segmentation polygons (and crowd RLEs) shifted
by a little noise, so the files have COCO's shapes and weights: 118,287 images, ~591K captions,
~860K instances, ~450 MB of instances JSON (the real instances_train2017.json is 448 MB).
The files are streamed to disk one annotation at a time, so making them needs little memory.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def find_sample() -> Path:
    for parent in [HERE.parent, *HERE.parents]:
        p = parent / "shared" / "data" / "coco" / "coco-mini" / "annotations"
        if p.is_dir():
            return p
    return HERE.parent / "data" / "coco" / "annotations"  # the smaller bundled copy


def jitter_polygon(poly: list[float], dx: float, dy: float, rng: random.Random) -> list[float]:
    return [round(v + (dx if i % 2 == 0 else dy) + rng.uniform(-0.4, 0.4), 2) for i, v in enumerate(poly)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--images", type=int, default=118_287)
    ap.add_argument("--instances", type=int, default=860_001)
    ap.add_argument("--split", default="train2017")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    src = find_sample()
    caps = json.loads((src / "captions_train2017.json").read_text())
    inst = json.loads((src / "instances_train2017.json").read_text())
    caps_by = defaultdict(list)
    for a in caps["annotations"]:
        caps_by[a["image_id"]].append(a["caption"])
    anns_by = defaultdict(list)
    for a in inst["annotations"]:
        anns_by[a["image_id"]].append(a)
    templates = [img for img in caps["images"] if caps_by[img["id"]]]
    ratio = args.instances / (args.images * len(inst["annotations"]) / len(inst["images"]))
    rng = random.Random(args.seed)
    out = args.out / "annotations"
    out.mkdir(parents=True, exist_ok=True)
    images = []
    for i in range(args.images):
        t = templates[i % len(templates)]
        iid = 1_000_000 + i
        images.append({**t, "id": iid, "file_name": f"{iid:012d}.jpg"})
    head = {"info": caps["info"], "licenses": caps.get("licenses", [])}

    def write(path: Path, rows_key_items, categories) -> int:
        n = 0
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(head)[:-1] + ', "images": ' + json.dumps(images) + ', "annotations": [')
            for row in rows_key_items:
                f.write(("," if n else "") + json.dumps(row))
                n += 1
            f.write("]")
            if categories is not None:
                f.write(', "categories": ' + json.dumps(categories))
            f.write("}")
        return n

    def caption_rows():
        aid = 1
        for img, t in zip(images, (templates[i % len(templates)] for i in range(args.images)), strict=True):
            for c in caps_by[t["id"]]:
                yield {"image_id": img["id"], "id": aid, "caption": c}
                aid += 1

    def instance_rows():
        aid = 1
        for i, img in enumerate(images):
            src_anns = anns_by[templates[i % len(templates)]["id"]]
            want = len(src_anns) * ratio
            k = min(len(src_anns), int(want) + (rng.random() < want - int(want)))
            for a in rng.sample(src_anns, k):
                dx, dy = rng.uniform(-2, 2), rng.uniform(-2, 2)
                x, y, w, h = a["bbox"]
                seg = a["segmentation"]
                if isinstance(seg, list):
                    seg = [jitter_polygon(p, dx, dy, rng) for p in seg]
                yield {
                    "segmentation": seg,
                    "area": a["area"],
                    "iscrowd": a["iscrowd"],
                    "image_id": img["id"],
                    "bbox": [round(x + dx, 2), round(y + dy, 2), w, h],
                    "category_id": a["category_id"],
                    "id": aid,
                }
                aid += 1

    nc = write(out / f"captions_{args.split}.json", caption_rows(), None)
    ni = write(out / f"instances_{args.split}.json", instance_rows(), inst["categories"])
    sizes = {p.name: p.stat().st_size for p in out.glob("*.json")}
    print(f"{args.images} images, {nc} captions, {ni} instances from {src}", file=sys.stderr)
    for name, size in sorted(sizes.items()):
        print(f"  {out / name}: {size / 1e6:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
