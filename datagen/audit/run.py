"""`run_audit`: the one entry point behind `datagen audit INPUT... --out DIR`.

inputs → ground truth → one pass of every check (`collect`) → figures per group → `DIR/audit.json`
(every figure), `DIR/flags.jsonl` (one line per sample: the words found, their categories, which are
absent from the image, count and box claims, hygiene problems, near-duplicate cluster) and
`DIR/report.html`. `--fail-on` conditions are checked against the overall headline figures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen import __version__
from datagen.audit import chair
from datagen.audit.collect import OVERALL, Collected, collect
from datagen.audit.gate import parse_fail_on, violations
from datagen.audit.inputs import Sample, load_inputs
from datagen.audit.neardup import summary as neardup_summary
from datagen.audit.truth import TruthSpec, load_truth
from datagen.common.jsonio import gc_paused, write_json_atomic, write_jsonl_atomic
from datagen.common.ray_cluster import ExecutorSpec
from datagen.errors import InputError
from datagen.tasks.neardup import MinHashSpec

AUDIT_JSON, FLAGS, REPORT = "audit.json", "flags.jsonl", "report.html"
HEADLINE = ["samples", "chair_i", "chair_s", "recall", "count_wrong", "box_unmatched", "hygiene",
            "near_dup", "yes_share", "distinct_2", "no_truth"]  # fmt: skip
WORST = 12  # examples of each kind in the report
CLUSTERS_KEPT = 50  # clusters listed in audit.json


@dataclass
class AuditOptions:
    minhash: MinHashSpec = field(default_factory=MinHashSpec)
    images: Path | None = None  # show the worst examples next to their images
    embed: bool = False
    html: bool = True
    seed: int = 0
    fail_on: str | None = None
    executor: ExecutorSpec | None = None  # --executor ray: the per-sample checks as a Ray Data job


@dataclass
class AuditResult:
    out: Path
    figures: dict[str, Any]
    written: list[Path]
    failed: list[str]


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def group_figures(c: Counter[str]) -> dict[str, Any]:
    n = c["samples"]
    hygiene = {k.split(":", 1)[1]: _ratio(v, n) for k, v in sorted(c.items()) if k.startswith("hygiene:")}
    return {
        "samples": n,
        **chair.figures(c),
        "count_claims": c["count_claims"],
        "count_wrong": _ratio(c["count_wrong"], c["count_claims"]),
        "box_claims": c["box_claims"],
        "box_unmatched": _ratio(c["box_unmatched"], c["box_claims"]),
        "hygiene": _ratio(c["with_hygiene"], n),
        "hygiene_by_rule": hygiene,
        "near_dup": _ratio(c["redundant"], n),
    }


def examples(col: Collected) -> dict[str, list[int]]:
    """uids of the worst samples of each kind, worst first."""
    flags = col.flags

    def top(score: Any) -> list[int]:
        scored = [(score(f), f["uid"]) for f in flags]
        return [uid for s, uid in sorted((s, u) for s, u in scored if s) if s][:WORST]

    def neg(value: int) -> int:
        return -value

    return {
        "hallucination": top(lambda f: neg(len((f.get("objects") or {}).get("absent", [])))),
        "count": top(lambda f: neg(sum(1 for x in f.get("counts", []) if x["verdict"] == "wrong"))),
        "box": top(
            lambda f: neg(sum(1 for x in f.get("boxes", []) if x["verdict"] in ("unmatched", "malformed")))
        ),
        "hygiene": top(lambda f: neg(len(f.get("hygiene", [])))),
        "near_dup": [uid for cluster in col.clusters[:WORST] for uid in cluster[:2]],
    }


def build_figures(samples: list[Sample], col: Collected, meta: dict[str, Any]) -> dict[str, Any]:
    assert col.balance is not None
    groups = {
        g: group_figures(c) for g, c in sorted(col.groups.items(), key=lambda kv: (kv[0] != OVERALL, kv[0]))
    }
    balance = col.balance.figures()
    overall = groups[OVERALL]
    headline = {k: overall.get(k) for k in HEADLINE}
    headline["yes_share"] = balance["yes_no"]["yes_share"]
    headline["distinct_2"] = balance["distinct_n"]["distinct_2"]
    headline["no_truth"] = _ratio(overall["no_truth"], overall["samples"])
    clusters = [
        {
            "size": len(c),
            "members": [{"uid": u, "key": samples[u].key, "input": samples[u].input} for u in c[:20]],
        }
        for c in col.clusters[:CLUSTERS_KEPT]
    ]
    return {
        "datagen_version": __version__,
        **meta,
        "headline": headline,
        "groups": groups,
        "hallucinated_categories": dict(col.hallucinated.most_common()),
        "hallucinated_words": dict(col.hallucinated_words.most_common(50)),
        "hygiene_problems": dict(col.hygiene_kinds.most_common()),
        "near_duplicates": {**neardup_summary(col.clusters, len(samples)), "top_clusters": clusters},
        "balance": balance,
        "examples": examples(col),
    }


def audit(
    paths: list[Path], truth_spec: TruthSpec, opts: AuditOptions
) -> tuple[dict[str, Any], Collected, list[Sample], Any]:
    """Read, check and count: (figures, collected outcomes, samples, ground truth). Writes nothing."""
    opts.minhash.check()
    # Millions of small acyclic objects (samples, mentions, LSH buckets): with the cyclic GC on,
    # CPython re-walks the growing heap again and again and the pass stops being linear. It stays
    # paused until the figures are built: re-enabled over that heap, one collection costs seconds.
    with gc_paused():
        samples, inputs = load_inputs(paths)
        truth = load_truth(truth_spec, inputs)
        if opts.executor is not None and opts.executor.is_ray:
            from datagen.audit.ray_collect import collect_ray

            col = collect_ray(samples, truth, opts.minhash, opts.seed, opts.executor)
        else:
            col = collect(samples, truth, opts.minhash, opts.seed)
        options = {"threshold": opts.minhash.threshold, "shingle": opts.minhash.shingle,
                   "num_perm": opts.minhash.num_perm, "seed": opts.seed}  # fmt: skip
        meta = {
            "inputs": [{"path": i.label, "samples": i.count} for i in inputs],
            "ground_truth": truth.sources,
            "options": options,
        }
        return build_figures(samples, col, meta), col, samples, truth


def run_audit(paths: list[Path], truth_spec: TruthSpec, out: Path, opts: AuditOptions) -> AuditResult:
    conditions = parse_fail_on(opts.fail_on, HEADLINE)  # a bad --fail-on stops before the work
    if out.exists() and not out.is_dir():
        raise InputError(
            f"--out {out}: is a file", hint="give a folder for audit.json, flags.jsonl and report.html"
        )
    with gc_paused():  # the audit's objects stay alive until its files are written
        figures, col, samples, truth = audit(paths, truth_spec, opts)
        out.mkdir(parents=True, exist_ok=True)
        written = [out / AUDIT_JSON, out / FLAGS]
        write_json_atomic(written[0], figures)
        write_jsonl_atomic(written[1], col.flags)
        if opts.html:
            from datagen.audit.report import write_report

            written.append(write_report(out / REPORT, figures, col, samples, truth, opts))
    return AuditResult(out, figures, written, violations(conditions, figures["headline"]))
