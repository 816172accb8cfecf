"""LLaVA record rules: ids, <image> placement, loader validity."""

from __future__ import annotations

from datagen.records import coco_id, llava_record_problems, make_conversations, placement_rng


def test_coco_id_pads_to_12_digits():
    assert coco_id(33471) == "000000033471"
    assert coco_id("9") == "000000000009"


def test_image_token_once_in_first_human_turn():
    pairs = [("What is on the table?", "A cake."), ("What colour is it?", "White.")]
    first = make_conversations(pairs, "first", placement_rng(0, "a"))
    last = make_conversations(pairs, "last", placement_rng(0, "a"))
    assert first[0]["value"] == "<image>\nWhat is on the table?"
    assert last[0]["value"] == "What is on the table?\n<image>"
    assert [t["from"] for t in first] == ["human", "gpt", "human", "gpt"]
    assert "<image>" not in first[2]["value"]
    rec = {"id": "1", "image": "1.jpg", "conversations": first}
    assert llava_record_problems(rec) == []


def test_random_placement_is_seeded_per_sample():
    pairs = [("Q?", "A.")]
    runs = [make_conversations(pairs, "random", placement_rng(7, f"id{i}"))[0]["value"] for i in range(40)]
    again = [make_conversations(pairs, "random", placement_rng(7, f"id{i}"))[0]["value"] for i in range(40)]
    assert runs == again
    assert {v.startswith("<image>") for v in runs} == {True, False}


def test_problems_detected():
    bad = {
        "id": "1",
        "image": "1.jpg",
        "conversations": [
            {"from": "gpt", "value": "hi"},
            {"from": "gpt", "value": "<image> again"},
        ],
    }
    problems = llava_record_problems(bad)
    assert any("expected 'human'" in p for p in problems)
    assert any("only the first human turn" in p for p in problems)
