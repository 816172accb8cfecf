"""LLaVA-Bench's relative score of a pairwise judge run, with a bootstrap confidence interval.

The relative score is the mean score of B over the mean score of A, times 100 (LLaVA-Bench reports
a model's answers this way against GPT-4's). Its 95% interval comes from resampling the judged
pairs with replacement (`resamples` times, seeded) and taking the 2.5th and 97.5th percentiles of
the ratio. `pairwise.json` also says how often each side won and how the scores split by position,
so a judge that favours the first (or second) sample shows.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from datagen.rundir.store import RunStore

SUMMARY = "pairwise.json"


def relative_score(a: list[int], b: list[int]) -> float:
    return 100.0 * sum(b) / sum(a) if sum(a) else float("nan")


def bootstrap_interval(
    a: list[int], b: list[int], resamples: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of `relative_score` over pairs resampled with replacement."""
    rng = random.Random(seed)
    n = len(a)
    ratios = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        sa = sum(a[i] for i in idx)
        if sa:
            ratios.append(100.0 * sum(b[i] for i in idx) / sa)
    ratios.sort()
    lo = ratios[int((1 - level) / 2 * (len(ratios) - 1))]
    hi = ratios[int((1 + level) / 2 * (len(ratios) - 1))]
    return lo, hi


def summarise(rows: list[dict[str, Any]], resamples: int, seed: int) -> dict[str, Any]:
    a = [int(r["score_a"]) for r in rows]
    b = [int(r["score_b"]) for r in rows]
    first = [r["score_b"] if r["swapped"] else r["score_a"] for r in rows]
    second = [r["score_a"] if r["swapped"] else r["score_b"] for r in rows]
    lo, hi = bootstrap_interval(a, b, resamples, seed)
    return {
        "pairs": len(rows),
        "mean_a": round(sum(a) / len(a), 3),
        "mean_b": round(sum(b) / len(b), 3),
        "relative_score": round(relative_score(a, b), 2),
        "ci95": [round(lo, 2), round(hi, 2)],
        "bootstrap": {"resamples": resamples, "seed": seed},
        "wins": {
            "a": sum(x > y for x, y in zip(a, b, strict=True)),
            "b": sum(y > x for x, y in zip(a, b, strict=True)),
            "tie": sum(x == y for x, y in zip(a, b, strict=True)),
        },
        "swapped": sum(bool(r["swapped"]) for r in rows),
        "mean_by_position": {
            "first": round(sum(first) / len(first), 3),
            "second": round(sum(second) / len(second), 3),
        },
    }


def write_pairwise_summary(run: RunStore, a: str, b: str, resamples: int, seed: int) -> Path | None:
    """`RUN_DIR/pairwise.json` over every pair judged so far (None when none was)."""
    rows = [r for r in run.load_results() if "score_a" in r and "score_b" in r]
    if not rows:
        return None
    return run.write_side_json(SUMMARY, {"a": a, "b": b, **summarise(rows, resamples, seed)})


def summary_line(s: dict[str, Any]) -> str:
    lo, hi = s["ci95"]
    w = s["wins"]
    return (
        f"relative score of B to A: {s['relative_score']:.1f} (95% CI {lo:.1f}-{hi:.1f}, bootstrap over "
        f"{s['pairs']} pairs); mean score A {s['mean_a']:.2f}, B {s['mean_b']:.2f}; "
        f"B better {w['b']}, A better {w['a']}, ties {w['tie']}"
    )


def report_lines(run_dir: str | Path, *, pairwise: bool) -> list[str]:
    """What `datagen judge` prints after a run: the relative score, or how many samples were scored
    and their mean score; [] when the directory holds no verdict at all."""
    run = RunStore(run_dir)
    if pairwise:
        path = run.side_file(SUMMARY)
        if not path.is_file():
            return []
        import json

        summary = json.loads(path.read_text(encoding="utf-8"))
        return [summary_line(summary)]
    scores = [int(r["score"]) for r in run.load_results() if isinstance(r.get("score"), int)]
    if not scores:
        return []
    failed = len(run.load_failures())
    return [
        f"judge: {len(scores)} samples scored (mean score {sum(scores) / len(scores):.2f}), {failed} not scored "
        f"-> {run.results_path}"
    ]
