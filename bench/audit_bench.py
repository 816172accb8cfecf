"""Benchmark: `datagen audit` on 158K synthetic LLaVA-Instruct-shaped samples.

    PYTHONPATH=$PWD python bench/audit_bench.py [--samples 158000] [--images 80000] [--tmp DIR]

Writes a LLaVA JSON array in LLaVA-Instruct-158K's mix (58K conversation, 23K detail, 77K complex
reasoning; answers of LLaVA's lengths built from COCO words, some objects absent from the image,
some negated, some counts and boxes, 2% near-duplicates) and a contexts JSONL of 80K images with
COCO-like boxes as ground truth. Then prints:

1. the whole audit (read, ground truth, every check, audit.json + flags.jsonl + report.html without
   images), wall and CPU time;
2. the object matcher against the simple alternative, a per-sample loop over every synonym's
   compiled regex (longest first, matches blanked out so "hot dog" is not also a dog), on the same
   samples, as samples/s and the ratio;
3. the near-duplicate pass (signatures + LSH + clusters) at 20K / 80K / all samples, per sample.

Figures vary with the machine's load (printed); the ratios are measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from datagen.audit.inputs import load_inputs, turns  # noqa: E402
from datagen.audit.neardup import NearDuplicates  # noqa: E402
from datagen.audit.run import AuditOptions, run_audit  # noqa: E402
from datagen.audit.truth import TruthSpec  # noqa: E402
from datagen.common.jsonio import gc_paused  # noqa: E402
from datagen.tasks.grounded.nouns import COCO_CATEGORIES, noun  # noqa: E402
from datagen.tasks.neardup import MinHashSpec  # noqa: E402
from datagen.tasks.objects.mentions import find_mentions, tokenize  # noqa: E402
from datagen.tasks.objects.synonyms import phrase_table  # noqa: E402

_PROSE = (
    "the image shows a scene where light falls softly across the frame and everything seems calm "
    "people often enjoy moments like this because the setting feels relaxed and natural while the "
    "colours stay muted and the background adds some depth to the overall composition of the photo"
)
FILLER = _PROSE.split()
MIX = {"conversation": 58 / 158, "detail_description": 23 / 158, "complex_reasoning": 77 / 158}


def _sentence(rng: random.Random, present: list[str], words: int) -> str:
    out = []
    while len(out) < words:
        r = rng.random()
        if r < 0.05:
            out += ["a", noun(rng.choice(present)).singular]
        elif r < 0.06:
            out += [rng.choice(["two", "three"]), noun(rng.choice(present)).plural]
        elif r < 0.063:
            out += ["a", noun(rng.choice(COCO_CATEGORIES)).singular]  # maybe absent: a hallucination
        elif r < 0.066:
            out += ["there", "is", "no", noun(rng.choice(COCO_CATEGORIES)).singular]
        else:
            out.append(rng.choice(FILLER))
    return " ".join(out).capitalize() + "."


def make_data(folder: Path, n: int, n_images: int, seed: int = 0) -> tuple[Path, Path]:
    rng = random.Random(seed)
    truth: list[dict] = []
    with open(folder / "contexts.jsonl", "w", encoding="utf-8") as f:
        for i in range(n_images):
            cats = rng.sample(COCO_CATEGORIES, rng.randint(1, 6))
            boxes = []
            for c in cats:
                for _ in range(rng.randint(1, 4)):
                    x, y = rng.random() * 0.7, rng.random() * 0.7
                    boxes.append({"category": c, "bbox": [round(x, 3), round(y, 3), round(x + 0.2, 3), round(y + 0.25, 3)], "source": "coco"})  # fmt: skip
            rec = {"id": f"{i:012d}", "image_id": i, "image": f"{i:012d}.jpg", "width": 640, "height": 480,
                   "captions": ["A synthetic image."], "boxes": boxes}  # fmt: skip
            truth.append(rec)
            f.write(json.dumps(rec) + "\n")
    samples = []
    for _ in range(n):
        img = truth[rng.randrange(n_images)]
        present = sorted({b["category"] for b in img["boxes"]})
        task = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if task == "conversation":  # ~4 exchanges of ~35-word answers
            asks = [
                "What is the {} doing?",
                "Where is the {}?",
                "What colour is the {}?",
                "Why is the {} there?",
                "How big is the {}?",
            ]
            pairs = [(q.format(noun(rng.choice(present)).singular), _sentence(rng, present, 35)) for q in rng.sample(asks, rng.randint(2, 5))]  # fmt: skip
        elif task == "detail_description":
            pairs = [
                ("Describe the image in detail.", " ".join(_sentence(rng, present, 25) for _ in range(5)))
            ]
        else:
            box = img["boxes"][0]["bbox"] if rng.random() < 0.05 else None
            answer = " ".join(_sentence(rng, present, 25) for _ in range(4))
            pairs = [("Why might this scene matter?", answer + (f" It is at {box}." if box else ""))]
        if samples and rng.random() < 0.02:  # a near-duplicate of an earlier sample
            pairs = [(q, a.replace("the", "a", 1)) for q, a in samples[rng.randrange(len(samples))]["pairs"]]
        conv = []
        for k, (q, a) in enumerate(pairs):
            conv += [
                {"from": "human", "value": ("<image>\n" if k == 0 else "") + q},
                {"from": "gpt", "value": a},
            ]
        samples.append(
            {"id": img["id"], "image": img["image"], "task": task, "conversations": conv, "pairs": pairs}
        )
    for s in samples:
        del s["pairs"]
    path = folder / "llava_synth.json"
    path.write_text(json.dumps(samples), encoding="utf-8")
    return path, folder / "contexts.jsonl"


def naive_categories(text: str, patterns: list[tuple[re.Pattern[str], str]]) -> set[str]:
    t = text.lower()
    found = set()
    for pat, cat in patterns:
        if pat.search(t):
            found.add(cat)
            t = pat.sub(" ", t)
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=158_000)
    ap.add_argument("--images", type=int, default=80_000)
    ap.add_argument("--naive-samples", type=int, default=5_000)
    ap.add_argument("--tmp", type=Path, default=None)
    args = ap.parse_args()
    tmp = Path(args.tmp or tempfile.mkdtemp(prefix="audit-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    load0 = os.getloadavg()[0]
    data, contexts = make_data(tmp, args.samples, args.images)
    print(
        f"data: {args.samples:,} samples ({data.stat().st_size / 1e6:.0f} MB), {args.images:,} images of ground truth"
    )

    w, c = time.perf_counter(), time.process_time()
    result = run_audit([data], TruthSpec(contexts=[contexts]), tmp / "audit", AuditOptions())
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    h = result.figures["headline"]
    print(f"1. whole audit: {wall:.1f} s wall, {cpu:.1f} s CPU ({args.samples / wall:,.0f} samples/s); "
          f"chair_s {h['chair_s']}, chair_i {h['chair_i']}, near_dup {h['near_dup']}, hygiene {h['hygiene']}")  # fmt: skip

    samples, _ = load_inputs([data])
    texts = ["\n".join(turns(s.record)[1]) for s in samples[: args.naive_samples]]
    phrases = sorted(phrase_table().items(), key=lambda kv: -len(kv[0]))
    patterns = [(re.compile(r"\b" + re.escape(p) + r"\b"), cat) for p, (cat, _) in phrases]
    t = time.perf_counter()
    naive = [naive_categories(x, patterns) for x in texts]
    naive_s = time.perf_counter() - t
    t = time.perf_counter()
    ours = [{m.category for m in find_mentions(x)} for x in texts]
    ours_s = time.perf_counter() - t
    agree = sum(1 for a, b in zip(naive, ours, strict=True) if a >= b) / len(texts)
    print(f"2. matcher on {len(texts):,} samples: ours {len(texts) / ours_s:,.0f} samples/s, naive synonym loop "
          f"{len(texts) / naive_s:,.0f} samples/s: {naive_s / ours_s:.1f}x faster "
          f"(naive finds every category ours does in {agree:.0%} of samples; it has no negation rule)")  # fmt: skip

    tokens = [[t for x in turns(s.record)[1] for t in tokenize(x)] for s in samples]
    print("3. near-duplicate pass (signatures + LSH + clusters):")
    for n in sorted({min(20_000, len(tokens)), min(80_000, len(tokens)), len(tokens)}):
        t = time.perf_counter()
        with gc_paused():  # as run_audit does
            nd = NearDuplicates(MinHashSpec(), n)
            for uid in range(n):
                nd.add(uid, tokens[uid])
            clusters = nd.clusters()
        s = time.perf_counter() - t
        print(f"   {n:>7,} samples: {s:5.1f} s, {s / n * 1e6:5.1f} µs/sample, {len(clusters):,} clusters")
    print(
        f"load average before/after: {load0:.1f}/{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; files in {tmp}"
    )


if __name__ == "__main__":
    main()
