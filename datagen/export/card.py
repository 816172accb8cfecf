"""The dataset card (`README.md`) written beside an HF export: what is in the data and where it came from.

Numbers (counts per task and split, turns, lengths) are computed from the exported records
themselves (`card_stats.py`); the model and templates come from the records' provenance and each run's `run.json`;
the command line is recorded verbatim (it never holds a token: tokens only come from the
environment). Licence notes are facts about the sources, not legal advice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from datagen import __version__
from datagen.errors import redact
from datagen.export.card_stats import add_context_sources, card_stats


def _yaml_header(data_files: dict[str, str] | None) -> str:
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
    if data_files:
        # The patterns name the export's fingerprint: `datasets` keys its cache on them.
        lines += ["configs:", "- config_name: default", "  data_files:"]
        for name, pattern in data_files.items():
            lines += [f"  - split: {name}", f"    path: {pattern}"]
    lines.append("---")
    return "\n".join(lines)


def _fmt_summary(s: dict[str, float]) -> str:
    return f"min {s['min']}, mean {s['mean']}, median {s['median']}, max {s['max']}"


def _run_line(run: dict[str, Any]) -> str:
    """One generation run from its run.json: model, version, sampling, tokens, cost, context source."""
    parts = [f"model `{run['model']}`" if run.get("model") else "model not recorded"]
    if run.get("version"):
        parts.append(f"datagen {run['version']}")
    if run.get("temperature") is not None:
        parts.append(f"temperature {run['temperature']}")
    if run.get("prompt_tokens") is not None:
        parts.append(f"{run['prompt_tokens']} prompt + {run.get('completion_tokens') or 0} completion tokens")
    vision = run.get("vision")
    if vision:  # runs from before --image-input record nothing: say nothing
        parts.append(_vision_words(vision))
    cost = run.get("cost_usd")
    parts.append(f"estimated cost ${cost:.4f}" if isinstance(cost, (int, float)) else "cost not estimated")
    src = run.get("source")
    if isinstance(src, dict):
        # Only file names: local folders say nothing to a reader of the card.
        named = {k: Path(v).name if isinstance(v, str) and "/" in v else v for k, v in src.items()}
        parts.append("context from " + ", ".join(f"{k}={v}" for k, v in named.items()))
    elif src:
        parts.append(f"context from {src}")
    return "; ".join(parts)


def _vision_words(v: dict[str, Any]) -> str:
    """Whether a run's model saw the images, and how they were sent."""
    mode = v.get("mode") or "none"
    if mode == "none":
        return "text only (the model read the captions and boxes, not the image)"
    how = [f"{mode}"]
    if mode == "base64":
        how.append(f"{v.get('format') or 'jpeg'} quality {v.get('quality')}")
        how.append(f"longer side at most {v['max_side']} px" if v.get("max_side") else "original size")
    if v.get("detail"):
        how.append(f"detail {v['detail']}")
    return "the model saw each image (" + ", ".join(how) + ")"


def render_card(
    stats: dict[str, Any],
    *,
    command: str,
    fmt: str,
    embedded_images: bool,
    dropped: str = "",
    title: str = "datagen instruction data",
    data_files: dict[str, str] | None = None,
) -> str:
    """README.md text for the export folder; `data_files` maps each split to its files' pattern."""
    out = [_yaml_header(data_files), "", f"# {title}", ""]
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
        f"- Characters per question (human turn, `<image>` not counted): {_fmt_summary(stats['human_chars'])}",
        f"- Characters per answer (gpt turn): {_fmt_summary(stats['gpt_chars'])}",
        "- Images: "
        + ("embedded (`Image` feature)" if embedded_images else "relative file names (`image` column)"),
    ]
    if data_files:
        files = ", ".join(f"`{p}`" for p in data_files.values())
        out.append(f"- Files ({fmt}, named by a fingerprint of their content): {files}")
    if dropped:
        out.append(f"- Rows dropped at export: {dropped}")
    out += ["", "## How it was made", ""]
    models = ", ".join(f"`{m}`" for m in stats["models"]) or "not recorded (plain LLaVA JSON input)"
    out.append(f"- Model: {models}")
    hashes = ", ".join(f"`{h}`" for h in stats["template_hashes"]) or "not recorded"
    out.append(f"- Prompt templates (hashes): {hashes}")
    for src, n in stats["sources"].items():
        out.append(f"- Context source: `{src}` ({n} samples)")
    for label, key in (("Caption sources", "caption_sources"), ("Box sources", "box_sources")):
        if stats.get(key):
            counts = ", ".join(f"`{k}` ({v})" for k, v in sorted(stats[key].items()))
            out.append(f"- {label} (context of the exported images): {counts}")
    for run in stats["runs"]:
        out.append(f"- Run: {_run_line(run)}")
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


def card_renderer(
    *,
    command: str,
    fmt: str,
    embedded_images: bool,
    dropped: str = "",
    contexts: str | Path | None = None,
) -> Callable[[Any, dict[str, pa.Table], dict[str, str]], str]:
    """The `card_text` callback of `hf_write.write_export`: the dataset card of an export plan (its
    kept records, the inputs' run.json, and with `contexts` the caption and box sources)."""

    def render(plan: Any, tables: dict[str, pa.Table], data_files: dict[str, str]) -> str:
        kept = [r for rs in plan.splits.values() for r in rs]
        stats = card_stats(tables, kept, [i.meta for i in plan.inputs])
        if contexts:
            add_context_sources(stats, contexts, {str(r["id"]) for r in kept})
        return render_card(
            stats,
            command=command,
            fmt=fmt,
            embedded_images=embedded_images,
            dropped=dropped,
            data_files=data_files,
        )

    return render
