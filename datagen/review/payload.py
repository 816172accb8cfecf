"""Review step 3a: the data the page's script renders cards from, as plain JSON-ready structures.

Cards are drawn in the browser, a screenful at a time, from this payload: a page with 20,000 samples
stays quick because only the cards near the viewport exist as DOM. The script only ever puts data
into the page as text nodes (never as markup), so a caption or reply containing `<script>` shows as
text. Contexts and images are stored once each and referenced by key, because the three LLaVA tasks
share every image. Box geometry is computed here, as CSS percentages of the image frame, so boxes
follow the image at whatever size the browser displays it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from datagen.review.gather import Card
from datagen.review.images import ImageRef

SMALL_BOX = 0.06  # boxes narrower or shorter than this fraction of the image get hover-only labels


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


def text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def context_payload(context: dict[str, Any]) -> dict[str, Any]:
    """Captions as strings; boxes with their label, colour, CSS geometry and the original bbox text."""
    caps = context.get("captions")
    boxes = context.get("boxes")
    out_boxes = []
    for b in boxes if isinstance(boxes, list) else []:
        if not isinstance(b, dict):
            continue
        cat = text(b.get("category")) or "?"
        geo = box_geometry(b.get("bbox"))
        entry: dict[str, Any] = {"category": cat, "hue": category_hue(cat), "bbox": text(b.get("bbox"))}
        if geo is not None:  # a malformed bbox is listed but not drawn
            left, top, width, height = geo
            entry["css"] = [pct(left), pct(top), pct(width), pct(height)]
            entry["small"] = width < SMALL_BOX or height < SMALL_BOX
            entry["flip"] = left > 0.75  # near the right edge, the label hangs leftwards
        if b.get("crowd"):
            entry["crowd"] = True
        out_boxes.append(entry)
    return {"captions": [text(c) for c in caps] if isinstance(caps, list) else [], "boxes": out_boxes}


def conversation_payload(conv: Any) -> list[list[str]] | str:
    """[[from, value], ...], or the raw JSON text when the record's conversation is not a list."""
    if not isinstance(conv, list):
        return text(conv) if isinstance(conv, str) else repr(conv)
    turns = []
    for t in conv:
        if isinstance(t, dict):
            turns.append([text(t.get("from")) or "?", text(t.get("value"))])
        else:
            turns.append(["?", text(t)])
    return turns


def failure_payload(f: dict[str, Any]) -> dict[str, Any]:
    stage = text(f.get("stage")) or "?"
    n = f.get("attempts")
    what = (
        f"filtered by {text(f.get('filter'))}"
        if stage == "filter" and f.get("filter")
        else f"failed at {stage}"
    )
    return {
        "what": what,
        "attempts": f" after {n} attempt{'' if n == 1 else 's'}" if n else "",
        "reason": text(f.get("reason")) or "no reason given",
        "raw": text(f.get("raw")),
    }


def build_payload(cards: list[Card], refs: list[ImageRef | None]) -> dict[str, Any]:
    """Everything the page script needs: cards in order, contexts and images by key."""
    contexts: dict[str, dict[str, Any]] = {}
    images: dict[str, dict[str, Any]] = {}
    out = []
    for card, ref in zip(cards, refs, strict=True):
        ctx_key = None
        if card.context is not None:
            ctx_key = text(card.context.get("id")) or text(card.context.get("image")) or card.key
            if ctx_key not in contexts:
                contexts[ctx_key] = context_payload(card.context)
        if card.image and ref is not None and card.image not in images:
            images[card.image] = (
                {"missing": ref.missing} if ref.missing else {"src": ref.src, "w": ref.width, "h": ref.height}
            )
        entry: dict[str, Any] = {
            "key": card.key,
            "id": card.id,
            "task": card.task,
            "kind": card.kind,
            "image": card.image,
            "ctx": ctx_key,
        }
        if card.kind == "sample":
            entry["conv"] = conversation_payload(card.conversations)
        else:
            entry["failure"] = failure_payload(card.failure)
        if card.problems:
            entry["problems"] = "; ".join(card.problems)
        if card.extra:
            entry["extra"] = [[k, v] for k, v in card.extra.items()]
        if card.provenance:
            entry["prov"] = " · ".join(f"{k} {v}" for k, v in card.provenance.items())
        out.append(entry)
    return {"cards": out, "contexts": contexts, "images": images}
