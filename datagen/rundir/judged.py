"""A judge directory (`datagen judge ... --out JUDGE_DIR`) read back: each sample's score, by sample.

Step in the flow: `datagen judge` writes one line per judged sample to `JUDGE_DIR/results.jsonl`
(`judged`: the sample's key, `content`: a digest of its conversation, `score` 1-10, sub-scores and
a reason). `export --min-judge-score N --judge JUDGE_DIR`, `stats --judge` and `review --judge`
look each sample's score up here.

A sample's key is its `sample_id` (one task's sample of one image), or, for records without one
(LLaVA JSON arrays, where several tasks share an image id), its `id` plus a digest of its
conversation. Lookups also fall back to (`id`, conversation digest), so a score given to a run
directory's sample still finds the same sample exported to LLaVA JSON, and back.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_jsonl
from datagen.errors import InputError
from datagen.rundir.store import RESULTS

SCORE_FIELDS = ("accuracy", "helpfulness", "grounding")


def content_digest(rec: dict[str, Any]) -> str:
    """12 hex chars over the turns' text (what was judged), the same whichever file holds the sample."""
    turns = [[str(t.get("from")), str(t.get("value"))] for t in rec.get("conversations") or []]
    return hashlib.blake2b(json.dumps(turns, ensure_ascii=False).encode(), digest_size=6).hexdigest()


def judged_key(rec: dict[str, Any]) -> str:
    """The key a judge gives a sample: its sample_id, else `<id>@<conversation digest>`."""
    sid = rec.get("sample_id")
    if isinstance(sid, str) and sid:
        return sid
    return f"{rec.get('id')}@{content_digest(rec)}"


@dataclass
class JudgeScores:
    """The scores of one judge directory, looked up per sample."""

    path: Path
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_content: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.by_key)

    def lookup(self, rec: dict[str, Any]) -> dict[str, Any] | None:
        """The judge's line for `rec`, or None when it was not judged (or not successfully)."""
        hit = self.by_key.get(judged_key(rec))
        if hit is None:
            hit = self.by_content.get((str(rec.get("id")), content_digest(rec)))
        return hit

    def score(self, rec: dict[str, Any]) -> int | None:
        hit = self.lookup(rec)
        return int(hit["score"]) if hit is not None else None


def load_judge_scores(judge_dir: str | Path) -> JudgeScores:
    """Read `JUDGE_DIR/results.jsonl`; a folder that is not a judge directory is an InputError."""
    d = Path(judge_dir)
    path = d / RESULTS if d.is_dir() else d
    if not path.is_file():
        raise InputError(
            f"--judge {judge_dir}: no {RESULTS} there", hint="pass the --out folder of `datagen judge`"
        )
    scores = JudgeScores(path)
    for line, row in iter_jsonl(path, tolerate_torn_tail=True):
        if "score_a" in row:
            raise InputError(
                f"{path}:{line}: a pairwise comparison, not a per-sample score",
                hint="filter by the scores of `datagen judge INPUT ...` (without --pairwise)",
            )
        if not isinstance(row.get("judged"), str) or not isinstance(row.get("score"), int):
            raise InputError(f"{path}:{line}: not a judge result (needs 'judged' and an integer 'score')")
        scores.by_key[row["judged"]] = row
        if row.get("content"):
            scores.by_content[(str(row.get("id")), str(row["content"]))] = row
    return scores
