"""The VLM-native tasks end to end: dense_caption, visual_conversation, and question_caption →
vqa_answer --captions-from → eval vqa (PNP-VQA's pipeline), on the bundled real COCO images,
against the loopback server that decodes every image part."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support.cli import run_datagen
from support.jsonl import read_jsonl
from support.vqa import VQA_DATA, majority_answers

from datagen.prompts.context import render_context
from datagen.prompts.templates import load_template
from datagen.prompts.vision import text_of
from datagen.tasks.vision.task import hint_talk

LONG = (
    "The photograph shows a busy scene in warm afternoon light. In the middle a person is "
    "doing something ordinary, and around them the setting stretches back towards the edges "
    "of the frame, with colours and shapes that give the place its character. "
)


def src(bundled: Path) -> list[Any]:
    return ["--coco", bundled / "coco", "--split", "val2017", "--images", bundled / "coco" / "val2017"]


def final_text(entry: Any) -> str:
    return text_of(entry.messages[-1]["content"])


def test_vlm_tasks_refuse_a_run_without_images(fake_llm: Any, bundled_data: Path, tmp_path: Path) -> None:
    for task in ("dense_caption", "visual_conversation"):
        r = run_datagen(
            "generate", task, *src(bundled_data), "--out", tmp_path / task, "--base-url", fake_llm.url
        )
        assert r.returncode != 0 and "--image-input" in r.stderr and "Traceback" not in r.stderr
    assert fake_llm.log == []


def test_dense_caption_sees_the_image_and_its_filters_hold(
    fake_llm: Any, bundled_data: Path, tmp_path: Path
) -> None:
    replies = iter(
        [
            LONG + "A motorcycle stands near the person.",  # accepted (or caught by hallucination)
            LONG + "Based on the hints, there is a person here.",  # talks about the hints
            LONG + "A giraffe grazes quietly in the corner of the scene.",  # no giraffe annotated
        ]
    )
    fake_llm.handler = lambda body: next(replies)
    run = tmp_path / "run"
    r = run_datagen(
        "generate", "dense_caption", *src(bundled_data), "--image-input", "base64", "--image-max-side", 128,
        "--out", run, "--base-url", fake_llm.url, "--model", "m", "--concurrency", 1, "--quiet",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    tpl = load_template("dense_caption")
    sent = [e for e in fake_llm.log if e.status == 200]
    assert len(sent) == 3
    for e in sent:
        assert e.messages[0]["content"] == tpl.system and len(e.images) == 1 and max(e.images[0].size) == 128
        assert "\n\n" in final_text(e) and ": [" in final_text(e)  # captions and boxes as hints
    fails = {f["filter"]: f for f in read_jsonl(run / "failures.jsonl")}
    assert set(fails) == {"hint_talk", "hallucination"}
    assert "giraffe" in fails["hallucination"]["reason"]
    rows = read_jsonl(run / "results.jsonl")
    assert len(rows) == 1 and rows[0]["task"] == "dense_caption"
    instructions = (Path(tpl.folder) / "instructions.txt").read_text().splitlines()
    question = rows[0]["conversations"][0]["value"].replace("<image>", "").strip()
    assert question in instructions


def test_hint_talk_spares_ordinary_words() -> None:
    assert hint_talk([("q", "A sky with a hint of pink over the hills.")], None) is None  # type: ignore[arg-type]
    assert hint_talk([("q", "As the hints say, a dog sits here.")], None) is not None  # type: ignore[arg-type]


def test_visual_conversation_uses_the_conversation_parser(
    fake_llm: Any, bundled_data: Path, tmp_path: Path
) -> None:
    def reply(body: dict[str, Any]) -> str:
        n = len(json.dumps(body))
        return f"Question:\nWhat is in view {n}?\n===\nAnswer:\nA scene with many details, number {n}."

    fake_llm.handler = reply
    run = tmp_path / "run"
    r = run_datagen(
        "generate", "visual_conversation", *src(bundled_data), "--image-input", "base64",
        "--out", run, "--base-url", fake_llm.url, "--model", "m", "--quiet",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    from support.coco_contexts import contexts

    recs = contexts(bundled_data / "coco", "val")
    texts = sorted(final_text(e) for e in fake_llm.log if e.status == 200)
    assert texts == sorted(render_context(rec, ["captions"]) for rec in recs)  # captions only
    assert all(len(e.images) == 1 for e in fake_llm.log if e.status == 200)
    rows = read_jsonl(run / "results.jsonl")
    assert len(rows) == 3 and all(len(r["conversations"]) == 2 for r in rows)


def test_question_captions_then_text_only_answers_then_eval(
    fake_llm: Any, bundled_data: Path, tmp_path: Path
) -> None:
    majority = majority_answers()

    def captioner(body: dict[str, Any]) -> str:
        # A VLM that sees the picture: its caption carries what the question needs.
        question = text_of(body["messages"][-1]["content"]).rsplit("Question: ", 1)[1]
        return f"In this picture the thing asked about is <{majority[question]}>, clearly in view."

    questions = VQA_DATA / "questions_val2017.json"
    caps_run = tmp_path / "captions"
    fake_llm.handler = captioner
    r = run_datagen(
        "generate", "question_caption", *src(bundled_data), "--questions", questions,
        "--image-input", "base64", "--image-max-side", 96,
        "--out", caps_run, "--base-url", fake_llm.url, "--model", "vlm", "--quiet",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert all(len(e.images) == 1 for e in fake_llm.log if e.status == 200)
    side = read_jsonl(caps_run / "question_captions.jsonl")
    assert len(side) == 12 and all(s["caption"].startswith("In this picture") for s in side)

    fake_llm.log.clear()
    seen: list[str] = []

    def answerer(body: dict[str, Any]) -> str:
        # A text-only model: reads the question-focused caption, first among the captions.
        assert all(isinstance(m["content"], str) for m in body["messages"])
        user = body["messages"][-1]["content"]
        seen.append(user)
        return re.search(r"<([^>]*)>", user.split("\n", 1)[0]).group(1)  # type: ignore[union-attr]

    fake_llm.handler = answerer
    ans_run = tmp_path / "answers"
    r = run_datagen(
        "generate", "vqa_answer", *src(bundled_data), "--questions", questions, "--captions-from", caps_run,
        "--out", ans_run, "--base-url", fake_llm.url, "--model", "text-only", "--quiet",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(seen) == 12 and not any(e.images for e in fake_llm.log)
    scores = tmp_path / "scores.json"
    r = run_datagen(
        "eval", "vqa", "--results", ans_run / "vqa_results.json",
        "--annotations", VQA_DATA / "annotations_val2017.json", "--out", scores,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(scores.read_text())["overall"] == 100.0


def test_captions_from_a_run_without_them_is_an_error(
    fake_llm: Any, bundled_data: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_datagen(
        "generate", "vqa_answer", *src(bundled_data), "--questions", VQA_DATA / "questions_val2017.json",
        "--captions-from", empty, "--out", tmp_path / "a", "--base-url", fake_llm.url,
    )  # fmt: skip
    assert r.returncode != 0 and "--captions-from" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("task", ["dense_caption", "visual_conversation", "question_caption"])
def test_templates_are_loadable(task: str) -> None:
    tpl = load_template(task)
    assert tpl.system.strip() and tpl.examples and tpl.example_images == ()


def test_vlm_runs_export_review_and_say_they_saw_images(
    fake_llm: Any, bundled_data: Path, tmp_path: Path
) -> None:
    def reply(body: dict[str, Any]) -> str:
        n = len(json.dumps(body))
        return f"Question:\nWhat is in view {n}?\n===\nAnswer:\nA scene with many details, number {n}."

    fake_llm.handler = reply
    run = tmp_path / "run"
    images = bundled_data / "coco" / "val2017"
    r = run_datagen(
        "generate", "visual_conversation", *src(bundled_data), "--image-input", "base64",
        "--image-max-side", 256, "--image-detail", "low",
        "--out", run, "--base-url", fake_llm.url, "--model", "m", "--quiet",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run_datagen("export", "llava", run, "--out", tmp_path / "llava.json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads((tmp_path / "llava.json").read_text())) == 3
    r = run_datagen("export", "hf", run, "--out", tmp_path / "hf", "--images", images)
    assert r.returncode == 0, r.stderr
    card = (tmp_path / "hf" / "README.md").read_text()
    assert (
        "the model saw each image (base64, jpeg quality 85, longer side at most 256 px, detail low)" in card
    )
    r = run_datagen("review", run, "--images", images, "--out", tmp_path / "review.html")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "review.html").stat().st_size > 0


@pytest.mark.parametrize("task", ["llava", "caption_rewrite", "vqa_answer", "img2llm_qa"])
def test_every_llm_task_sends_its_image_with_its_text_unchanged(
    fake_llm: Any, bundled_data: Path, tmp_path: Path, task: str
) -> None:
    """Each LLM task's requests, with and without --image-input: the same text, plus one image."""
    from support.rewrite_samples import FLAWED

    if task == "caption_rewrite":
        rows = [{"image": f"{i}.jpg", "description": d} for i, d in FLAWED.items()]
        desc = tmp_path / "desc.jsonl"
        desc.write_text("".join(json.dumps(r) + "\n" for r in rows))
        args = ["--descriptions", desc, "--images", bundled_data / "coco" / "val2017"]
    else:
        args = src(bundled_data)
        if task == "vqa_answer":
            args += ["--questions", VQA_DATA / "questions_val2017.json"]
    if task == "img2llm_qa":
        pytest.importorskip("spacy")
    texts: dict[str, list[Any]] = {}
    for mode in ("none", "base64"):
        fake_llm.log.clear()
        r = run_datagen(
            "generate", task, *args, "--image-input", mode, "--out", tmp_path / mode, "--base-url", fake_llm.url,
            "--model", "m", "--quiet", "--max-attempts", 1,
        )  # fmt: skip
        assert r.returncode == 0 or "failed" in r.stderr, r.stderr
        sent = [e for e in fake_llm.log if e.status == 200]
        assert sent
        texts[mode] = sorted(json.dumps([text_of(m["content"]) for m in e.messages]) for e in sent)
        if mode == "base64":
            assert all(len(e.images) == 1 and e.images[0].message == len(e.messages) - 1 for e in sent)
            assert all(e.images[0].format == "JPEG" for e in sent)
        else:
            assert all(not e.images and isinstance(e.messages[-1]["content"], str) for e in sent)
    assert texts["base64"] == texts["none"]  # the text the model reads is the same, byte for byte
