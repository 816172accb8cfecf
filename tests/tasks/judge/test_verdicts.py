"""The judge's pieces on their own: verdict parsers (text and JSON give the same pairs), our rubrics,
the prompt it reads, the relative score with its bootstrap interval, and sample keys."""

from __future__ import annotations

import json
import statistics

import pytest

from datagen.errors import ParseError, UsageError
from datagen.prompts.templates import load_template
from datagen.rundir.judged import content_digest, judged_key
from datagen.tasks.base import Job
from datagen.tasks.judge.options import JudgeOptions
from datagen.tasks.judge.relative import bootstrap_interval, relative_score, summarise
from datagen.tasks.judge.verdict import (
    PAIR_VERDICT,
    VERDICT,
    pair_prompt,
    parse_pair_verdict,
    parse_verdict,
    sample_prompt,
)

CLEAN = "Accuracy: 8\nHelpfulness: 7\nGrounding: 9\nScore: 8\nReason: Matches the boxes."
EXPECTED = [("score", "8"), ("accuracy", "8"), ("helpfulness", "7"), ("grounding", "9"), ("reason", "Matches the boxes.")]  # fmt: skip


@pytest.mark.parametrize(
    "reply",
    [
        CLEAN,
        "Here is my verdict.\n" + CLEAN,
        CLEAN.replace("Accuracy:", "**Accuracy:**").replace("Score:", "**Score:**"),
        CLEAN.replace(": 8\n", ": 8/10\n"),
        CLEAN.replace("Score: 8", "Score: 8 out of 10"),
        "- Accuracy: 8\n- Helpfulness: 7\n- Grounding: 9\n- Score: 8\n- Reason: Matches\nthe boxes.",
        CLEAN.replace("\n", "\r\n"),
    ],
)
def test_verdict_drift_is_read(reply):
    assert parse_verdict(reply) == EXPECTED


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("I would rate this sample 7 out of 10. Fine.", "no 'Score:' line"),
        ("Score: 11\nReason: great", "from 1 to 10"),
        ("Score: seven\nReason: ok", "from 1 to 10"),
        ("Score: 0\nReason: bad", "from 1 to 10"),
        ("Accuracy: 8\nScore: 8", "no 'Reason:' line"),
        ("", "no 'Score:' line"),
    ],
)
def test_verdicts_without_a_usable_score_are_parse_errors(reply, why):
    with pytest.raises(ParseError, match=why):
        parse_verdict(reply)


def test_pair_verdict():
    assert parse_pair_verdict("**Score 1:** 6\n**Score 2:** 9\nReason: two is right") == [
        ("score_1", "6"),
        ("score_2", "9"),
        ("reason", "two is right"),
    ]
    with pytest.raises(ParseError, match="no 'Score 2:' line"):
        parse_pair_verdict("Score 1: 6\nReason: x")


def test_json_verdicts_give_the_text_pairs():
    job = Job("judge:x", "judge", [], {}, response_format={})
    data = {"accuracy": 8, "helpfulness": 7, "grounding": 9, "score": 8, "reason": "Matches the boxes."}
    assert VERDICT.parse(json.dumps(data), job) == EXPECTED
    with pytest.raises(ParseError, match="has no field 'score'"):
        VERDICT.parse(json.dumps({k: v for k, v in data.items() if k != "score"}), job)
    with pytest.raises(ParseError, match="from 1 to 10"):
        VERDICT.parse(json.dumps({**data, "score": 12}), job)
    pair = PAIR_VERDICT.parse('{"score_1": 3, "score_2": 5, "reason": "r"}', job)
    assert pair == parse_pair_verdict("Score 1: 3\nScore 2: 5\nReason: r")


@pytest.mark.parametrize(("name", "parser"), [("default", parse_verdict), ("pairwise", parse_pair_verdict)])
def test_our_rubrics_few_shot_verdicts_parse(name, parser):
    folder = JudgeOptions(rubric=name).rubric_folder(pairwise=name == "pairwise")
    tpl = load_template(folder.name, folder.parent)
    assert tpl.examples and tpl.context_fields == ["captions", "boxes"]
    for context, verdict in tpl.examples:
        assert parser(verdict)
        assert context.startswith("What is known about the image:\n")


def test_rubric_by_folder_and_unknown_name(tmp_path):
    assert JudgeOptions(rubric=str(tmp_path)).rubric_folder(False) == tmp_path
    with pytest.raises(UsageError, match="--rubric strict: no such rubric"):
        JudgeOptions(rubric="strict").rubric_folder(False)


CONTEXT = {
    "id": "1",
    "captions": ["A cat on a mat."],
    "boxes": [{"category": "cat", "bbox": [0.1, 0.2, 0.5, 0.9]}],
}
SAMPLE = {
    "id": "1",
    "conversations": [{"from": "human", "value": "<image>\nWhat is it?"}, {"from": "gpt", "value": "A cat."}],
}


def test_the_judge_sees_the_context_and_the_turns_without_the_image_token():
    text = sample_prompt({**SAMPLE, "context": CONTEXT, "judged_task": "conversation"}, ["captions", "boxes"])
    assert text == (
        "What is known about the image:\nA cat on a mat.\n\ncat: [0.1, 0.2, 0.5, 0.9]\n\n"
        "Sample to review (task: conversation):\nHuman: What is it?\nAssistant: A cat."
    )
    other = {**SAMPLE, "conversations": [SAMPLE["conversations"][0], {"from": "gpt", "value": "A dog."}]}
    row = {"a": SAMPLE, "b": other, "context": CONTEXT, "swapped": False}
    straight, swapped = pair_prompt(row, ["captions"]), pair_prompt({**row, "swapped": True}, ["captions"])
    assert straight.index("A cat.") < straight.index("Sample 2") < straight.index("A dog.")
    assert swapped.index("A dog.") < swapped.index("Sample 2") < swapped.index("A cat.")


def test_relative_score_and_bootstrap_interval():
    a, b = [8, 6, 7, 9, 5, 8, 7, 6] * 10, [7, 6, 8, 8, 4, 7, 7, 5] * 10
    rel = relative_score(a, b)
    assert rel == pytest.approx(100 * statistics.mean(b) / statistics.mean(a))
    lo, hi = bootstrap_interval(a, b, 2000, seed=1)
    assert lo < rel < hi and hi - lo < 10
    assert bootstrap_interval(a, b, 2000, seed=1) == (lo, hi)  # seeded
    assert bootstrap_interval(a, a, 500, seed=1) == (100.0, 100.0)
    rows = [
        {"score_a": x, "score_b": y, "swapped": i % 2 == 1} for i, (x, y) in enumerate(zip(a, b, strict=True))
    ]
    s = summarise(rows, 1000, 0)
    assert s["pairs"] == 80 and s["swapped"] == 40 and s["relative_score"] == round(rel, 2)
    assert s["wins"]["a"] + s["wins"]["b"] + s["wins"]["tie"] == 80


def test_sample_keys():
    run_rec = {**SAMPLE, "sample_id": "conversation:1", "task": "conversation"}
    assert judged_key(run_rec) == "conversation:1"
    exported = {"id": "1", "conversations": SAMPLE["conversations"]}
    assert judged_key(exported) == f"1@{content_digest(exported)}"
    assert content_digest(run_rec) == content_digest(exported)  # the same turns, whichever file holds them
    changed = {**exported, "conversations": [SAMPLE["conversations"][0], {"from": "gpt", "value": "A dog."}]}
    assert content_digest(changed) != content_digest(exported)
