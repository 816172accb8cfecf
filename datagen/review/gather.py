"""Review step 1: gather what a review page shows, from a run dir, a results.jsonl or a LLaVA JSON file.

Generated records carry the conversation but not the context it was generated from, so captions and
boxes are looked up separately (context JSONL files, by `id` then by image name). Failures come from
the run's `failures.jsonl`; run-level facts (filter counts, model, template hashes) from `run.json`.
Nothing here touches images or HTML: the result is a list of `Card`s plus a `Summary`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_jsonl
from datagen.errors import InputError
from datagen.records import llava_record_problems
from datagen.rundir.judged import SCORE_FIELDS, load_judge_scores
from datagen.rundir.samples import load_run_meta, load_samples
from datagen.rundir.store import FAILURES, RESULTS

NO_TASK = "unknown"
# Fields every generated record has; anything else that is a short string is shown as "extra".
_KNOWN_FIELDS = {
    "id", "image", "task", "sample_id", "conversations", "model", "template_hash", "usage", "request_key",
}  # fmt: skip


@dataclass
class Card:
    """One thing to review: a generated sample, or (with failures included) a failed/filtered one."""

    key: str  # the id written to the rejected list: `sample_id` when present (one task's sample), else `id`
    id: str
    task: str
    image: str | None
    kind: str = "sample"  # "sample" | "failure"
    conversations: Any = None
    problems: list[str] = field(default_factory=list)  # LLaVA loader rules this record breaks
    extra: dict[str, str] = field(default_factory=dict)  # task-specific text fields (e.g. source_text)
    provenance: dict[str, str] = field(default_factory=dict)
    failure: dict[str, Any] = field(default_factory=dict)  # stage, reason, filter, attempts, raw
    context: dict[str, Any] | None = None


@dataclass
class Summary:
    """What the page header says about the whole input (counted before `--sample`)."""

    source: str
    samples_by_task: Counter[str] = field(default_factory=Counter)
    failures_by_task_stage: Counter[tuple[str, str]] = field(default_factory=Counter)
    filter_drops: dict[str, int] = field(default_factory=dict)
    filter_counts_from: str = ""  # "run.json" or "failures.jsonl"
    models: list[str] = field(default_factory=list)
    template_hashes: dict[str, str] = field(default_factory=dict)  # task (or name) -> hash
    invalid_records: int = 0
    shown_samples: int = 0
    shown_failures: int = 0
    contexts_found: int = 0
    contexts_missing: int = 0
    context_note: str = ""  # contexts rebuilt from run.json's recorded source, or why that failed
    judge_note: str = ""  # with --judge: how many samples were scored, and their mean score


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _sample_card(rec: dict[str, Any]) -> Card:
    rid = _as_text(rec.get("id"))
    sample_id = rec.get("sample_id")
    image = rec.get("image")
    card = Card(
        key=sample_id if isinstance(sample_id, str) and sample_id else rid,
        id=rid,
        task=_as_text(rec.get("task")) or NO_TASK,
        image=image if isinstance(image, str) else None,
        conversations=rec.get("conversations"),
        problems=llava_record_problems(rec),
    )
    for k, v in rec.items():
        if k not in _KNOWN_FIELDS and isinstance(v, str) and v.strip():
            card.extra[k] = v
    for k in ("model", "template_hash"):
        if rec.get(k):
            card.provenance[k] = _as_text(rec[k])
    usage = rec.get("usage")
    if isinstance(usage, dict):
        tokens = [usage.get(k) for k in ("prompt_tokens", "completion_tokens")]
        if all(isinstance(t, int) for t in tokens):
            card.provenance["tokens"] = f"{tokens[0]} in / {tokens[1]} out"
        elif isinstance(usage.get("total_tokens"), int):
            card.provenance["tokens"] = str(usage["total_tokens"])
    return card


def _failure_card(rec: dict[str, Any]) -> Card:
    rid = _as_text(rec.get("id"))
    sample_id = _as_text(rec.get("sample_id"))
    task = _as_text(rec.get("task")) or (sample_id.split(":", 1)[0] if ":" in sample_id else NO_TASK)
    image = rec.get("image")
    return Card(
        key=sample_id or rid,
        id=rid,
        task=task,
        image=image if isinstance(image, str) else None,
        kind="failure",
        failure={k: rec.get(k) for k in ("stage", "reason", "filter", "attempts", "raw") if k in rec},
    )


def _add_scores(cards: list[Card], records: list[dict[str, Any]], judge: str | Path) -> str:
    """Show each sample's judge verdict on its card; returns the summary line."""
    scores = load_judge_scores(judge)
    found = []
    for card, rec in zip(cards, records, strict=True):
        hit = scores.lookup(rec)
        if hit is None:
            continue
        found.append(int(hit["score"]))
        subs = ", ".join(f"{k} {hit[k]}" for k in SCORE_FIELDS if isinstance(hit.get(k), int))
        card.extra["judge"] = (
            f"{hit['score']}/10" + (f" ({subs})" if subs else "") + f": {hit.get('reason', '')}"
        )
    mean = f", mean score {sum(found) / len(found):.2f}" if found else ""
    return f"{len(found)} of {len(cards)} samples scored{mean} ({judge})"


def read_failures(path: Path, done_keys: set[str]) -> list[Card]:
    """Failures still standing: the last entry per sample, minus samples a later re-run produced."""
    latest: dict[str, Card] = {}
    for line, rec in iter_jsonl(path, tolerate_torn_tail=True):
        card = _failure_card(rec)
        if not card.key:
            raise InputError(f"{path}:{line}: failure record has neither 'sample_id' nor 'id'")
        latest.pop(card.key, None)  # re-insert so order follows the latest attempt
        latest[card.key] = card
    return [c for k, c in latest.items() if k not in done_keys]


def _filter_drops(meta: dict[str, Any], failures: list[Card]) -> tuple[dict[str, int], str]:
    """Filter drops by filter name. failures.jsonl holds the standing state of the run dir (a resume
    rewrites it), so it wins; run.json's counts (`filter_counts`, or the engine's `filters`) are the
    fallback when the failures file has no filter entries (e.g. it was not kept)."""
    tally: Counter[str] = Counter()
    for c in failures:
        if c.failure.get("stage") == "filter":
            tally[_as_text(c.failure.get("filter")) or _as_text(c.failure.get("reason")) or "?"] += 1
    if tally:
        return dict(tally), "failures.jsonl"
    for key in ("filter_counts", "filters"):
        counts = meta.get(key)
        if isinstance(counts, dict) and counts and all(isinstance(v, int) for v in counts.values()):
            return {str(k): v for k, v in counts.items() if v}, "run.json"
    return {}, ""


def _meta_models_and_hashes(meta: dict[str, Any], cards: list[Card]) -> tuple[list[str], dict[str, str]]:
    models: list[str] = []
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    for m in (meta.get("model"), config.get("model") if config else None):
        if isinstance(m, str) and m and m not in models:
            models.append(m)
    hashes: dict[str, str] = {}
    th = meta.get("template_hashes")
    if isinstance(th, dict):
        hashes.update({str(k): _as_text(v) for k, v in th.items()})
    for c in cards:
        m = c.provenance.get("model")
        if m and m not in models:
            models.append(m)
        h = c.provenance.get("template_hash")
        if h and c.task not in hashes:
            hashes[c.task] = h
    return models, hashes


RUN_CONTEXTS = "contexts.jsonl"  # context records a user (or a script) kept beside the run


def read_contexts(
    paths: Iterable[Path],
    wanted_ids: set[str],
    wanted_images: set[str],
    records: Iterable[dict[str, Any]] = (),
) -> dict[str, dict]:
    """Context records matching the cards, keyed by `id:<id>` and `image:<name>` (first source wins).

    Files are streamed and only matching records kept, so a train2017-sized contexts file is fine.
    `records` (already built, e.g. from COCO annotation files) are searched after the files.
    """
    out: dict[str, dict] = {}

    def keep(rec: dict[str, Any], where: str) -> None:
        rid, image = _as_text(rec.get("id")), _as_text(rec.get("image"))
        if f"id:{rid}" in out or (rid not in wanted_ids and image not in wanted_images):
            return
        if not isinstance(rec.get("captions", []), list) or not isinstance(rec.get("boxes", []), list):
            raise InputError(f"{where}: not a context record ('captions'/'boxes' must be lists)")
        if rid:
            out[f"id:{rid}"] = rec
        if image:
            out.setdefault(f"image:{image}", rec)

    for path in paths:
        for line, rec in iter_jsonl(path, tolerate_torn_tail=True):
            keep(rec, f"{path}:{line}")
    for i, rec in enumerate(records):
        keep(rec, f"context record {i}")
    return out


def _attach(cards: list[Card], by_key: dict[str, dict]) -> None:
    """Give each card still without a context its record (by id, then image name); a failure
    without an image name takes the context's."""
    for c in cards:
        if c.context is not None:
            continue
        c.context = by_key.get(f"id:{c.id}") or (by_key.get(f"image:{c.image}") if c.image else None)
        if c.image is None and c.context and isinstance(c.context.get("image"), str):
            c.image = c.context["image"]


def pick(cards: list[Card], n: int | None, rng: random.Random) -> list[Card]:
    """A seeded random subset of `n` cards, kept in file order."""
    if n is None or n >= len(cards):
        return cards
    keep = set(rng.sample(range(len(cards)), n))
    return [c for i, c in enumerate(cards) if i in keep]


def gather(
    input_path: str | Path,
    *,
    sample: int | None = None,
    seed: int = 0,
    include_failures: bool = False,
    contexts: list[Path] | tuple[Path, ...] = (),
    context_records: Iterable[dict[str, Any]] = (),
    judge: str | Path | None = None,
) -> tuple[list[Card], Summary]:
    """Cards to show (sampled) and the summary of everything in the input (with `judge`, each
    sample's score from that `datagen judge` directory)."""
    p = Path(input_path)
    if sample is not None and sample < 1:
        raise InputError(f"--sample must be at least 1, got {sample}")
    records = load_samples(p, validate=False)
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputError(f"{p}[{i}]: expected a JSON object (a LLaVA record), got {type(rec).__name__}")
    samples = [_sample_card(r) for r in records]
    meta = load_run_meta(p)
    run_dir = p if p.is_dir() else p.parent
    fail_path = run_dir / FAILURES
    is_run = (p.is_dir() or p.name == RESULTS) and fail_path.exists()
    failures = read_failures(fail_path, {c.key for c in samples}) if is_run else []

    summary = Summary(source=str(p))
    summary.samples_by_task.update(c.task for c in samples)
    summary.failures_by_task_stage.update((c.task, _as_text(c.failure.get("stage")) or "?") for c in failures)
    summary.filter_drops, summary.filter_counts_from = _filter_drops(meta, failures)
    summary.models, summary.template_hashes = _meta_models_and_hashes(meta, samples)
    summary.invalid_records = sum(1 for c in samples if c.problems)
    if judge is not None:
        summary.judge_note = _add_scores(samples, records, judge)

    rng = random.Random(seed)
    shown = pick(samples, sample, rng)
    shown_failures = pick(failures, sample, rng) if include_failures else []
    summary.shown_samples, summary.shown_failures = len(shown), len(shown_failures)
    cards = shown + shown_failures

    beside = run_dir / RUN_CONTEXTS
    in_run = (p.is_dir() or p.name == RESULTS) and beside.is_file()
    files = [*contexts, *([beside] if in_run else [])]
    by_key = read_contexts(files, {c.id for c in cards}, {c.image for c in cards if c.image}, context_records)
    images_by_id = {c.id: c.image for c in samples if c.image}
    for c in cards:
        if c.image is None:  # failure records name the id, not the image: other tasks' samples know it
            c.image = images_by_id.get(c.id)
    _attach(cards, by_key)
    if any(c.context is None for c in cards) and meta:
        # Still missing: rebuild from the source `generate` recorded (may read a whole COCO split).
        from datagen.review.runsource import load_run_contexts

        records, summary.context_note = load_run_contexts(meta, run_dir)
        _attach(cards, read_contexts((), {c.id for c in cards}, {c.image for c in cards if c.image}, records))
    summary.contexts_found = sum(1 for c in cards if c.context)
    summary.contexts_missing = len(cards) - summary.contexts_found
    return cards, summary
