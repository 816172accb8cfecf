"""Exact-duplicate detection, the one quality filter that needs state across a whole run.

A `DuplicateTracker` keys every accepted sample by a digest of what the model wrote (per task) and
rejects a later sample with the same key. Its `check` method has the filter signature
`(pairs, job) -> reason | None` and runs after the per-sample filters of `datagen/tasks/filters.py`;
`seed(records)` / `seed_later(load)` teach it the samples a previous run already wrote, so resuming
does not let duplicates of earlier results through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from datagen.records import IMAGE_TOKEN

if TYPE_CHECKING:
    from datagen.tasks.base import Job

QAPairs = list[tuple[str, str]]
DUPLICATE = "duplicate"


def sample_key(task: str, pairs: QAPairs) -> str:
    """A digest of what the model wrote for a sample (exact text, outer whitespace ignored), per task.

    For detail descriptions only the description counts: the question is ours, drawn at random.
    """
    if task == "detail_description":
        parts = [task, *(a.strip() for _q, a in pairs)]
    else:
        parts = [task, *(t.strip() for qa in pairs for t in qa)]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def pairs_from_conversations(conversations: list[dict[str, Any]]) -> QAPairs:
    """A LLaVA record's turns back to (question, answer) pairs, with the `<image>` token removed."""
    pairs: QAPairs = []
    for i in range(0, len(conversations) - 1, 2):
        q = conversations[i]["value"].replace(IMAGE_TOKEN, "").strip()
        pairs.append((q, conversations[i + 1]["value"]))
    return pairs


class DuplicateTracker:
    """Remembers every accepted sample's key; `check` rejects a sample identical to an earlier one.

    Call `check` last (after the per-sample filters), since it records the sample as seen.
    Samples of an earlier run can be given now (`seed`) or as a loader called on the first `check`
    (`seed_later`): a resumed run with nothing left to judge then never reads `results.jsonl`.
    """

    name = DUPLICATE

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        self._pending: Callable[[], Iterable[dict[str, Any]]] | None = None

    def seed(self, records: Iterable[dict[str, Any]]) -> int:
        """Learn samples already in `results.jsonl` (on resume); returns how many were new keys."""
        added = 0
        for rec in records:
            task = str(rec.get("task", ""))
            key = sample_key(task, pairs_from_conversations(rec.get("conversations") or []))
            if key not in self._seen:
                self._seen[key] = str(rec.get("sample_id") or rec.get("id"))
                added += 1
        return added

    def seed_later(self, load: Callable[[], Iterable[dict[str, Any]]]) -> None:
        """Like `seed`, but call `load()` only when the tracker is first used."""
        self._pending = load

    def _load_pending(self) -> None:
        if self._pending is not None:
            load, self._pending = self._pending, None
            self.seed(load())

    def check(self, pairs: QAPairs, job: Job) -> str | None:
        if self._pending is not None:
            self._load_pending()
        key = sample_key(job.task, pairs)
        first = self._seen.get(key)
        if first is not None and first != job.sample_id:
            return f"exact duplicate of sample {first}"
        self._seen[key] = job.sample_id
        return None

    def __len__(self) -> int:
        self._load_pending()
        return len(self._seen)
