"""`datagen eval vqa` on a hand-made annotations file whose scores are worked out by hand."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from support.cli import run_datagen, run_process

from datagen.tasks.vqa.accuracy import question_accuracy
from datagen.tasks.vqa.normalize import normalize_answer


def _ann(qid: int, answers: list[str], atype: str, qtype: str = "what") -> dict:
    return {
        "question_id": qid,
        "image_id": 139,
        "question_type": qtype,
        "answer_type": atype,
        "multiple_choice_answer": answers[0],
        "answers": [
            {"answer": a, "answer_confidence": "yes", "answer_id": i + 1} for i, a in enumerate(answers)
        ],
    }


ANNOTATIONS = {
    "annotations": [
        _ann(1, ["yes"] * 10, "yes/no", "is the"),  # "Yes." -> 1.0
        _ann(2, ["2"] * 3 + ["3"] * 7, "number", "how many"),  # "two" matches 3 of 10 -> 0.9
        _ann(3, ["red"] + ["blue"] * 9, "other"),  # "red" matches 1 -> 0.3
        _ann(4, ["a dog", "dog"] + ["cat"] * 8, "other"),  # "the dog" matches 2 -> 0.6
        _ann(5, ["blue"] * 10, "other"),  # "green" -> 0.0
        _ann(6, ["4"] * 10, "number", "how many"),  # unanswered
        _ann(7, ["don't know"] * 4 + ["no idea"] * 6, "other"),  # "dont know" matches 4 -> 1.0
        _ann(8, ["t-shirt"] * 5 + ["shirt"] * 5, "other"),  # "T shirt" matches 5 -> 1.0
    ]
}
RESULTS = [
    {"question_id": 1, "answer": "Yes."},
    {"question_id": 2, "answer": "two"},
    {"question_id": 3, "answer": "red"},
    {"question_id": 4, "answer": "the dog"},
    {"question_id": 5, "answer": "green"},
    {"question_id": 7, "answer": "dont know"},
    {"question_id": 8, "answer": "T shirt"},
]
QUESTIONS = {"questions": [{"image_id": 139, "question": "?", "question_id": q} for q in range(1, 9)]}


def _official_style(pred: str, answers: list[str]) -> float:
    """The definition spelled out: mean over all 9-annotator subsets of min(matches / 3, 1)."""
    pred_n, gts = normalize_answer(pred), [normalize_answer(a) for a in answers]
    subsets = list(combinations(range(len(gts)), len(gts) - 1))
    return sum(min(sum(gts[i] == pred_n for i in s) / 3, 1) for s in subsets) / len(subsets)


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    ann, res, qs = tmp_path / "ann.json", tmp_path / "res.json", tmp_path / "q.json"
    ann.write_text(json.dumps(ANNOTATIONS))
    res.write_text(json.dumps(RESULTS))
    qs.write_text(json.dumps(QUESTIONS))
    return ann, res, qs


def _run(*args: str | Path) -> CompletedProcess[str]:
    return run_datagen("eval", "vqa", *args)


def test_known_scores_via_a_real_process(tmp_path: Path) -> None:
    ann, res, _ = _files(tmp_path)
    proc = run_process("eval", "vqa", "--results", res, "--annotations", ann)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "VQA accuracy: 68.57  (7 answered, 0 unanswered)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two.", "2"),
        ("3.5", "3.5"),
        ("The man's hat", "man's hat"),
        ("1,000", "1000"),
        ("black/white", "black white"),
        ("Yes!", "yes"),
        ("isnt it", "isn't it"),
        ("a\tred\nball", "red ball"),
        ("none", "0"),
    ],
)
def test_normalisation(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


@pytest.mark.parametrize("matches", range(11))
def test_leave_one_out_average_matches_the_definition(matches: int) -> None:
    answers = ["cat"] * matches + ["dog"] * (10 - matches)
    expected = {0: 0.0, 1: 0.3, 2: 0.6, 3: 0.9}.get(matches, 1.0)
    assert question_accuracy("cat", answers) == pytest.approx(expected)
    assert question_accuracy("cat", answers) == pytest.approx(_official_style("cat", answers))


def test_known_scores_via_cli(tmp_path: Path) -> None:
    ann, res, _ = _files(tmp_path)
    out = tmp_path / "scores.json"
    proc = _run("--results", res, "--annotations", ann, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "VQA accuracy: 68.57" in proc.stdout  # (1 + .9 + .3 + .6 + 0 + 1 + 1) / 7
    scores = json.loads(out.read_text())
    assert scores["overall"] == 68.57
    assert scores["perAnswerType"] == {"number": 90.0, "other": 58.0, "yes/no": 100.0}
    assert scores["perQuestion"]["3"] == 0.3 and scores["perQuestion"]["4"] == 0.6
    assert scores["missing"] == 0 and scores["answered"] == 7


def test_questions_file_scores_unanswered_as_zero(tmp_path: Path) -> None:
    ann, res, qs = _files(tmp_path)
    out = tmp_path / "scores.json"
    proc = _run("--results", res, "--annotations", ann, "--questions", qs, "--out", out)
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(out.read_text())
    assert scores["overall"] == 60.0  # 4.8 / 8
    assert scores["perAnswerType"]["number"] == 45.0
    assert scores["missing"] == 1
    assert "1 unanswered" in proc.stdout


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({"question_id": 1}, "expected a JSON array"),
        ([{"question_id": 1, "answer": "yes"}, {"question_id": 1, "answer": "no"}], "answered twice"),
        (
            [{"question_id": 1, "answer": "yes"}, {"question_id": 99, "answer": "yes"}],
            "[1]: question 99 is not in",
        ),
        ([{"question_id": "x", "answer": "yes"}], "question_id must be an integer"),
        ([{"question_id": 1, "answer": 3}], "'answer' must be a string"),
        ([], "nothing to score"),
    ],
)
def test_bad_results_are_one_line_errors(tmp_path: Path, results: object, message: str) -> None:
    ann, res, _ = _files(tmp_path)
    res.write_text(json.dumps(results))
    proc = _run("--results", res, "--annotations", ann)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_annotations_are_one_line_errors(tmp_path: Path) -> None:
    ann, res, _ = _files(tmp_path)
    ann.write_text('{"annotations": [')
    proc = _run("--results", res, "--annotations", ann)
    assert proc.returncode == 2 and "not valid JSON" in proc.stderr and str(ann) in proc.stderr
    ann.write_text(json.dumps({"annotations": [{"question_id": 1, "answers": []}]}))
    proc = _run("--results", res, "--annotations", ann)
    assert proc.returncode == 2 and "'answers' must be a non-empty list" in proc.stderr
    proc = _run("--results", res, "--annotations", tmp_path / "nope.json")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_unknown_question_errors_name_the_files(tmp_path: Path) -> None:
    ann, res, qs = _files(tmp_path)
    res.write_text(json.dumps([{"question_id": 1, "answer": "yes"}, {"question_id": 99, "answer": "no"}]))
    proc = _run("--results", res, "--annotations", ann)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"Error: {res}[1]: question 99 is not in {ann}")
    qs.write_text(json.dumps({"questions": [{"image_id": 1, "question": "q?", "question_id": 77}]}))
    res.write_text(json.dumps([{"question_id": 1, "answer": "yes"}]))
    proc = _run("--results", res, "--annotations", ann, "--questions", qs)
    assert proc.returncode == 2 and proc.stderr.startswith(
        f"Error: {qs}: question 77 (and 0 more) is not in {ann}"
    )
