"""Audit check: balance of what was asked and answered.

- yes/no: answers whose first word is "yes" or "no" (Vision-Flan found instruction sets lean on
  "yes"); the share of yes among them and the share of such answers among all;
- question types: the first two words of each human turn ("what is", "how many", "is there");
- answer length in words, as a distribution and a histogram;
- distinct-1/2/3 of the answers (unique n-grams / all n-grams), over a seeded random sample of at most
  `DISTINCT_SAMPLE` samples: distinct-n falls as a corpus grows, so a fixed sample size keeps the
  figure comparable between a 5K run and LLaVA-Instruct's 158K;
- task mix next to LLaVA-Instruct-158K's published 58K / 23K / 77K.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from typing import Any

import numpy as np

from datagen.review.stats import LLAVA_158K_MIX, distribution

DISTINCT_SAMPLE = 10_000
TOP_QUESTION_TYPES = 20
_PUNCTUATION = (".", ",", ";", ":", "!", "?")
LENGTH_BINS = [0, 5, 10, 20, 40, 60, 80, 100, 150, 200, 300, 500]


class Balance:
    def __init__(self, n_samples: int, seed: int = 0) -> None:
        k = min(n_samples, DISTINCT_SAMPLE)
        self._distinct_uids = set(random.Random(seed).sample(range(n_samples), k))
        self.distinct_sampled = k
        self.yes = self.no = self.answers = 0
        self.questions: Counter[str] = Counter()
        self.lengths: list[int] = []
        self.tasks: Counter[str] = Counter()
        # distinct-n over token ids: n-gram codes packed in int64 (ids < 2^21), counted with numpy
        self._vocab: dict[str, int] = {}
        self._next = itertools.count()
        self._codes: list[list[np.ndarray]] = [[], [], []]

    def add(self, uid: int, task: str, human: list[list[str]], model: list[list[str]]) -> None:
        """One sample: its human turns' tokens and its model turns' tokens (from `tokenize`)."""
        self.tasks[task] += 1
        for q in human:
            words = [t for t in q if t.isalnum() and t != "image"][:2]
            if words:
                self.questions[" ".join(words)] += 1
        sampled = uid in self._distinct_uids
        for tokens in model:
            self.answers += 1
            if tokens:
                if tokens[0] == "yes":
                    self.yes += 1
                elif tokens[0] == "no":
                    self.no += 1
            # Tokens are words, numbers or one punctuation mark each: count the marks at C speed.
            self.lengths.append(len(tokens) - sum(map(tokens.count, _PUNCTUATION)))
            if not sampled:
                continue
            words = [t for t in tokens if t not in _PUNCTUATION]
            if words:
                ids = np.fromiter(map(self._vocab.setdefault, words, self._next), dtype=np.int64)
                self._codes[0].append(ids)
                self._codes[1].append((ids[:-1] << 21) | ids[1:])
                self._codes[2].append((ids[:-2] << 42) | (ids[1:-1] << 21) | ids[2:])

    def _distinct(self, n: int) -> float | None:
        codes = np.concatenate(self._codes[n]) if self._codes[n] else np.zeros(0, dtype=np.int64)
        return round(len(np.unique(codes)) / len(codes), 4) if len(codes) else None

    def figures(self) -> dict[str, Any]:
        yn = self.yes + self.no
        total_q = sum(self.questions.values())
        top = self.questions.most_common(TOP_QUESTION_TYPES)
        n_tasks = sum(self.tasks.values())
        llava_total = sum(LLAVA_158K_MIX.values())
        edges = np.searchsorted(
            np.array(LENGTH_BINS[1:]), np.array(self.lengths, dtype=np.int64), side="right"
        )
        labels = [f"{lo}-{hi - 1}" for lo, hi in zip(LENGTH_BINS, LENGTH_BINS[1:], strict=False)]
        labels.append(f"{LENGTH_BINS[-1]}+")
        per_bin = np.bincount(edges, minlength=len(labels))
        hist = {label: int(c) for label, c in zip(labels, per_bin, strict=True) if c}  # in bin order
        return {
            "yes_no": {
                "yes": self.yes,
                "no": self.no,
                "yes_share": round(self.yes / yn, 4) if yn else None,
                "yes_no_answer_share": round(yn / self.answers, 4) if self.answers else None,
            },
            "question_types": {
                "top": [{"first_words": q, "count": c, "share": round(c / total_q, 4)} for q, c in top],
                "distinct": len(self.questions),
                "questions": total_q,
            },
            "answer_words": {**distribution(self.lengths), "histogram": dict(hist)},
            "distinct_n": {f"distinct_{n + 1}": self._distinct(n) for n in range(3)}
            | {"samples": self.distinct_sampled},
            "task_mix": {
                t: {
                    "samples": c,
                    "share": round(c / n_tasks, 4),
                    "llava_158k_share": round(LLAVA_158K_MIX[t] / llava_total, 4)
                    if t in LLAVA_158K_MIX
                    else None,
                }
                for t, c in sorted(self.tasks.items())
            },
        }
