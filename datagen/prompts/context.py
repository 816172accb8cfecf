"""Context record → the symbolic text an LLM sees in place of the image (LLaVA's layout).

Captions one per line; then, if the task shows boxes and the image has any, a blank line and one
`category: [x1, y1, x2, y2]` line per box, the numbers printed as Python prints floats (`0.72`,
`1.0`). LLaVA's conversation task showed captions only; detail description and complex reasoning
showed captions and boxes. The text is built by concatenation, never by a format string, so
braces, `$` or quotes inside captions cannot break it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datagen.errors import InputError

FIELDS = ("captions", "boxes")


def format_box(box: dict[str, Any]) -> str:
    """`category: [x1, y1, x2, y2]` exactly as LLaVA printed a box."""
    return f"{box['category']}: [{', '.join(repr(float(v)) for v in box['bbox'])}]"


def render_context(record: dict[str, Any], fields: Sequence[str] = FIELDS) -> str:
    """The symbolic text for `record`, showing the given `fields` (a subset of `captions`, `boxes`)."""
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise InputError(f"unknown context field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    parts: list[str] = []
    if "captions" in fields:
        parts.append("\n".join(record.get("captions") or []))
    if "boxes" in fields:
        boxes = record.get("boxes") or []
        if boxes:
            parts.append("\n".join(format_box(b) for b in boxes))
    return "\n\n".join(p for p in parts if p)
