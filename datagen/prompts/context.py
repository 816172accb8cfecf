"""Context record → the symbolic text an LLM sees in place of the image (LLaVA's layout).

Captions one per line; then, if the task shows boxes and the image has any, a blank line and one
`category: [x1, y1, x2, y2]` line per box, the numbers printed as Python prints floats (`0.72`,
`1.0`). LLaVA's conversation task showed captions only; detail description and complex reasoning
showed captions and boxes. The text is built by concatenation, never by a format string, so
braces, `$` or quotes inside captions cannot break it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from datagen.errors import InputError

FIELDS = ("captions", "boxes")


_shared: list[dict[tuple[int, tuple[str, ...]], tuple[dict[str, Any], str]]] = []


def format_box(box: dict[str, Any]) -> str:
    """`category: [x1, y1, x2, y2]` exactly as LLaVA printed a box."""
    return f"{box['category']}: [{', '.join(map(repr, map(float, box['bbox'])))}]"


@contextlib.contextmanager
def shared_renders() -> Iterator[None]:
    """Within this block, a record rendered twice with the same fields is rendered once, and the
    jobs of several tasks share the one string (LLaVA's detail and reasoning tasks show the same
    text for 118K images: half the render time and the memory of a third of the jobs)."""
    _shared.append({})
    try:
        yield
    finally:
        _shared.pop()


def render_context(record: dict[str, Any], fields: Sequence[str] = FIELDS) -> str:
    """The symbolic text for `record`, showing the given `fields` (a subset of `captions`, `boxes`)."""
    if _shared:
        key = (id(record), tuple(fields))
        hit = _shared[-1].get(key)
        if hit is not None and hit[0] is record:  # (the entry holds the record, so its id stays its own)
            return hit[1]
        text = _render(record, fields)
        _shared[-1][key] = (record, text)
        return text
    return _render(record, fields)


def _render(record: dict[str, Any], fields: Sequence[str]) -> str:
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
