"""The dataset card (`README.md`) written beside an HF export: what is in the data and where it came from.

Numbers (counts per task and split, turns, lengths) are computed from the exported records
themselves; the model and templates come from the records' provenance and each run's `run.json`;
the command line is recorded verbatim (it never holds a token: tokens only come from the
environment). Licence notes are facts about the sources, not legal advice.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from typing import Any

from datagen import __version__
from datagen.errors import redact
from datagen.records import IMAGE_TOKEN

_COCO_ID = re.compile(r"^\d{12}$")


def _words(text: str) -> int:
    return len(text.replace(IMAGE_TOKEN, " ").split())


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "mean": 0.0, "median": 0.0, "max": 0}
    return {
        "min": min(values),
        "mean": round(statistics.fmean(values), 1),
        "median": float(statistics.median(values)),
        "max": max(values),
    }


def card_stats(splits: dict[str, list[dict[str, Any]]], metas: list[dict[str, Any]]) -> dict[str, Any]:
    """The card's numbers: counts by split and task, rounds per sample, words per turn, provenance."""
    records = [r for recs in splits.values() for r in recs]
    tasks = Counter(r.get("task") or "(none)" for r in records)
    rounds = [len(r["conversations"]) // 2 for r in records]
    human = [_words(t["value"]) for r in records for t in r["conversations"] if t["from"] == "human"]
    gpt = [_words(t["value"]) for r in records for t in r["conversations"] if t["from"] == "gpt"]
    models: Counter[str] = Counter(str(r["model"]) for r in records if r.get("model"))
    hashes: set[str] = {str(r["template_hash"]) for r in records if r.get("template_hash")}
    sources: Counter[str] = Counter()
    for r in records:
        src = r.get("source")
        if src:
            sources[src if isinstance(src, str) else json.dumps(src, sort_keys=True)] += 1
    runs = []
    for meta in metas:
        if not meta:
            continue
        config: dict[str, Any] = meta["config"] if isinstance(meta.get("config"), dict) else {}
        model = config.get("model") or meta.get("model")
        if model and str(model) not in models:
            models[str(model)] = 0  # named by run.json only (records without provenance)
        th = meta.get("template_hashes") or config.get("template_hashes") or {}
        if isinstance(th, dict):
            hashes.update(str(v) for v in th.values())
        src = config.get("source") or meta.get("source")
        runs.append({"model": model, "version": meta.get("version"), "source": src})
    return {
        "total": len(records),
        "splits": {name: len(recs) for name, recs in splits.items()},
        "tasks": dict(sorted(tasks.items())),
        "rounds": _summary(rounds),
        "human_words": _summary(human),
        "gpt_words": _summary(gpt),
        "images": len({r.get("image") for r in records if r.get("image")}),
        "models": dict(models),
        "template_hashes": sorted(hashes),
        "sources": dict(sources),
        "runs": runs,
        "coco": sum(1 for r in records if _COCO_ID.match(str(r["id"]))),
        "cc3m": sum(1 for r in records if str(r["id"]).startswith("GCC_")),
    }


def _yaml_header(stats: dict[str, Any], fmt: str) -> str:
    lines = [
        "---",
        "license: other",
        "language:",
        "- en",
        "task_categories:",
        "- visual-question-answering",
        "- image-to-text",
        "tags:",
        "- datagen",
        "- llava",
    ]
    if fmt == "parquet":
        lines += ["configs:", "- config_name: default", "  data_files:"]
        for name in stats["splits"]:
            lines += [f"  - split: {name}", f"    path: data/{name}-*"]
    lines.append("---")
    return "\n".join(lines)


def _fmt_summary(s: dict[str, float]) -> str:
    return f"min {s['min']}, mean {s['mean']}, median {s['median']}, max {s['max']}"


def render_card(
    stats: dict[str, Any],
    *,
    command: str,
    fmt: str,
    embedded_images: bool,
    dropped: str = "",
    title: str = "datagen instruction data",
) -> str:
    """README.md text for the export folder."""
    out = [_yaml_header(stats, fmt), "", f"# {title}", ""]
    out.append(
        f"{stats['total']} multimodal instruction samples over {stats['images']} distinct images, "
        f"generated with datagen {__version__}."
    )
    out += ["", "## Contents", "", "| split | samples |", "|---|---:|"]
    out += [f"| {k} | {v} |" for k, v in stats["splits"].items()]
    out += ["", "| task | samples |", "|---|---:|"]
    out += [f"| {k} | {v} |" for k, v in stats["tasks"].items()]
    out += [
        "",
        f"- Question/answer rounds per sample: {_fmt_summary(stats['rounds'])}",
        f"- Words per question (human turn): {_fmt_summary(stats['human_words'])}",
        f"- Words per answer (gpt turn): {_fmt_summary(stats['gpt_words'])}",
        "- Images: "
        + ("embedded (`Image` feature)" if embedded_images else "relative file names (`image` column)"),
    ]
    if dropped:
        out.append(f"- Rows dropped at export: {dropped}")
    out += ["", "## How it was made", ""]
    models = ", ".join(f"`{m}`" for m in stats["models"]) or "not recorded (plain LLaVA JSON input)"
    out.append(f"- Model: {models}")
    hashes = ", ".join(f"`{h}`" for h in stats["template_hashes"]) or "not recorded"
    out.append(f"- Prompt templates (hashes): {hashes}")
    for src, n in stats["sources"].items():
        out.append(f"- Context source: `{src}` ({n} samples)")
    for run in stats["runs"]:
        if run.get("source"):
            out.append(f"- Run context source: `{run['source']}`")
    out += ["- Export command:", "", "```", redact(command), "```", "", "## Licence notes", ""]
    if stats["coco"]:
        out.append(
            "- COCO: the captions and object annotations are © the COCO Consortium, CC BY 4.0. "
            "The images belong to their Flickr authors under the licence recorded for each image "
            "in COCO's annotation files; they are not relicensed here."
        )
    if stats["cc3m"]:
        out.append(
            "- Conceptual Captions (CC3M): captions and URLs are provided by Google LLC and may be used "
            "for any purpose with attribution; the images are owned by their respective owners."
        )
    out.append(
        "- Generated text: written by the model(s) above; its use (including for training other models) "
        "is subject to the model provider's terms."
    )
    return "\n".join(out) + "\n"
