"""Benchmark: PICa shot selection (`datagen.tasks.vqa.picker.ExamplePicker`) against the obvious
simple alternative, a pure-Python cosine over every pool example per question.

    PYTHONPATH=. python bench/vqa_picker.py [--pool 20000] [--queries 2000]

Questions are generated from the 80 COCO category names and a few question shapes (VQA-like
vocabulary and tie structure); both pickers must return the same first choice on every query timed.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import Counter

from datagen.tasks.grounded.nouns import COCO_CATEGORIES, noun
from datagen.tasks.vqa.picker import Example, ExamplePicker, tokens

SHAPES = [
    "What color is the {s}?",
    "How many {p} are there?",
    "Is the {s} next to the {s2}?",
    "What is the {s} made of?",
    "Why is the {s} on the {s2}?",
    "Where is the {s} in this picture?",
    "What kind of {s} is shown?",
    "Is there a {s} near the {s2} or the {s3}?",
]


def make_questions(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        a, b, c = (noun(rng.choice(COCO_CATEGORIES)) for _ in range(3))
        out.append(rng.choice(SHAPES).format(s=a.singular, p=a.plural, s2=b.singular, s3=c.singular))
    return out


def brute_force_best(pool_vecs: list[dict[str, float]], idf: dict[str, float], question: str) -> float:
    q = Counter(tokens(question))
    vec = {t: c * idf[t] for t, c in q.items() if t in idf}
    norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
    best = -1.0
    for d in pool_vecs:
        s = sum(v * d.get(t, 0.0) for t, v in vec.items()) / norm
        best = max(best, s)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--brute-queries", type=int, default=100)
    args = ap.parse_args()
    rng = random.Random(0)
    pool = [Example("ctx", q, "a", i) for i, q in enumerate(make_questions(args.pool, rng))]
    queries = make_questions(args.queries, rng)

    t0 = time.perf_counter()
    picker = ExamplePicker(pool)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i, q in enumerate(queries):
        picker.pick(q, 16, seed=0, key=str(i))
    fast = (time.perf_counter() - t0) / len(queries)

    # the simple alternative: normalised TF-IDF dicts, scored one by one for every query
    pool_vecs = []
    for e in pool:
        d = {t: c * picker.idf[t] for t, c in Counter(tokens(e.question)).items()}
        n = math.sqrt(sum(v * v for v in d.values())) or 1.0
        pool_vecs.append({t: v / n for t, v in d.items()})
    sub = queries[: args.brute_queries]
    t0 = time.perf_counter()
    bests = [brute_force_best(pool_vecs, picker.idf, q) for q in sub]
    slow = (time.perf_counter() - t0) / len(sub)
    for q, best in zip(sub, bests, strict=True):
        top = picker.pick(q, 1, seed=0, key="check")[0]
        mine = float(picker.similarities(q)[pool.index(top)])
        assert abs(mine - best) < 1e-9, (q, mine, best)

    print(f"pool {args.pool:,} examples, {args.queries:,} queries, 16 shots each")
    print(f"index build: {build:.2f} s")
    print(f"ExamplePicker (numpy postings): {fast * 1e3:.3f} ms/query")
    print(f"pure-Python cosine over the pool: {slow * 1e3:.3f} ms/query ({args.brute_queries} queries)")
    print(
        f"speed-up: {slow / fast:.1f}x; VQA v2 val (214,354 questions) at this pool size: "
        f"{214354 * fast / 60:.1f} min vs {214354 * slow / 3600:.1f} h"
    )


if __name__ == "__main__":
    main()
