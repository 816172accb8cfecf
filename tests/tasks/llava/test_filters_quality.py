"""Quality filters: each rejects what it names, accepts good LLaVA-style samples, and can be disabled."""

from __future__ import annotations

import pytest

from datagen.records import make_conversations, placement_rng
from datagen.tasks.base import Job
from datagen.tasks.dedupe import DuplicateTracker
from datagen.tasks.filters import first_rejection
from datagen.tasks.llava.filters import (
    FILTER_NAMES,
    active_filters,
    leak,
    non_alternating,
    refusal,
    repeated_question,
    short_turn,
)


def job(task="conversation", sid="000000000001:conversation"):
    return Job(sample_id=sid, task=task, messages=[], source={"id": sid.split(":")[0]})


GOOD = [
    ("What is the man holding?", "The man is holding a red umbrella above his head."),
    (
        "Is it raining?",
        "Yes, the pavement is wet and people are carrying umbrellas, so it is likely raining.",
    ),
    ("Are their outfits color-coordinated?", "Yes, both wear navy coats with matching scarves."),
]
DETAIL = [
    (
        "Describe this image in detail.",
        "A man in a dark coat walks along a wet city sidewalk holding a red umbrella over his head. "
        "To his left a row of parked cars lines the curb, and behind him a bus waits at a stop.",
    )
]


def test_good_samples_pass_every_filter():
    filters = active_filters(tracker=DuplicateTracker())
    assert first_rejection(GOOD, job(), filters) is None
    assert first_rejection(DETAIL, job("detail_description", "1:detail_description"), filters) is None


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("According to the captions, a man is holding an umbrella.", "mentions captions"),
        ("Based on the descriptions given, he holds an umbrella.", "mentions the given descriptions"),
        ("The information provided suggests a rainy day.", "mentions the given descriptions"),
        ("The umbrella's bounding box covers the top half.", "mentions bounding boxes"),
        ("The umbrella is at [0.12, 0.05, 0.44, 0.31] in the frame.", "mentions coordinates"),
        ("Judging by the coordinates of the umbrella, it is high up.", "mentions coordinates"),
        ("I cannot see the image, but he may be holding an umbrella.", "says it cannot see the image"),
        ("I can't actually view this picture, sorry.", "says it cannot see the image"),
    ],
)
def test_leak(answer, reason):
    pairs = [GOOD[0], ("What else is there?", answer)]
    assert leak(pairs, job()) == f"turn 2 answer {reason}"


def test_leak_in_question_counts_but_not_for_our_detail_instruction():
    assert leak([("What do the captions say about the dog?", "It is asleep on a couch.")], job()) == (
        "turn 1 question mentions captions"
    )
    detail = [("Describe the captions-free scene.", DETAIL[0][1])]
    assert leak(detail, job("detail_description")) is None


@pytest.mark.parametrize(
    "answer",
    [
        "I'm sorry, but I can't help with identifying people.",
        "As an AI language model, I have no eyes.",
        "I am unable to provide that information.",
        "Unfortunately, I cannot answer that.",
    ],
)
def test_refusal(answer):
    assert refusal([("Who is this man in the picture?", answer)], job()) == "turn 1 answer is a refusal"


def test_refusal_leaves_honest_uncertainty_alone():
    pairs = [("What brand is the car?", "It is not possible to tell the brand from this view of the car.")]
    assert refusal(pairs, job()) is None


@pytest.mark.parametrize(
    "pairs, reason",
    [
        ([], "no turns"),
        ([("What is it?", "   ")], "turn 1 answer is empty"),
        ([("Why?", "Because it is raining outside today.")], "turn 1 question is 4 characters"),
        ([("What is the man holding?", "Yes.")], "turn 1 answer is 4 characters"),
    ],
)
def test_short_turn(pairs, reason):
    assert (short_turn(pairs, job()) or "").startswith(reason)


def test_short_detail_description():
    pairs = [("Describe this image in detail.", "A man with an umbrella.")]
    assert short_turn(pairs, job("detail_description")) == "description is 5 words (< 25)"


@pytest.mark.parametrize(
    "pairs, reason",
    [
        (
            [("What is he holding?", "An umbrella.\nQuestion: Is it raining?\nAnswer: Yes it is.")],
            "turn 1 answer contains another turn's label",
        ),
        ([("<image>\nWhat is he holding?", "An umbrella, a red one.")], "turn 1 question contains <image>"),
        ([("What is he holding?", "What is he holding?")], "turn 1 answer repeats the question"),
    ],
)
def test_non_alternating(pairs, reason):
    assert non_alternating(pairs, job()) == reason


def test_repeated_question_ignores_case_and_punctuation():
    pairs = [GOOD[0], GOOD[1], ("what is the man holding", "Still the red umbrella, held high.")]
    assert repeated_question(pairs, job()) == "turn 3 repeats the question of turn 1"
    assert repeated_question(GOOD, job()) is None


def test_duplicate_tracker_across_samples_and_resume():
    tracker = DuplicateTracker()
    assert tracker.check(GOOD, job(sid="a:conversation")) is None
    # the same sample re-checked (a retry of the same job) is not its own duplicate
    assert tracker.check(GOOD, job(sid="a:conversation")) is None
    spaced = [(q + "  ", " " + a) for q, a in GOOD]
    assert tracker.check(spaced, job(sid="b:conversation")) == "exact duplicate of sample a:conversation"
    # other task, same text: not a duplicate (keys are per task)
    assert tracker.check(GOOD, job("complex_reasoning", "a:complex_reasoning")) is None
    # detail: only the description counts, the drawn question does not
    t2 = DuplicateTracker()
    assert t2.check(DETAIL, job("detail_description", "x")) is None
    other_q = [("Tell me about this picture.", DETAIL[0][1])]
    assert t2.check(other_q, job("detail_description", "y")) == "exact duplicate of sample x"

    # resume: records already in results.jsonl seed the tracker
    rec = {
        "task": "conversation",
        "sample_id": "a:conversation",
        "conversations": make_conversations(GOOD, "random", placement_rng(0, "a")),
    }
    fresh = DuplicateTracker()
    assert fresh.seed([rec]) == 1 and len(fresh) == 1
    assert fresh.check(GOOD, job(sid="c:conversation")) == "exact duplicate of sample a:conversation"

    # seed_later: the loader runs once, on first use only
    calls = []
    lazy = DuplicateTracker()
    lazy.seed_later(lambda: calls.append(1) or [rec])
    assert calls == []
    assert lazy.check(GOOD, job(sid="d:conversation")) == "exact duplicate of sample a:conversation"
    assert lazy.check(DETAIL, job(sid="e:conversation")) is None
    assert calls == [1]


def test_disable_filters_by_name():
    names = [n for n, _ in active_filters(tracker=DuplicateTracker())]
    assert names == FILTER_NAMES
    kept = active_filters({"leak", "duplicate"}, tracker=DuplicateTracker())
    assert [n for n, _ in kept] == ["non_alternating", "short_turn", "refusal", "repeated_question"]
    leaky = [("What do the captions say?", "They say a man holds an umbrella.")]
    assert first_rejection(leaky, job(), active_filters()) == ("leak", "turn 1 question mentions captions")
    assert first_rejection(leaky, job(), kept) is None
