"""The VQA tasks end to end through `datagen generate` against the loopback OpenAI-compatible server
(`tests/support/fakeserver.py`), then `datagen eval vqa` on the bundled demo annotations."""

from __future__ import annotations

import json
import re
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from support.cli import run_datagen
from support.jsonl import read_jsonl, write_jsonl
from support.vqa import VQA_DATA, last_user, majority_answers


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-vqa-0000")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _cli(*args: str | Path) -> CompletedProcess[str]:
    return run_datagen(*args)


def test_vqa_answer_run_and_eval(fake_llm: Any, bundled_data: Path, tmp_path: Path) -> None:
    majority = majority_answers()
    seen: list[dict[str, Any]] = []

    def handler(body: dict[str, Any]) -> str:
        seen.append(body)
        question = last_user(body).rsplit("Question: ", 1)[1]
        # a model that knows the majority answer, says it like a chatty model, and gets one wrong
        return (
            "Answer: blue."
            if question == "What color is the man's tie?"
            else f"{majority[question].capitalize()}."
        )

    fake_llm.handler = handler
    run = tmp_path / "run"
    args = ["generate", "vqa_answer", "--coco", bundled_data / "coco", "--split", "val2017"]
    args += ["--questions", VQA_DATA / "questions_val2017.json", "--out", run, "--base-url", fake_llm.url]
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert len(seen) == 12
    results = json.loads((run / "vqa_results.json").read_text())
    assert len(results) == 12 and {"question_id", "answer"} == set(results[0])
    assert {r["answer"] for r in results if r["question_id"] == 2293583} == {"blue"}
    # LLaVA records with the short-answer hint, one per question
    rows = read_jsonl(run / "results.jsonl")
    assert all(r["task"] == "vqa_answer" and "<image>" in r["conversations"][0]["value"] for r in rows)
    scores = tmp_path / "scores.json"
    proc = _cli(
        "eval",
        "vqa",
        "--results",
        run / "vqa_results.json",
        "--annotations",
        VQA_DATA / "annotations_val2017.json",
        "--out",
        scores,
    )
    assert proc.returncode == 0, proc.stderr
    s = json.loads(scores.read_text())
    # 11 majority answers (each given by >= 4 of 10 annotators -> 1.0) and one wrong (0.0)
    assert s["overall"] == round(100 * 11 / 12, 2)
    assert s["perAnswerType"] == {"number": 100.0, "other": round(100 * 6 / 7, 2), "yes/no": 100.0}
    assert "sk-test-vqa-0000" not in (run / "run.json").read_text()
    # re-running resumes: nothing is sent again
    proc = _cli(*args)
    assert proc.returncode == 0 and len(seen) == 12


def test_img2llm_then_vqa_answer_with_its_examples(fake_llm: Any, coco_mini: Path, tmp_path: Path) -> None:
    def handler(body: dict[str, Any]) -> str:
        user = last_user(body)
        if "\nAnswers:\n" in user:  # img2llm_qa: one question per numbered answer
            answers = re.findall(r"^(\d+)\. (.+)$", user.split("\nAnswers:\n", 1)[1], flags=re.M)
            return "\n".join(f"{n}. What is item {n} in this photo?" for n, _ in answers)
        return "42"

    fake_llm.handler = handler
    img = tmp_path / "img2llm"
    src = ["--coco", coco_mini, "--split", "train2017", "--limit", "6"]
    proc = _cli(
        "generate", "img2llm_qa", *src, "--out", img, "--base-url", fake_llm.url, "--max-questions", "3"
    )
    assert proc.returncode == 0, proc.stderr
    rows = read_jsonl(img / "results.jsonl")
    assert len(rows) == 6
    for r in rows:
        assert 1 <= len(r["qa_pairs"]) <= 3
        assert [t["value"] for t in r["conversations"][1::2]] == [p["answer"] for p in r["qa_pairs"]]
    examples = read_jsonl(img / "vqa_examples.jsonl")
    assert len(examples) == sum(len(r["qa_pairs"]) for r in rows)
    # a re-run with another temperature adds a second sample per image; the pool keeps the later ones
    # only (it used to hold every example twice)
    proc = _cli(
        "generate", "img2llm_qa", *src, "--out", img, "--base-url", fake_llm.url, "--max-questions", "3",
        "--temperature", "0",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len((img / "results.jsonl").read_text().splitlines()) == 12
    again = read_jsonl(img / "vqa_examples.jsonl")
    assert len(again) == len(examples)

    qfile = tmp_path / "questions.json"
    target = rows[0]["image_id"]
    qfile.write_text(
        json.dumps(
            {
                "questions": [
                    {"image_id": target, "question": "What is item 2 in this photo?", "question_id": 7}
                ]
            }
        )
    )
    sent: list[dict[str, Any]] = []
    fake_llm.handler = lambda body: (sent.append(body), "42")[1]
    vqa = tmp_path / "vqa"
    proc = _cli(
        "generate", "vqa_answer", *src, "--out", vqa, "--base-url", fake_llm.url,
        "--questions", qfile, "--examples", img / "vqa_examples.jsonl", "--shots", "2",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (body,) = sent
    shots = [m["content"] for m in body["messages"][1:-1]]
    assert len(shots) == 4  # two user/assistant pairs
    # the most similar pool questions are the "item 2" ones, never from the image being asked about
    own_context = rows[0]["qa_context"]
    assert all(not s.startswith(own_context) for s in shots[0::2])
    assert shots[0].endswith("Question: What is item 2 in this photo?")
    assert json.loads((vqa / "vqa_results.json").read_text()) == [{"question_id": 7, "answer": "42"}]


def test_grounded_qa_needs_no_server(coco_mini: Path, tmp_path: Path) -> None:
    run = tmp_path / "grounded"
    env_free = [
        "generate",
        "grounded_qa",
        "--coco",
        coco_mini,
        "--split",
        "val2017",
        "--out",
        run,
        "--seed",
        "5",
    ]
    proc = _cli(*env_free)
    assert proc.returncode == 0, proc.stderr
    rows = read_jsonl(run / "results.jsonl")
    assert len(rows) == 3 and all(r["task"] == "grounded_qa" for r in rows)
    first = (run / "results.jsonl").read_text()
    proc = _cli(*env_free)  # resume: same file, nothing duplicated
    assert proc.returncode == 0 and (run / "results.jsonl").read_text() == first
    assert "0 samples written, 0 failed, 3 already done" in proc.stdout
    proc = _cli(*env_free[:-1], "6")  # another seed is other samples, not "already done"
    assert proc.returncode == 0 and "3 samples written" in proc.stdout
    rows = read_jsonl(run / "results.jsonl")
    assert len(rows) == 6 and rows[0]["conversations"] != rows[3]["conversations"]
    assert all("_options" not in r for r in rows)


def test_grounded_qa_failure_is_recorded_once(coco_mini: Path, tmp_path: Path) -> None:
    from support.coco_contexts import contexts

    recs = contexts(coco_mini, "val")
    bare = {**recs[0], "id": "000000000077", "image_id": 77, "image": "000000000077.jpg", "boxes": []}
    src = tmp_path / "contexts.jsonl"
    write_jsonl(src, [*recs, bare])
    run = tmp_path / "run"
    for _ in range(2):
        proc = _cli("generate", "grounded_qa", "--input", src, "--out", run)
        assert proc.returncode == 0, proc.stderr
    (failure,) = read_jsonl(run / "failures.jsonl")
    assert failure["sample_id"] == "grounded_qa:000000000077" and failure["filter"] == "no_questions"
    assert len((run / "results.jsonl").read_text().splitlines()) == 3
