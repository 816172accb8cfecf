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
from typing import Any

from datagen.errors import InputError
from datagen.jsonio import iter_jsonl, read_json
from datagen.records import placement_rng

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
    """TF-IDF index over the pool's questions, built once, queried per question."""

    def __init__(self, pool: list[Example]) -> None:
        self.pool = pool
        docs = [Counter(tokens(e.question)) for e in pool]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        n = len(pool)
        # Smoothed IDF (never zero, so a word shared by every question still counts a little).
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
        # Inverted index: token -> [(example index, normalised weight)], so a query only touches
        # examples sharing a word with it.
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, d in enumerate(docs):
            vec = {t: c * self.idf[t] for t, c in d.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            for t, v in vec.items():
                self.postings[t].append((i, v / norm))

    def similarities(self, question: str) -> dict[int, float]:
        q = Counter(tokens(question))
        vec = {t: c * self.idf[t] for t, c in q.items() if t in self.idf}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        scores: dict[int, float] = defaultdict(float)
        for t, v in vec.items():
            for i, w in self.postings[t]:
                scores[i] += w * v / norm
        return scores

    def pick(
        self, question: str, k: int, *, seed: int, key: str, exclude_image: int | None = None
    ) -> list[Example]:
        """The `k` most similar examples, most similar first; ties ordered by a (seed, key) shuffle."""
        if k <= 0:
            return []
        scores = self.similarities(question)
        rng = placement_rng(seed, f"shots:{key}")
        tiebreak = [rng.random() for _ in self.pool]
        candidates = [
            i
            for i in range(len(self.pool))
            if exclude_image is None or self.pool[i].image_id != exclude_image
        ]
        # Round scores so float noise between equal-looking questions does not decide a tie.
        candidates.sort(key=lambda i: (-round(scores.get(i, 0.0), 9), tiebreak[i]))
        return [self.pool[i] for i in candidates[:k]]
