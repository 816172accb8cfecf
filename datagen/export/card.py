"""The dataset card (`README.md`) written beside an HF export: what is in the data and where it came from.

Numbers (counts per task and split, turns, lengths) are computed from the exported records
themselves; the model and templates come from the records' provenance and each run's `run.json`;
the command line is recorded verbatim (it never holds a token: tokens only come from the
environment). Licence notes are facts about the sources, not legal advice.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen import __version__
from datagen.common.jsonio import iter_jsonl
from datagen.errors import redact
from datagen.records import IMAGE_TOKEN


def _summary(values: pa.Array) -> dict[str, float]:
    if len(values) == 0:
        return {"min": 0, "mean": 0.0, "median": 0.0, "max": 0}
    mm = pc.min_max(values).as_py()
    median = pc.quantile(values, q=0.5, interpolation="midpoint")[0].as_py()
    return {
        "min": mm["min"],
        "mean": round(pc.mean(values).as_py(), 1),
        "median": float(median),
        "max": mm["max"],
    }


def _turn_chars(conversations: pa.ChunkedArray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Rounds per sample, and characters per human / gpt turn (the `<image>` token not counted).

    Characters, not words: Arrow counts them in C++ at memory speed, while splitting 600K turns
    into words took longer than writing the dataset. Works chunk by chunk (combining the chunks
    would copy every string), and looks for `<image>` only in first turns, the one place LLaVA's
    rules (checked on load) allow it.
    """
    rounds, human, gpt = [], [], []
    for chunk in conversations.chunks:
        turns = chunk.flatten()
        counts = chunk.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])[counts > 0]
        chars = pc.utf8_length(pc.struct_field(turns, "value")).to_numpy(zero_copy_only=False).copy()
        tokens = pc.count_substring(pc.take(pc.struct_field(turns, "value"), pa.array(first)), IMAGE_TOKEN)
        chars[first] -= tokens.to_numpy(zero_copy_only=False) * len(IMAGE_TOKEN)
        speaker = pc.struct_field(turns, "from")
        human.append(chars[pc.equal(speaker, "human").to_numpy(zero_copy_only=False)])
        gpt.append(chars[pc.equal(speaker, "gpt").to_numpy(zero_copy_only=False)])
        rounds.append(counts // 2)
    return tuple(
        pa.array(np.concatenate(x) if x else np.array([], dtype=np.int64)) for x in (rounds, human, gpt)
    )  # type: ignore[return-value]


def card_stats(
    tables: dict[str, pa.Table], records: list[dict[str, Any]], metas: list[dict[str, Any]]
) -> dict[str, Any]:
    """The card's numbers: counts by split and task, rounds per sample, words per turn, provenance.

    Computed with Arrow kernels on the exported tables (a Python pass over every turn of 158K
    samples would cost more than writing them); `records` supply only the optional `source` field.
    """
    # splits of a --by-task export may carry different provenance columns: missing ones become null
    table = pa.concat_tables(list(tables.values()), promote_options="permissive") if tables else pa.table({})
    rounds, human_chars, gpt_chars = _turn_chars(table.column("conversations"))
    tasks = Counter(
        {(d["values"] or "(none)"): d["counts"] for d in pc.value_counts(table.column("task")).to_pylist()}
    )
    image = table.column("image")
    if pa.types.is_struct(image.type):  # embedded Image feature: {bytes, path}
        image = pc.struct_field(image, "path")
    models: Counter[str] = Counter()
    if "model" in table.column_names:
        models.update(
            {
                d["values"]: d["counts"]
                for d in pc.value_counts(table.column("model")).to_pylist()
                if d["values"]
            }
        )
    hashes: set[str] = set()
    if "template_hash" in table.column_names:
        hashes.update(h for h in pc.unique(table.column("template_hash")).to_pylist() if h)
    sources: Counter[str] = Counter()
    caption_src: Counter[str] = Counter()
    # `source` / `caption_sources` have no column of their own, so records carrying them made an
    # `extra` column; without one, skip a Python pass over every record.
    for r in records if "extra" in table.column_names else ():
        src = r.get("source")
        if src:
            sources[src if isinstance(src, str) else json.dumps(src, sort_keys=True)] += 1
        if isinstance(r.get("caption_sources"), list):  # a context's per-caption sources
            caption_src.update(str(x) for x in r["caption_sources"])
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
        tokens: dict[str, Any] = meta["tokens"] if isinstance(meta.get("tokens"), dict) else {}
        cost: dict[str, Any] = meta["cost"] if isinstance(meta.get("cost"), dict) else {}
        runs.append(
            {
                "model": model,
                "version": meta.get("datagen_version") or meta.get("version"),
                "temperature": config.get("temperature"),
                "prompt_tokens": tokens.get("prompt"),
                "completion_tokens": tokens.get("completion"),
                "cost_usd": cost.get("usd"),
                "source": src,
            }
        )
    ids = table.column("id")
    return {
        "total": table.num_rows,
        "splits": {name: t.num_rows for name, t in tables.items()},
        "tasks": dict(sorted(tasks.items())),
        "rounds": _summary(rounds),
        "human_chars": _summary(human_chars),
        "gpt_chars": _summary(gpt_chars),
        "images": pc.count_distinct(image).as_py(),
        "models": dict(models),
        "template_hashes": sorted(hashes),
        "sources": dict(sources),
        "caption_sources": dict(caption_src),
        "box_sources": {},
        "runs": runs,
        "coco": pc.sum(pc.match_substring_regex(ids, r"^\d{12}$")).as_py() or 0,
        "cc3m": pc.sum(pc.starts_with(ids, "GCC_")).as_py() or 0,
    }


def add_context_sources(stats: dict[str, Any], contexts: str | Path, ids: set[str]) -> None:
    """Count caption and box sources in a context JSONL (`datagen context` output) for exported ids."""
    captions: Counter[str] = Counter(stats.get("caption_sources") or {})
    boxes: Counter[str] = Counter(stats.get("box_sources") or {})
    for _, row in iter_jsonl(contexts):
        if str(row.get("id")) not in ids:
            continue
        srcs = row.get("caption_sources")
        n_caps = len(row.get("captions") or [])
        if isinstance(srcs, list):
            captions.update(str(x) for x in srcs)
        elif n_caps:
            captions[str(row.get("source") or "(no source field)")] += n_caps
        for box in row.get("boxes") or []:
            if isinstance(box, dict):
                boxes[str(box.get("source") or row.get("source") or "(no source field)")] += 1
    stats["caption_sources"], stats["box_sources"] = dict(captions), dict(boxes)


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
