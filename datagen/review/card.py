"""Review step 3a: one card of HTML per sample: image with boxes, captions, conversation, decision buttons.

Every piece of text that comes from data goes through `esc` (html.escape, quotes included), and the
only values written into `style` attributes are numbers computed here, so a caption, category, id or
reply containing markup shows up as text. Boxes are absolutely positioned in percent of the image
frame, so they follow the image at whatever size the browser displays it.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import Any

from datagen.records import IMAGE_TOKEN
from datagen.review.gather import Card
from datagen.review.images import ImageRef

_TOKEN_ESCAPED = html.escape(IMAGE_TOKEN)
SMALL_BOX = 0.06  # boxes narrower or shorter than this fraction of the image get hover-only labels


def esc(value: Any) -> str:
    """Escape any value for HTML text or a double-quoted attribute."""
    return html.escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), quote=True)


def pct(v: float) -> str:
    """A CSS percentage for a normalised coordinate: 0.31 -> '31%', 0.1235 -> '12.35%'."""
    return f"{v * 100:.4f}".rstrip("0").rstrip(".") + "%"


def category_hue(category: str) -> int:
    """A stable colour per category name, so 'person' is the same colour on every card."""
    return int.from_bytes(hashlib.sha1(category.encode("utf-8")).digest()[:2], "big") % 360


def box_geometry(bbox: Any) -> tuple[float, float, float, float] | None:
    """Normalised corners [x1, y1, x2, y2] -> (left, top, width, height) in [0, 1], or None if malformed."""
    if not isinstance(bbox, list) or len(bbox) != 4:
        return None
    try:
        x1, y1, x2, y2 = (min(1.0, max(0.0, float(v))) for v in bbox)
    except (TypeError, ValueError):
        return None
    if x2 < x1 or y2 < y1:
        return None
    return x1, y1, x2 - x1, y2 - y1


def _boxes(context: dict[str, Any] | None) -> list[dict[str, Any]]:
    boxes = context.get("boxes") if context else None
    return [b for b in boxes if isinstance(b, dict)] if isinstance(boxes, list) else []


def render_boxes(boxes: list[dict[str, Any]]) -> str:
    out = []
    for i, b in enumerate(boxes):
        geo = box_geometry(b.get("bbox"))
        if geo is None:
            continue
        left, top, width, height = geo
        cat = str(b.get("category", "?"))
        cls = "box"
        cls += " crowd" if b.get("crowd") else ""
        # Labels of tiny boxes would pile up on each other: those show on hover (and in the box list).
        cls += " small" if width < SMALL_BOX or height < SMALL_BOX else ""
        # A label hangs right from the box's left edge; near the image's right edge, hang it leftwards.
        cls += " flip" if left > 0.75 else ""
        out.append(
            f'<div class="{cls}" data-box="{i}" data-category="{esc(cat)}" title="{esc(cat)}" '
            f'style="left:{pct(left)};top:{pct(top)};width:{pct(width)};height:{pct(height)};'
            f'--hue:{category_hue(cat)}"><span>{esc(cat)}</span></div>'
        )
    return "".join(out)


def render_visual(card: Card, ref: ImageRef | None) -> str:
    if ref is None:
        return '<div class="noimg">no image in this record</div>'
    if ref.missing:
        return f'<div class="noimg">{esc(ref.missing)}</div>'
    size = f' width="{ref.width}" height="{ref.height}"' if ref.width and ref.height else ""
    if ref.src and ref.src.startswith("data:"):
        img = f'<img alt="{esc(card.image)}" data-thumb="{esc(card.image)}"{size}>'  # src set by the script
    else:
        img = f'<img alt="{esc(card.image)}" src="{esc(ref.src)}" loading="lazy" decoding="async"{size}>'
    return f'<div class="frame">{img}{render_boxes(_boxes(card.context))}</div>'


def render_text(value: Any) -> str:
    """A turn's text: escaped, with the `<image>` token shown as a small chip."""
    return esc(value).replace(_TOKEN_ESCAPED, f'<span class="imgtok">{_TOKEN_ESCAPED}</span>')


def render_conversation(conv: Any) -> str:
    if not isinstance(conv, list):
        return f'<pre class="raw">{esc(conv)}</pre>'
    turns = []
    for turn in conv:
        who = turn.get("from") if isinstance(turn, dict) else None
        who = who if who in ("human", "gpt") else "other"
        value = turn.get("value") if isinstance(turn, dict) else turn
        label = {"human": "human", "gpt": "gpt"}.get(
            who, esc(turn.get("from") if isinstance(turn, dict) else "?")
        )
        turns.append(
            f'<div class="turn {who}"><b>{label}</b><div class="say">{render_text(value)}</div></div>'
        )
    return '<section class="conv">' + "".join(turns) + "</section>"


def render_context(context: dict[str, Any] | None) -> str:
    if context is None:
        return '<p class="muted">No context found for this image (pass --contexts).</p>'
    raw_caps = context.get("captions")
    caps: list[Any] = raw_caps if isinstance(raw_caps, list) else []
    parts = ['<section class="captions"><h3>Captions</h3><ol>']
    parts += [f"<li>{esc(c)}</li>" for c in caps]
    parts.append("</ol></section>")
    boxes = _boxes(context)
    if boxes:
        parts.append(f'<details class="boxlist"><summary>{len(boxes)} boxes</summary><ul>')
        for i, b in enumerate(boxes):
            crowd = " (crowd)" if b.get("crowd") else ""
            parts.append(
                f'<li data-box="{i}" style="--hue:{category_hue(str(b.get("category", "?")))}">'
                f"{esc(b.get('category', '?'))}: {esc(b.get('bbox'))}{crowd}</li>"
            )
        parts.append("</ul></details>")
    return "".join(parts)


def render_failure(card: Card) -> str:
    f = card.failure
    stage = str(f.get("stage") or "?")
    what = f"filtered by {f.get('filter')}" if stage == "filter" and f.get("filter") else f"failed at {stage}"
    n = f.get("attempts")
    attempts = f" after {esc(n)} attempt{'' if n == 1 else 's'}" if n else ""
    out = f'<div class="failure"><b>{esc(what)}</b>{attempts}: {esc(f.get("reason") or "no reason given")}</div>'
    if f.get("raw"):
        out += f'<details class="rawreply"><summary>raw reply</summary><pre>{esc(f["raw"])}</pre></details>'
    return out


def render_card(index: int, card: Card, ref: ImageRef | None) -> str:
    is_sample = card.kind == "sample"
    buttons = (
        '<span class="decide"><button type="button" class="acc" data-act="accept" title="accept (a)">&#10003; accept</button>'
        '<button type="button" class="rej" data-act="reject" title="reject (r)">&#10007; reject</button></span>'
        if is_sample
        else '<span class="chip bad">failure</span>'
    )
    head = (
        f'<div class="head"><span class="chip task">{esc(card.task)}</span>'
        f'<span class="rid" title="id">{esc(card.id)}</span>'
        f'<span class="iname" title="image">{esc(card.image or "")}</span>{buttons}</div>'
    )
    body = [head]
    if not is_sample:
        body.append(render_failure(card))
    if card.problems:
        body.append(f'<div class="problems">not a valid LLaVA record: {esc("; ".join(card.problems))}</div>')
    body.append(render_context(card.context))
    if is_sample:
        body.append(render_conversation(card.conversations))
    for k, v in card.extra.items():
        body.append(f'<section class="extra"><h3>{esc(k)}</h3><div class="say">{esc(v)}</div></section>')
    if card.provenance:
        prov = " · ".join(f"{esc(k)} {esc(v)}" for k, v in card.provenance.items())
        body.append(f'<p class="prov">{prov}</p>')
    return (
        f'<article class="card {card.kind}" id="card-{index}" tabindex="-1" data-key="{esc(card.key)}" '
        f'data-task="{esc(card.task)}" data-kind="{card.kind}">'
        f'<div class="visual">{render_visual(card, ref)}</div><div class="text">{"".join(body)}</div></article>'
    )
