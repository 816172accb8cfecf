"""Summarise a generated dataset: the check after generation/export, before training on it.

`dataset_stats(inputs)` reads run dirs, `results.jsonl` files or LLaVA JSON arrays and reports
samples per task (next to LLaVA-Instruct-158K's published mix), turns per conversation,
question/answer length distributions in words, and, for run dirs, why samples were dropped:
failures by stage and filter drops by filter name (from `run.json` when it counts them, else
tallied from `failures.jsonl`), and with `--judge JUDGE_DIR` the judge's scores. The result is a plain dict, so `--json` prints it as is and the
table view is only presentation.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_jsonl
from datagen.records import IMAGE_TOKEN
from datagen.rundir.judged import load_judge_scores
from datagen.rundir.samples import is_run_dir, load_run_meta, load_samples
from datagen.rundir.store import FAILURES, RESULTS, latest_per_key
from datagen.tasks.dedupe import pairs_from_conversations, sample_key

# LLaVA-Instruct-158K as published: conversation_58k, detail_23k, complex_reasoning_77k.
LLAVA_158K_MIX: dict[str, int] = {
    "conversation": 58_000,
    "detail_description": 23_000,
    "complex_reasoning": 77_000,
}
UNTAGGED = "untagged"


def distribution(values: list[int]) -> dict[str, float | int]:
    """count, min, p10, median, p90, max, mean of a list of integers (nearest-rank percentiles)."""
    if not values:
        return {"count": 0}
    s = sorted(values)
    n = len(s)

    def pct(p: float) -> int:
        return s[min(n - 1, max(0, round(p * (n - 1))))]

    return {
        "count": n,
        "min": s[0],
        "p10": pct(0.10),
        "median": pct(0.50),
        "p90": pct(0.90),
        "max": s[-1],
        "mean": round(sum(s) / n, 1),
    }


def _filter_drops(path: Path) -> tuple[Counter[str], Counter[str]]:
    """(failures by stage, filter drops by filter name) for one run dir.

    `failures.jsonl` holds exactly the samples currently dropped (a re-run rewrites it), so it is
    tallied first; `run.json`'s per-invocation `filters` counts are the fallback when it is missing.
    """
    stages: Counter[str] = Counter()
    by_filter: Counter[str] = Counter()
    fail_file = path / FAILURES
    if fail_file.exists():
        # the latest line of a request key stands (a killed re-run may have appended a newer one)
        for row in latest_per_key(row for _, row in iter_jsonl(fail_file, tolerate_torn_tail=True)):
            stage = str(row.get("stage") or "unknown")
            stages[stage] += 1
            if stage == "filter":
                by_filter[str(row.get("filter") or "unknown")] += 1
        return stages, by_filter
    meta = load_run_meta(path)
    counts = meta.get("counts") if isinstance(meta.get("counts"), dict) else {}
    for holder, key in ((meta, "filters"), (counts, "filters"), (counts, "failed")):
        value = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(value, dict) and all(isinstance(v, int) for v in value.values()):
            (stages if key == "failed" else by_filter).update({str(k): v for k, v in value.items()})
    return stages, by_filter


def judge_summary(scored: dict[str, list[int]], unscored: Counter[str], judge: str | Path) -> dict[str, Any]:
    """Scores from a `datagen judge` directory: their spread overall and per task."""
    every = [v for vs in scored.values() for v in vs]
    return {
        "dir": str(judge),
        "scored": len(every),
        "not_scored": sum(unscored.values()),
        "mean": round(sum(every) / len(every), 2) if every else None,
        "scores": {str(k): every.count(k) for k in range(1, 11)},
        "tasks": {
            t: {
                "scored": len(scored.get(t, [])),
                "not_scored": unscored[t],
                "mean": round(sum(scored[t]) / len(scored[t]), 2) if scored.get(t) else None,
            }
            for t in sorted(set(scored) | set(unscored))
        },
    }


def dataset_stats(inputs: Iterable[str | Path], *, judge: str | Path | None = None) -> dict[str, Any]:
    """All statistics for the samples in `inputs`, as a JSON-ready dict (with `judge`, also the
    scores that `datagen judge` directory gave them)."""
    per_task: Counter[str] = Counter()
    turns: dict[str, Counter[int]] = defaultdict(Counter)
    q_words: dict[str, list[int]] = defaultdict(list)
    a_words: dict[str, list[int]] = defaultdict(list)
    stages: Counter[str] = Counter()
    drops: Counter[str] = Counter()
    seen_ids: set[str] = set()
    seen_text: set[str] = set()
    dup_ids = dup_text = 0
    paths = [Path(p) for p in inputs]
    scores = load_judge_scores(judge) if judge is not None else None
    scored: dict[str, list[int]] = defaultdict(list)
    unscored: Counter[str] = Counter()
    for path in paths:
        for rec in load_samples(path):
            task = str(rec.get("task") or UNTAGGED)
            per_task[task] += 1
            if scores is not None:
                score = scores.score(rec)
                if score is None:
                    unscored[task] += 1
                else:
                    scored[task].append(score)
            conv = rec["conversations"]
            # what docs/llava.md sends sharded runs here for: duplicates across concatenated files
            sid = rec.get("sample_id")
            if sid is not None:
                dup_ids += str(sid) in seen_ids
                seen_ids.add(str(sid))
            key = sample_key(task, pairs_from_conversations(conv))
            dup_text += key in seen_text
            seen_text.add(key)
            turns[task][len(conv) // 2] += 1
            for i in range(0, len(conv) - 1, 2):
                q = conv[i]["value"].replace(IMAGE_TOKEN, "")
                q_words[task].append(len(q.split()))
                a_words[task].append(len(conv[i + 1]["value"].split()))
        run_dir = path if path.is_dir() else path.parent  # a results.jsonl's folder is its run dir
        if is_run_dir(run_dir) and (path.is_dir() or path.name == RESULTS):
            s, d = _filter_drops(run_dir)
            stages.update(s)
            drops.update(d)
    total = sum(per_task.values())
    llava_total = sum(LLAVA_158K_MIX.values())
    tasks = sorted(
        per_task,
        key=lambda t: (
            t not in LLAVA_158K_MIX,
            list(LLAVA_158K_MIX).index(t) if t in LLAVA_158K_MIX else 0,
            t,
        ),
    )
    out = {
        "inputs": [str(p) for p in paths],
        "samples": total,
        "tasks": {
            t: {
                "samples": per_task[t],
                "share": round(per_task[t] / total, 4) if total else 0.0,
                "llava_158k_samples": LLAVA_158K_MIX.get(t),
                "llava_158k_share": round(LLAVA_158K_MIX[t] / llava_total, 4)
                if t in LLAVA_158K_MIX
                else None,
                "turns_per_conversation": {str(k): v for k, v in sorted(turns[t].items())},
                "question_words": distribution(q_words[t]),
                "answer_words": distribution(a_words[t]),
            }
            for t in tasks
        },
        "failures_by_stage": dict(sorted(stages.items())),
        "filter_drops": dict(sorted(drops.items(), key=lambda kv: (-kv[1], kv[0]))),
        "duplicates": {"same_sample_id": dup_ids, "same_text": dup_text},
    }
    if judge is not None:
        out["judge"] = judge_summary(scored, unscored, judge)
    return out
