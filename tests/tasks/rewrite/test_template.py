"""Our caption_rewrite template: loads in LLaVA's layout, its examples obey our own filters, and the
jobs it builds carry exactly system + few-shot pairs + the description."""

from __future__ import annotations

from pathlib import Path

from datagen.common.resources import templates_root
from datagen.prompts.templates import load_template
from datagen.tasks.base import TaskOptions
from datagen.tasks.rewrite.task import CaptionRewriteTask, RewriteOptions

ROWS = [
    {
        "id": "000000165518",
        "image": "000000165518.jpg",
        "description": "A man rides a motorcycle. A man rides a motorcycle.",
    },
    {"id": "2", "image": "2.jpg", "description": "Curly {braces} and $dollars stay as they are."},
]


def test_bundled_template_layout_and_settings() -> None:
    tpl = load_template("caption_rewrite")
    folder = templates_root() / "caption_rewrite"
    assert tpl.folder == folder
    assert len(tpl.examples) == 3
    assert tpl.max_tokens == 700
    assert len(tpl.instructions) >= 10
    assert "nothing else" in tpl.system
    for name in ("system_message.txt", "000_caps.txt", "000_conv.txt"):
        assert not (folder / name).read_text(encoding="utf-8").endswith("\n")  # byte for byte, like LLaVA's


def test_examples_obey_the_filters_they_teach() -> None:
    """Each example answer passes every filter; each flawed example input fails at least one."""
    task = CaptionRewriteTask()
    tpl = load_template("caption_rewrite")
    for i, (caps, conv) in enumerate(tpl.examples):
        job = task.build_jobs([{"id": str(i), "image": f"{i}.jpg", "description": caps}], TaskOptions()).jobs[
            0
        ]
        pairs = task.parse(conv, job)
        assert [n for n, fn in task.filters() if fn(pairs, job)] == [], f"example {i} answer"
        flawed = [n for n, fn in task.filters() if fn(task.parse(caps, job), job)]
        if caps == conv:
            assert flawed == [], "the unchanged example must be clean"
        else:
            assert flawed, f"example {i} input has no detectable flaw"


def test_jobs_are_system_pairs_then_the_description() -> None:
    task = CaptionRewriteTask()
    jobs = list(task.build_jobs(ROWS, TaskOptions(seed=3, task_options=[RewriteOptions(min_words=0)])))
    tpl = load_template("caption_rewrite")
    assert [j.sample_id for j in jobs] == ["caption_rewrite:000000165518", "caption_rewrite:2"]
    msgs = jobs[1].messages
    assert [m["role"] for m in msgs] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert msgs[0]["content"] == tpl.system
    assert msgs[1]["content"] == tpl.examples[0][0] and msgs[2]["content"] == tpl.examples[0][1]
    assert msgs[-1]["content"] == ROWS[1]["description"]  # braces and $ untouched
    assert all(j.template_hash == tpl.hash and j.max_tokens == 700 for j in jobs)
    assert all(j.source["instruction"] in tpl.instructions for j in jobs)
    again = list(
        CaptionRewriteTask().build_jobs(ROWS, TaskOptions(seed=3, task_options=[RewriteOptions(min_words=0)]))
    )
    assert [j.source["instruction"] for j in again] == [j.source["instruction"] for j in jobs]  # seeded


def test_user_templates_dir_replaces_the_prompt(tmp_path: Path) -> None:
    own = tmp_path / "caption_rewrite"
    own.mkdir()
    (own / "system_message.txt").write_text("Fix the paragraph.")
    (own / "000_caps.txt").write_text("A cat. A cat.")
    (own / "000_conv.txt").write_text("A cat.")
    job = CaptionRewriteTask().build_jobs(ROWS[:1], TaskOptions(templates_dir=str(tmp_path))).jobs[0]
    assert [m["content"] for m in job.messages] == [
        "Fix the paragraph.",
        "A cat. A cat.",
        "A cat.",
        ROWS[0]["description"],
    ]
    assert job.max_tokens == 700  # settings inherited from our bundled task.toml
