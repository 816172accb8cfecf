"""The numbers on an HF export's dataset card, computed from the exported records themselves:
counts per task and split, question/answer rounds, turn lengths, models, template hashes, and the
runs (their run.json) and caption/box sources the records came from. `card.py` renders them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from datagen.common.jsonio import iter_jsonl
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
                "vision": config.get("vision") if isinstance(config.get("vision"), dict) else None,
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
