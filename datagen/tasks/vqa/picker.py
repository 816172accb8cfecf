"""In-context example selection for `vqa_answer` (PICa-style): the K pool examples whose questions are
most similar to the question being answered.

An examples file (JSONL, one `{"context", "question", "answer"}` object per line, optionally with
`image_id`; or a JSON array of those) is what `img2llm_qa` writes. Similarity is TF-IDF cosine over
the questions' lower-cased word tokens, so rare words ("umbrella", "sport") weigh more than "what"
or "the". Ties (and there are many: "what color is the X?" for different X) are broken by a
per-question seeded random order, so the choice is reproducible and not biased to file order.
Examples about the very image being asked about are never picked: their answers would leak.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen.common.jsonio import iter_jsonl, read_json
from datagen.common.lazy import lazy_module
from datagen.errors import InputError
from datagen.records import placement_rng

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # only a run picking few-shot examples needs it

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Example:
    context: str
    question: str
    answer: str
    image_id: int | None = None


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _example(obj: Any, where: str) -> Example:
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected an object with context, question, answer")
    missing = [
        k for k in ("context", "question", "answer") if not isinstance(obj.get(k), str) or not obj[k].strip()
    ]
    if missing:
        raise InputError(
            f"{where}: missing or empty {', '.join(missing)}", hint="every example needs all three"
        )
    image_id = obj.get("image_id")
    return Example(
        obj["context"],
        obj["question"].strip(),
        obj["answer"].strip(),
        int(image_id) if image_id is not None else None,
    )


def load_examples(path: str | Path) -> list[Example]:
    """Read an examples pool (JSONL or a JSON array); a bad row is an error naming file and row."""
    p = Path(path)
    if p.suffix == ".json":
        data = read_json(p)
        if not isinstance(data, list):
            raise InputError(f"{p}: expected a JSON array of {{context, question, answer}} objects")
        pool = [_example(obj, f"{p}[{i}]") for i, obj in enumerate(data)]
    else:
        pool = [_example(obj, f"{p}:{line}") for line, obj in iter_jsonl(p)]
    if not pool:
        raise InputError(f"{p}: the examples file is empty")
    return pool


class ExamplePicker:
    """TF-IDF index over the pool's questions, built once, queried per question.

    Scores are accumulated from per-word postings arrays with numpy, so a query costs a few
    vectorised passes over the examples sharing its words (fast enough for all of VQA v2's 214K val
    questions against a pool of tens of thousands; see bench/vqa_picker.py).
    """

    def __init__(self, pool: list[Example]) -> None:
        self.pool = pool
        docs = [Counter(tokens(e.question)) for e in pool]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        n = len(pool)
        # Smoothed IDF (never zero, so a word shared by every question still counts a little).
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for i, d in enumerate(docs):
            vec = {t: c * self.idf[t] for t, c in d.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            for t, v in vec.items():
                postings[t][0].append(i)
                postings[t][1].append(v / norm)
        self.postings = {
            t: (np.asarray(ix, dtype=np.int64), np.asarray(w, dtype=np.float64))
            for t, (ix, w) in postings.items()
        }
        self.image_ids = np.asarray([-1 if e.image_id is None else e.image_id for e in pool], dtype=np.int64)

    def similarities(self, question: str) -> np.ndarray:
        """Cosine similarity of `question` to every pool question (TF-IDF vectors)."""
        q = Counter(tokens(question))
        vec = {t: c * self.idf[t] for t, c in q.items() if t in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        scores = np.zeros(len(self.pool))
        for t, v in vec.items():
            ix, w = self.postings[t]
            scores[ix] += w * (v / norm)
        return scores

    def pick(
        self, question: str, k: int, *, seed: int, key: str, exclude_image: int | None = None
    ) -> list[Example]:
        """The `k` most similar examples, most similar first; ties ordered by a (seed, key) shuffle."""
        if k <= 0:
            return []
        # Round so float noise between equal-looking questions does not decide a tie.
        scores = np.round(self.similarities(question), 9)
        if exclude_image is not None:
            scores[self.image_ids == exclude_image] = -1.0
        allowed = int((scores >= 0).sum())
        k = min(k, allowed)
        if k == 0:
            return []
        # Everything scoring at least the k-th best score is a candidate (ties at the boundary included).
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        cand = np.flatnonzero(scores >= kth)
        rng = np.random.default_rng(placement_rng(seed, f"shots:{key}").getrandbits(64))
        tiebreak = rng.random(len(self.pool))[cand]
        order = cand[np.lexsort((tiebreak, -scores[cand]))]
        return [self.pool[int(i)] for i in order[:k]]
