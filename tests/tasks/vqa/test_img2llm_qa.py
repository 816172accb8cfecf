"""`img2llm_qa`: answer candidates from real COCO-mini captions, prompts, and reply parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.coco_contexts import contexts

import datagen.tasks.vqa.candidates as img2llm
from datagen.errors import ConfigError, ParseError
from datagen.prompts.context import render_context
from datagen.prompts.templates import load_template
from datagen.records import llava_record_problems
from datagen.tasks.base import TaskOptions
from datagen.tasks.registry import get_task
from datagen.tasks.vqa.answer import VQAOptions
from datagen.tasks.vqa.candidates import answer_candidates, candidates_block, parse_questions, rank_candidates
from datagen.tasks.vqa.img2llm import Img2LLMOptions


def test_candidates_from_one_caption() -> None:
    rec = {"captions": ["Two kids in red helmets ride their bikes down a quiet street."]}
    (cands,) = answer_candidates([rec], 20)
    assert {"kids", "red helmets", "bikes", "quiet street", "red", "quiet", "2"} <= set(cands)
    assert not {"a quiet street", "their bikes", "two kids", "front"} & set(cands)


def test_ranked_by_how_many_captions_mention_them() -> None:
    sets = [{"dog", "park"}, {"dog", "frisbee"}, {"dog", "park", "grass"}]
    assert rank_candidates(sets, 3) == ["dog", "park", "frisbee"]
    assert rank_candidates(sets, 1) == ["dog"]


def test_candidates_on_real_captions(coco_mini: Path) -> None:
    recs = contexts(coco_mini, "train")[:30]
    ranked = answer_candidates(recs, 5)
    assert len(ranked) == len(recs)
    for rec, cands in zip(recs, ranked, strict=True):
        assert 1 <= len(cands) <= 5 and len(set(cands)) == len(cands)
        text = " ".join(rec["captions"]).lower()
        for c in cands:
            if not c.isdigit():
                assert c in text, (rec["id"], c)


def test_parse_pairs_questions_with_their_numbered_answer() -> None:
    cands = ["dog", "red", "2", "frisbee"]
    reply = (
        "Here you go:\n"
        "1. What animal is in the picture?\n"
        "2) What color is the red collar?\n"  # gives its answer away: dropped
        "3. How many animals are there?\n"
        "3. A second question for 3?\n"  # repeated number: dropped
        "7. Out of range?\n"
        "4. What is being thrown"  # not a question: dropped
    )
    assert parse_questions(reply, cands) == [
        ("What animal is in the picture?", "dog"),
        ("How many animals are there?", "2"),
    ]
    with pytest.raises(ParseError, match="no usable numbered question"):
        parse_questions("Sorry, I cannot help with that.", cands)
    # markdown-bold numbers (a common chat-model habit) used to make the whole reply unusable
    bold = "**1.** What animal is in the picture?\n**3**. How many animals are there?"
    assert parse_questions(bold, cands) == [
        ("What animal is in the picture?", "dog"),
        ("How many animals are there?", "2"),
    ]


def test_jobs_and_records(coco_mini: Path) -> None:
    task = get_task("img2llm_qa")
    recs = contexts(coco_mini, "val")
    opts = TaskOptions(seed=1, task_options=[Img2LLMOptions(max_questions=3)])
    jobs = list(task.build_jobs(recs, opts))
    assert [j.sample_id for j in jobs] == [f"img2llm_qa:{r['id']}" for r in recs]
    template = load_template("img2llm_qa")
    job = jobs[0]
    cands = job.source["answer_candidates"]
    assert 1 <= len(cands) <= 3
    context = render_context(recs[0], ["captions"])
    assert job.messages == template.messages(context + "\n\n" + candidates_block(cands))
    assert job.messages[-1]["content"].endswith("\n".join(f"{i}. {c}" for i, c in enumerate(cands, 1)))
    reply = "\n".join(f"{i}. Question number {i} about the picture?" for i in range(1, len(cands) + 1))
    pairs = task.parse(reply, job)
    assert [a for _, a in pairs] == cands
    assert all(check(pairs, job) is None for _, check in task.filters())
    rec = task.to_record(pairs, job, opts)
    assert llava_record_problems(rec) == []
    assert rec["qa_context"] == context and rec["image_id"] == recs[0]["image_id"]
    assert rec["qa_pairs"][0] == {"question": pairs[0][0], "answer": cands[0]}


def test_caption_less_images_are_reported_not_sent(coco_mini: Path) -> None:
    task = get_task("img2llm_qa")
    recs = contexts(coco_mini, "val")
    empty = {**recs[0], "id": "000000000042", "captions": ["..."]}
    opts = TaskOptions()
    planned = task.build_jobs([empty, *recs], opts)
    assert [j.sample_id for j in planned.jobs] == [f"img2llm_qa:{r['id']}" for r in recs]
    assert "1 image(s) have no answer candidate" in planned.notes[0]


def test_missing_spacy_model_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(img2llm, "MODELS", ("no_such_model_xyz",))
    img2llm.load_spacy.cache_clear()
    try:
        with pytest.raises(ConfigError, match="no spaCy English model"):
            img2llm.load_spacy()
    finally:
        img2llm.load_spacy.cache_clear()


def test_examples_file_feeds_vqa_answer(coco_mini: Path, tmp_path: Path) -> None:
    import json

    from datagen.common.jsonio import write_jsonl_atomic
    from datagen.tasks.vqa.files import VQA_EXAMPLES, write_run_outputs
    from datagen.tasks.vqa.picker import load_examples

    task = get_task("img2llm_qa")
    recs = contexts(coco_mini, "train")[:5]
    opts = TaskOptions(task_options=[Img2LLMOptions(max_questions=2)])
    rows = []
    for job in task.build_jobs(recs, opts):
        cands = job.source["answer_candidates"]
        reply = "\n".join(f"{i}. Which thing number {i} is shown?" for i in range(1, len(cands) + 1))
        rows.append({**task.to_record(task.parse(reply, job), job, opts), "task": "img2llm_qa"})
    run = tmp_path / "run"
    write_jsonl_atomic(run / "results.jsonl", rows)
    assert write_run_outputs(run) == [run / VQA_EXAMPLES]
    pool = load_examples(run / VQA_EXAMPLES)
    assert len(pool) == sum(len(r["qa_pairs"]) for r in rows)
    assert pool[0].context == rows[0]["qa_context"] and pool[0].image_id == recs[0]["image_id"]
    # vqa_answer takes it as --examples
    qfile = tmp_path / "q.json"
    qfile.write_text(
        json.dumps(
            {
                "questions": [
                    {"image_id": recs[1]["image_id"], "question": "Which thing is shown?", "question_id": 1}
                ]
            }
        )
    )
    vqa = get_task("vqa_answer")
    (job,) = vqa.build_jobs(
        recs,
        TaskOptions(
            task_options=[VQAOptions(questions=str(qfile), examples=str(run / VQA_EXAMPLES), shots=3)]
        ),
    )
    shots = [m["content"] for m in job.messages[1:-1:2]]
    assert len(shots) == 3 and all(recs[1]["captions"][0] not in s for s in shots)  # never its own image
