"""Audit report: one flagged sample as a card, drawn with the review page's pieces.

The image is resolved (and refused if it escapes `--images`) by the review page's `ImageResolver`;
the annotated boxes get the review page's geometry and colours (`context_payload`) and its CSS
classes, so a card looks like a review card, rendered here as static, escaped HTML instead of by
script. Words the audit flagged are marked in the model's turns.
"""

from __future__ import annotations

import re
from typing import Any

from datagen.audit.inputs import Sample
from datagen.review.images import ImageRef
from datagen.review.page import esc
from datagen.review.payload import context_payload, conversation_payload


def _visual(image: str | None, ref: ImageRef | None, context: dict[str, Any]) -> str:
    if not image or ref is None:
        return '<div class="visual"><div class="noimg">image not shown (pass --images ROOT)</div></div>'
    if ref.missing:
        return f'<div class="visual"><div class="noimg">{esc(ref.missing)}</div></div>'
    size = f' width="{ref.width}" height="{ref.height}"' if ref.width and ref.height else ""
    boxes = []
    for b in context["boxes"]:
        if "css" not in b:
            continue
        cls = (
            "box"
            + (" crowd" if b.get("crowd") else "")
            + (" small" if b.get("small") else "")
            + (" flip" if b.get("flip") else "")
        )
        left, top, width, height = b["css"]
        style = f"left:{left};top:{top};width:{width};height:{height};--hue:{b['hue']}"
        boxes.append(
            f'<div class="{cls}" style="{style}" title="{esc(b["category"])}"><span>{esc(b["category"])}</span></div>'
        )
    return (
        f'<div class="visual"><div class="frame"><img alt="{esc(image)}" src="{esc(ref.src or "")}"{size} loading="lazy">'
        f"{''.join(boxes)}</div></div>"
    )


def _marked(text: str, words: list[str]) -> str:
    """`text` escaped, with each flagged word wrapped in <mark> (case-insensitive, whole words)."""
    if not words:
        return esc(text)
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b", re.I
    )
    out, last = [], 0
    for m in pattern.finditer(text):
        out += [esc(text[last : m.start()]), f"<mark>{esc(m.group(0))}</mark>"]
        last = m.end()
    return "".join([*out, esc(text[last:])])


def _findings(flag: dict[str, Any]) -> list[str]:
    lines = []
    objects = flag.get("objects") or {}
    for cat in objects.get("absent", []):
        lines.append(f"names {cat} ({', '.join(objects['named'][cat])}): not in the image's annotations")
    for c in flag.get("counts", []):
        if c["verdict"] == "wrong":
            lines.append(f"says {c['claimed']} {c['words']}; annotated: {c['annotated']}")
    for b in flag.get("boxes", []):
        if b["verdict"] in ("unmatched", "malformed"):
            extra = f" (best IoU {b['best_iou']} with {b['nearest']})" if b["verdict"] == "unmatched" else ""
            lines.append(f"box {b['box']} ({b['units']}): {b['verdict']}{extra}")
    lines += flag.get("hygiene", [])
    nd = flag.get("near_dup")
    if nd:
        sim = f", similarity {nd['similarity']}" if "similarity" in nd else ""
        lines.append(
            f"near-duplicate cluster {nd['cluster']} ({nd['size']} samples, first {nd['first']}{sim})"
        )
    return lines


def render_card(
    sample: Sample, flag: dict[str, Any], ref: ImageRef | None, truth: Any, captions: list[str]
) -> str:
    boxes = [{"category": c, "bbox": b} for c, b in (truth.boxes if truth is not None else [])]
    context = context_payload({"captions": captions, "boxes": boxes})
    objects = flag.get("objects") or {}
    marked = [w for cat in objects.get("absent", []) for w in objects["named"][cat]]
    marked += [c["words"] for c in flag.get("counts", []) if c["verdict"] == "wrong"]
    conv = conversation_payload(
        sample.record.get("conversations") if isinstance(sample.record, dict) else None
    )
    if isinstance(conv, str):
        turns = f'<pre class="raw">{esc(conv)}</pre>'
    else:
        parts = []
        for who, value in conv:
            side = who if who in ("human", "gpt") else "other"
            body = _marked(value, marked) if side == "gpt" else esc(value)
            parts.append(f'<div class="turn {side}"><b>{esc(who)}</b><div class="say">{body}</div></div>')
        turns = f'<section class="conv">{"".join(parts)}</section>'
    found = "".join(f"<li>{esc(line)}</li>" for line in _findings(flag))
    caps = "".join(f"<li>{esc(c)}</li>" for c in captions)
    caps_html = f'<section class="captions"><h3>Captions</h3><ol>{caps}</ol></section>' if caps else ""
    return (
        f'<article class="card sample" id="s{sample.uid}">{_visual(sample.image, ref, context)}'
        f'<div class="text"><div class="head"><span class="chip task">{esc(sample.task)}</span>'
        f'<span class="rid">{esc(sample.key)}</span><span class="iname">{esc(sample.image or "")}</span>'
        f'<span class="iname">{esc(sample.input)}</span></div>'
        f'<ul class="findings">{found}</ul>{caps_html}{turns}</div></article>'
    )
