"""`--structured` at the task level: each LLM task's JSON reply gives the pairs its text parser gives,
the few-shot answers are our own template answers shown as JSON, and broken JSON is a parse error."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from support.coco_contexts import contexts
from support.engine_helpers import engine_config, make_job
from support.paths import REPO

from datagen.common.resources import templates_root
from datagen.engine.config import request_key
from datagen.engine.jobs import build_jobs
from datagen.engine.options import task_options
from datagen.errors import ParseError, TemplateError, UsageError
from datagen.tasks.base import Job
from datagen.tasks.registry import get_task
from datagen.tasks.structured import load_reply

LLAVA = ["conversation", "detail_description", "complex_reasoning"]
BUNDLED = REPO / "data" / "coco"


def val_contexts():
    return contexts(BUNDLED, "val")


def _jobs(names, structured, **kw):
    opts = task_options(names, structured=structured, **kw)
    return build_jobs(names, opts, lambda: val_contexts()).jobs


@pytest.mark.parametrize("name", LLAVA)
def test_few_shot_answers_are_the_template_answers_as_json(name):
    text_jobs, json_jobs = _jobs([name], False), _jobs([name], True)
    task = get_task(name)
    text_job, json_job = text_jobs[0], json_jobs[0]
    assert json_job.response_format["type"] == "json_schema"
    assert json_job.response_format["json_schema"]["schema"] == task.reply_format.schema
    assert text_job.response_format is None
    # same system message and contexts; only the assistant turns changed, each to JSON
    for t, j in zip(text_job.messages, json_job.messages, strict=True):
        assert t["role"] == j["role"]
        if t["role"] != "assistant":
            assert t["content"] == j["content"]
            continue
        # the JSON answer parses to exactly the pairs the text parser reads off the text answer
        assert task.parse(j["content"], json_job) == task.parse(t["content"], text_job)
    assert json_job.template_hash != text_job.template_hash


def test_text_request_keys_are_the_ones_earlier_releases_wrote():
    """A text job's key is what it was before --structured existed, so old run dirs resume."""
    url = "http://127.0.0.1:9/v1"
    assert request_key(make_job(1), engine_config(url), url) == "2f15b55a753082de5856de01dba34a6a"
    structured = dataclasses.replace(make_job(1), response_format={"type": "json_schema"})
    assert request_key(structured, engine_config(url), url) != "2f15b55a753082de5856de01dba34a6a"


def test_structured_reply_gives_the_same_pairs_as_the_text_reply():
    job = _jobs(["conversation"], True)[0]
    task = get_task("conversation")
    text = "Question: What is on the sink?\n===\nAnswer: A toothbrush and a cup.\n===\nQ: Why?\nA: To brush teeth."
    reply = json.dumps({"turns": [
        {"question": "What is on the sink?", "answer": "A toothbrush and a cup."},
        {"question": " Why?", "answer": "To brush teeth. "},
    ]})  # fmt: skip
    plain = Job(job.sample_id, job.task, job.messages, job.source)
    assert task.parse(reply, job) == task.parse(text, plain)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ('{"turns": [{"question": "What?", "answer": "A cat.}]}', "not valid JSON"),
        ('{"turns": [{"question": "What is it?"}]}', "reply.turns[0] has no field 'answer'"),
        ('{"dialogue": []}', "has no field 'turns'"),
        ('{"turns": "What is it?"}', "reply.turns should be of type array"),
        ('{"turns": []}', "turns is empty"),
        ('{"turns": [{"question": "What is it?", "answer": "  "}]}', "turn 1 answer is empty"),
        ("", "empty reply"),
        ("Question: What?\nAnswer: A cat.", "not valid JSON"),
    ],
)
def test_broken_structured_replies_are_parse_errors(reply, reason):
    job = _jobs(["conversation"], True)[0]
    with pytest.raises(ParseError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        get_task("conversation").parse(reply, job)


def test_a_fenced_json_reply_is_read():
    schema = get_task("complex_reasoning").reply_format.schema
    data = load_reply('```json\n{"question": "Why?", "answer": "Because."}\n```', schema)
    assert data == {"question": "Why?", "answer": "Because."}


def test_detail_json_reply_is_paired_with_the_drawn_question():
    job = _jobs(["detail_description"], True)[0]
    pairs = get_task("detail_description").parse('{"description": "A long street scene."}', job)
    assert pairs == [(job.source["instruction"], "A long street scene.")]


def test_caption_rewrite_structured(tmp_path):
    descs = tmp_path / "d.jsonl"
    text = "A dog runs on grass. A dog runs on grass. It chases a red ball across a big green park today."
    descs.write_text(json.dumps({"image_id": "7", "caption": text}) + "\n")
    opts = task_options(["caption_rewrite"], structured=True, flags={"descriptions": str(descs)})
    (job,) = build_jobs(["caption_rewrite"], opts, lambda: []).jobs
    task = get_task("caption_rewrite")
    assert json.loads(job.messages[2]["content"]).keys() == {"description"}
    assert task.parse('{"description": "A dog runs."}', job) == [(job.source["instruction"], "A dog runs.")]


def test_vqa_structured_shots_and_answer():
    from support.vqa import VQA_DATA

    opts = task_options(
        ["vqa_answer"], structured=True, flags={"questions": str(VQA_DATA / "questions_val2017.json")}
    )
    jobs = build_jobs(["vqa_answer"], opts, val_contexts).jobs
    job = jobs[0]
    shots = [m["content"] for m in job.messages if m["role"] == "assistant"]
    assert shots and all(json.loads(s).keys() == {"answer"} for s in shots)
    task = get_task("vqa_answer")
    assert task.parse('{"answer": "Two."}', job) == [(job.source["question"], "Two")]


def test_img2llm_structured_pairs_answers_with_candidates():
    pytest.importorskip("spacy")
    jobs = _jobs(["img2llm_qa"], True)
    job = jobs[0]
    cands = job.source["answer_candidates"]
    task = get_task("img2llm_qa")
    shot = json.loads(job.messages[2]["content"])
    assert [q["answer"] for q in shot["questions"]] == ["dog", "yellow", "rain", "leash", "woman"]
    reply = {"questions": [{"answer": cands[0].upper(), "question": "What is shown here?"},
                           {"answer": "not a candidate", "question": "Where?"}]}  # fmt: skip
    assert task.parse(json.dumps(reply), job) == [("What is shown here?", cands[0])]


def test_a_template_answer_our_parser_cannot_read_is_a_template_error(tmp_path):
    folder = tmp_path / "tpl" / "conversation"
    shutil.copytree(templates_root() / "conversation", folder)
    (folder / "001_conv.txt").write_text("Just some prose, no labels at all.")
    with pytest.raises(TemplateError, match="few-shot answer 2 cannot be shown as JSON"):
        _jobs(["conversation"], True, templates_dir=tmp_path / "tpl")
    assert _jobs(["conversation"], False, templates_dir=tmp_path / "tpl")  # text mode does not care


def test_structured_needs_a_schema_for_every_llm_task():
    from support.engine_helpers import EchoQA

    from datagen.tasks.registry import TASKS, register_task

    register_task("echo_qa", EchoQA)
    try:
        with pytest.raises(UsageError, match="--structured: echo_qa has no JSON reply schema"):
            task_options(["echo_qa"], structured=True)
    finally:
        TASKS.pop("echo_qa")
    task_options(["grounded_qa"], structured=True)  # model-free: nothing to structure, no error
