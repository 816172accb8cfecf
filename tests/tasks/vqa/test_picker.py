"""The PICa example picker on a fixed pool: which examples it chooses, and in which order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datagen.errors import InputError
from datagen.tasks.vqa.picker import Example, ExamplePicker, load_examples

POOL = [
    Example("ctx0", "What color is the bus?", "red", 1),
    Example("ctx1", "What color is the umbrella?", "blue", 2),
    Example("ctx2", "How many people are on the beach?", "5", 3),
    Example("ctx3", "What sport is being played?", "tennis", 4),
    Example("ctx4", "Is the umbrella open?", "yes", 5),
    Example("ctx5", "What color is the car?", "white", 6),
    Example("ctx6", "How many dogs are there?", "2", 7),
]


def test_most_similar_question_comes_first() -> None:
    picker = ExamplePicker(POOL)
    got = picker.pick("What color is the umbrella held by the woman?", 3, seed=0, key="q1")
    # exact word overlap on the rare word "umbrella" plus "what color is the" beats the other colours
    assert got[0].question == "What color is the umbrella?"
    assert {e.question for e in got[1:]} <= {
        "What color is the bus?",
        "What color is the car?",
        "Is the umbrella open?",
    }
    how_many = picker.pick("How many people are riding horses?", 2, seed=0, key="q2")
    assert [e.answer for e in how_many] == ["5", "2"]


def test_rare_words_weigh_more_than_common_ones() -> None:
    picker = ExamplePicker(POOL)
    # "umbrella" is rare in the pool, "what"/"is"/"the" are common: the umbrella yes/no question
    # outranks colour questions about other objects.
    got = picker.pick("Is there an umbrella?", 2, seed=0, key="q3")
    assert {e.question for e in got} == {"Is the umbrella open?", "What color is the umbrella?"}


def test_ties_are_broken_by_seed_reproducibly() -> None:
    picker = ExamplePicker(POOL)
    q = "What color is it?"  # bus, umbrella and car colour questions tie exactly
    colour = {"What color is the bus?", "What color is the umbrella?", "What color is the car?"}
    orders = {seed: [e.question for e in picker.pick(q, 3, seed=seed, key="q4")] for seed in range(12)}
    assert all(set(o) == colour for o in orders.values())
    assert len({tuple(o) for o in orders.values()}) > 1  # the seed changes the tie order
    assert orders[5] == [e.question for e in picker.pick(q, 3, seed=5, key="q4")]


def test_examples_from_the_same_image_are_never_picked() -> None:
    picker = ExamplePicker(POOL)
    got = picker.pick("What color is the umbrella?", 7, seed=0, key="q5", exclude_image=2)
    assert all(e.image_id != 2 for e in got) and len(got) == 6
    assert picker.pick("anything", 0, seed=0, key="q6") == []


def test_load_examples_jsonl_and_json(tmp_path: Path) -> None:
    rows = [{"context": "c", "question": "q?", "answer": "a", "image_id": 9}]
    jl = tmp_path / "ex.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    js = tmp_path / "ex.json"
    js.write_text(json.dumps(rows))
    assert load_examples(jl) == load_examples(js) == [Example("c", "q?", "a", 9)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"context": "c", "question": "q"}\n', "ex.jsonl:1: missing or empty answer"),
        ("", "the examples file is empty"),
        ('{"context": "c", "question": "q", "answer": "a"}\n{broken\n', "ex.jsonl:2: not a valid JSON line"),
    ],
)
def test_bad_examples_file(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "ex.jsonl"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        load_examples(p)
