"""`datagen demo` offline (no key, no network) and with a model (the loopback test server)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_datagen
from support.jsonl import read_jsonl
from support.vqa import last_user, majority_answers

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_demo_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out = tmp_path / "demo"
    done = run_datagen("demo", "--out", out)
    assert done.returncode == 0, done.stderr
    grounded = read_jsonl(out / "grounded" / "results.jsonl")
    assert len(grounded) == 3 and all(r["task"] == "grounded_qa" for r in grounded)
    requests = read_jsonl(out / "run" / "requests.jsonl")
    questions = [r for r in requests if r["custom_id"].startswith("vqa_answer:")]
    assert len(questions) == 12 and len(requests) == 3 * 3 + 12 + 3  # 3 LLaVA tasks, vqa, img2llm
    assert "live generation skipped" in done.stdout
    assert "Summary: 3 samples generated (grounded_qa 3); 24 requests ready in" in done.stdout
    llava = json.loads((out / "llava_instruct.json").read_text())
    assert [r["id"] for r in llava] == [r["id"] for r in grounded]
    import datasets

    ds = datasets.load_from_disk(str(out / "hf_dataset"))
    assert ds["grounded_qa"].num_rows == 3
    # the same dataset card `export hf` writes: the command, the counts, the caption/box sources
    card = (out / "hf_dataset" / "README.md").read_text()
    assert f"datagen demo --out {out}" in card and "| grounded_qa | 3 |" in card
    assert "coco" in card.lower()


def test_demo_with_a_model(fake_llm: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.url)
    majority = majority_answers()

    def handler(body: dict[str, Any]) -> str:
        user = last_user(body)
        if "\nAnswers:\n" in user:
            answers = re.findall(r"^(\d+)\. (.+)$", user.split("\nAnswers:\n", 1)[1], flags=re.M)
            return "\n".join(f"{n}. What is thing {n} here?" for n, _ in answers)
        if "\n\nQuestion: " in user:
            return majority.get(user.rsplit("Question: ", 1)[1], "yes")
        return "Question: What is in the picture?\n===\nAnswer: A photograph of a scene with several things."

    fake_llm.handler = handler
    out = tmp_path / "demo"
    done = run_datagen("demo", "--out", out, "--model", "test-model")
    assert done.returncode == 0, done.stderr
    assert "4. live" in done.stdout
    for task in ("conversation", "detail_description", "complex_reasoning", "vqa_answer", "img2llm_qa"):
        assert re.search(rf"{task}: \d+ samples, \d+ failed", done.stdout), task
    assert "VQA accuracy on the 8 demo questions answered: 100.00" in done.stdout
    assert (out / "live" / "img2llm_qa" / "vqa_examples.jsonl").exists()
    made = re.search(r"Summary: (\d+) samples generated \((.*)\)", done.stdout)
    assert made and "img2llm_qa 2" in made.group(2) and "vqa_answer 8" in made.group(2)
    assert len(json.loads((out / "llava_instruct.json").read_text())) == int(made.group(1))


def test_demo_says_why_a_task_got_no_sample(
    fake_llm: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that answers in no usable shape: each task's 0 comes with its top failure reason."""
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.url)
    fake_llm.handler = lambda body: "Sorry, I cannot help with that."
    out = tmp_path / "demo"
    done = run_datagen("demo", "--out", out, "--model", "test-model")
    assert done.returncode == 0, done.stderr
    assert "conversation: 0 samples" in done.stdout
    why = re.search(
        r"conversation: 0 samples.*\n\s+why: (\d+) of (\d+) failed with (.+); see (\S+)", done.stdout
    )
    assert why, done.stdout
    assert why.group(4) == str(out / "live" / "conversation" / "failures.jsonl")
    assert int(why.group(1)) <= int(why.group(2))
