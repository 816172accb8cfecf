"""The steps of `datagen demo` after the contexts: what runs offline, what needs a model, the exports.

Offline (no key, no network): grounded QA for every bundled image, a dry run of every LLM task
(requests + token/cost estimate), and the exports (LLaVA JSON, HF dataset) of what was generated.
With `OPENAI_API_KEY` or `OPENAI_BASE_URL` set, a few real samples of each LLM task are generated
too, and the VQA answers are scored against the bundled demo annotations.

Each step returns the lines the command prints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from datagen.common.resources import data_root
from datagen.engine.jobs import build_jobs
from datagen.errors import ConfigError, RemoteError
from datagen.rundir.samples import is_run_dir, load_many
from datagen.tasks.base import Job, TaskOptions
from datagen.tasks.registry import get_task
from datagen.tasks.vqa.answer import VQAOptions

LLAVA_TASKS = ["conversation", "detail_description", "complex_reasoning"]
VQA_TASKS = ["vqa_answer", "img2llm_qa"]
LIVE_IMAGES = 2  # images (and their questions) per LLM task in the live part


def demo_questions() -> Path:
    return data_root() / "vqa" / "questions_val2017.json"


def demo_annotations() -> Path:
    return data_root() / "vqa" / "annotations_val2017.json"


def demo_options(seed: int = 0) -> TaskOptions:
    return TaskOptions(seed=seed, task_options=[VQAOptions(questions=str(demo_questions()))])


def live_requested() -> bool:
    return bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


def grounded(records: list[dict[str, Any]], run_dir: Path) -> list[str]:
    """grounded_qa over every record (no model); prints the first image's questions."""
    from datagen.engine.runner import run_direct

    task = get_task("grounded_qa")
    stats = run_direct(task, records, TaskOptions(), run_dir)
    lines = [f"{stats.ok} samples, {sum(stats.failed.values())} failed -> {run_dir / 'results.jsonl'}"]
    pairs = task.direct_pairs(records[0], TaskOptions())
    lines += [f"  Q: {q}\n     A: {a}" for q, a in pairs[:4]]
    return lines


def llm_jobs(records: list[dict[str, Any]], opts: TaskOptions) -> tuple[list[Job], list[str]]:
    """Jobs of every LLM task; a task whose optional dependency is missing is left out with a note."""
    jobs: list[Job] = []
    notes: list[str] = []
    for name in LLAVA_TASKS + VQA_TASKS:
        try:
            jobs += build_jobs([name], opts, lambda: records).jobs
        except ConfigError as e:  # e.g. img2llm_qa without spaCy
            notes.append(f"{name} left out: {e}")
    return jobs, notes


def exports(run_dirs: list[Path], out: Path) -> list[str]:
    """LLaVA JSON and an HF dataset (one split per task) of everything generated."""
    lines: list[str] = []
    inputs: list[str | Path] = [d for d in run_dirs if is_run_dir(d)]
    from datagen.export import hf as export_hf
    from datagen.export.hf_write import write_export
    from datagen.export.llava import export_llava

    summary = export_llava(inputs, out / "llava_instruct.json", overwrite=True)  # a re-run replaces its own
    lines.append(f"LLaVA JSON: {summary.total} samples -> {out / 'llava_instruct.json'}")
    from datagen.export.card import card_renderer

    plan = export_hf.plan_export(export_hf.read_inputs(inputs), by_task=True)
    card = card_renderer(
        command=f"datagen demo --out {out}",
        fmt="arrow",
        embedded_images=False,
        contexts=out / "contexts.jsonl",
    )
    counts, _ = write_export(plan, out / "hf_dataset", fmt="arrow", overwrite=True, card_text=card)
    splits = ", ".join(f"{k} {v}" for k, v in counts.items())
    lines.append(f"HF dataset ({splits}) -> {out / 'hf_dataset'} (datasets.load_from_disk)")
    return lines


def summary(run_dirs: list[Path], requests: int, requests_path: Path) -> str:
    """One line: how many samples of which task were generated, and what is ready to send."""
    from collections import Counter

    inputs: list[str | Path] = [d for d in run_dirs if is_run_dir(d)]
    per_task = Counter(str(r.get("task")) for r in load_many(inputs)) if inputs else Counter()
    made = ", ".join(f"{t} {n}" for t, n in sorted(per_task.items())) or "none"
    return f"Summary: {sum(per_task.values())} samples generated ({made}); {requests} requests ready in {requests_path}"


def zero_samples_why(store: Any) -> list[str]:
    """Why a live task got no sample: its most common failure reason and the file listing them all."""
    from datagen.engine.nextsteps import top_reasons

    failures = store.load_failures()
    if not failures:
        return ["  no sample and no failure recorded (nothing was sent)"]
    (kind, count, example), *_ = top_reasons(failures, 1)
    return [
        f"  why: {count} of {len(failures)} failed with {kind} (e.g. {example}); see {store.failures_path}"
    ]


def live(records: list[dict[str, Any]], out: Path, model: str) -> list[str]:
    """A few real samples of each LLM task, VQA answers scored against the demo annotations."""
    from datagen.engine.runner import EngineConfig, run_jobs
    from datagen.rundir.store import RunStore
    from datagen.tasks.vqa.accuracy import load_annotations, load_results, score

    subset = records[:LIVE_IMAGES]
    lines: list[str] = []
    cfg = EngineConfig(model=model, concurrency=4, quiet=True)
    for name in LLAVA_TASKS + VQA_TASKS:
        opts = demo_options()
        task = get_task(name)
        try:
            jobs = build_jobs({name: task}, opts, lambda: subset).jobs
        except ConfigError as e:
            lines.append(f"{name}: left out ({e})")
            continue
        run_dir = out / "live" / name
        try:
            stats = run_jobs(task, jobs, opts, cfg, run_dir)
        except (RemoteError, ConfigError) as e:
            # unreachable server, refused key, unknown model: the offline steps are still worth showing
            lines.append(f"live generation stopped: {e}")
            break
        task.after_run(RunStore(run_dir))
        lines.append(f"{name}: {stats.ok} samples, {sum(stats.failed.values())} failed -> {run_dir}")
        if stats.ok == 0:
            lines += zero_samples_why(RunStore(run_dir))
        results = run_dir / "vqa_results.json"
        if results.exists():
            s = score(load_results(results), load_annotations(demo_annotations()))
            lines.append(f"  VQA accuracy on the {s.answered} demo questions answered: {s.overall:.2f}")
    return lines
