"""The caption_rewrite task: sources from options, parsing, named filters and the record it builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datagen.errors import ParseError, UsageError
from datagen.records import llava_record_problems
from datagen.tasks.base import Job, TaskOptions
from datagen.tasks.registry import get_task
from datagen.tasks.rewrite.task import CaptionRewriteTask, RewriteOptions

SOURCE = (
    "A man rides a motorcycle down a foggy road. A man rides a motorcycle down a foggy road. The rider "
    "wears dark clothes ## and the headlight glows through the mist. 这是一辆摩托车。 Trees line both sides of the"
)
FIXED = (
    "A man rides a motorcycle down a foggy road. The rider wears dark clothes, and the headlight glows "
    "through the mist. Trees line both sides of the road."
)


def job(source_text: str = SOURCE, id_: str = "000000165518") -> Job:
    return Job(
        sample_id=f"caption_rewrite:{id_}",
        task="caption_rewrite",
        messages=[{"role": "user", "content": source_text}],
        source={"id": id_, "image": f"{id_}.jpg", "description": source_text, "instruction": "Describe it."},
    )


def first_rejection(task: CaptionRewriteTask, reply: str, j: Job) -> str | None:
    pairs = task.parse(reply, j)
    for name, fn in task.filters():
        if fn(pairs, j):
            return name
    return None


def test_registered_under_its_name() -> None:
    assert isinstance(get_task("caption_rewrite"), CaptionRewriteTask)


@pytest.mark.parametrize(
    ("reply", "rejected_by"),
    [
        (FIXED, None),
        (f'"{FIXED}"', None),
        ("Here is the corrected paragraph:\n\n" + FIXED, "preamble"),
        (FIXED + "\n\nNote: I removed the Chinese sentence.", "preamble"),
        ("I'm sorry, but I can't process this description.", "apology"),
        ("As an AI, I cannot view the image to verify the description.", "apology"),
        ("A man rides a motorcycle down a foggy road. The rider wears dark clothes, and the", "cut_off"),
        (
            "Un homme conduit une moto sur une route brumeuse, et les arbres bordent les deux côtés.",
            "not_english",
        ),
        (FIXED + " 这是一辆摩托车。", "not_english"),
        (SOURCE + ".", "not_english"),
        (
            "A man rides a motorcycle down a foggy road. A man rides a motorcycle down a foggy road. The end.",
            "repeats",
        ),
        ("A motorcycle on a road.", "lost_content"),
    ],
)
def test_scripted_replies(reply: str, rejected_by: str | None) -> None:
    task = CaptionRewriteTask()
    assert first_rejection(task, reply, job()) == rejected_by


def test_filter_names_and_min_ratio_option() -> None:
    task = CaptionRewriteTask()
    names = [n for n, _ in task.filters()]
    assert names == ["apology", "preamble", "not_english", "cut_off", "repeats", "lost_content"]
    short = "A man rides a motorcycle down a foggy road through the mist."  # 12 of 29 source words kept
    assert first_rejection(task, short, job()) == "lost_content"
    lenient = job()
    lenient.source["min_ratio"] = 0.3  # what build_jobs puts there from --min-ratio
    assert first_rejection(task, short, lenient) is None


def test_unchanged_clean_text_is_accepted_and_unchanged_flawed_text_is_not() -> None:
    task = CaptionRewriteTask()
    assert first_rejection(task, FIXED, job(FIXED)) is None
    flawed = "A dog sleeps on a red couch in the sun. A dog sleeps on a red couch in the sun."
    assert first_rejection(task, flawed, job(flawed)) == "repeats"


def test_empty_reply_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="empty reply"):
        CaptionRewriteTask().parse('  ""  ', job())


def test_record_keeps_source_text_and_follows_llava_rules() -> None:
    task = CaptionRewriteTask()
    j = job()
    rec = task.to_record(task.parse(FIXED, j), j, TaskOptions(image_token="first"))
    assert rec == {
        "id": "000000165518",
        "image": "000000165518.jpg",
        "conversations": [
            {"from": "human", "value": "<image>\nDescribe it."},
            {"from": "gpt", "value": FIXED},
        ],
        "source_text": SOURCE,
    }
    assert llava_record_problems(rec) == []


def test_load_sources_reads_options_and_build_jobs_flags_short_inputs(tmp_path: Path) -> None:
    p = tmp_path / "d.jsonl"
    p.write_text(
        json.dumps({"file": "a.jpg", "text": SOURCE})
        + "\n"
        + json.dumps({"file": "b.jpg", "text": "Too short."})
        + "\n"
    )
    task = CaptionRewriteTask()
    rewrite = RewriteOptions(descriptions=str(p), id_field="file", text_field="text", min_words=5)
    opts = TaskOptions(task_options=[rewrite])
    rows = task.load_sources(opts)
    assert rows == [
        {"id": "a", "image": "a.jpg", "description": SOURCE},
        {"id": "b", "image": "b.jpg", "description": "Too short."},
    ]
    planned = task.build_jobs(rows, opts)
    assert [j.sample_id for j in planned.jobs] == ["caption_rewrite:a"]
    assert [(r.source["id"], r.task, r.filter) for r in planned.rejected] == [
        ("b", "caption_rewrite", "too_short_input")
    ]
    # a --limit applied to the rows first: only the first description is considered at all
    later = task.build_jobs(rows[1:], opts)
    assert later.jobs == [] and len(later.rejected) == 1
    rewrite.min_words = 0
    everything = task.build_jobs(rows, opts)
    assert len(everything.jobs) == 2 and everything.rejected == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "exactly one of --descriptions FILE or --from-run RUN_DIR"),
        ({"descriptions": "a.jsonl", "from_run": "run"}, "exactly one of"),
        ({"descriptions": "d.jsonl", "min_words": -1}, "--min-words must be 0 or more"),
    ],
)
def test_load_sources_usage_errors(tmp_path: Path, extra: dict, message: str) -> None:
    (tmp_path / "d.jsonl").write_text(json.dumps({"image_id": 1, "caption": SOURCE}) + "\n")
    if "descriptions" in extra:
        extra["descriptions"] = str(tmp_path / extra["descriptions"])
    with pytest.raises(UsageError, match=message):
        CaptionRewriteTask().load_sources(TaskOptions(task_options=[RewriteOptions(**extra)]))
