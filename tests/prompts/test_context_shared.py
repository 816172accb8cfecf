"""`shared_renders`: one text per record and field set within a run's planning, identical to a fresh render."""

from __future__ import annotations

from datagen.prompts.context import render_context, shared_renders


def _rec(i: int) -> dict:
    return {
        "id": i,
        "captions": [f"a cat number {i}"],
        "boxes": [{"category": "cat", "bbox": [0.1, 0.2, 0.5, 1]}],
    }


def test_same_record_same_fields_gives_the_same_string():
    recs = [_rec(i) for i in range(3)]
    with shared_renders():
        first = [render_context(r) for r in recs]
        again = [render_context(r) for r in recs]
        captions_only = render_context(recs[0], ["captions"])
    assert all(a is b for a, b in zip(first, again, strict=True))
    assert first == [render_context(r) for r in recs]  # what a render outside the block gives
    assert captions_only == "a cat number 0"
    assert first[0] == "a cat number 0\n\ncat: [0.1, 0.2, 0.5, 1.0]"


def test_a_new_record_at_a_reused_address_is_rendered_afresh():
    with shared_renders():
        texts = [render_context(_rec(i)) for i in range(50)]  # each record freed after its render
    assert texts == [render_context(_rec(i)) for i in range(50)]
