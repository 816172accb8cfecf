"""Every reply shape through the real pipeline on COCO-mini's 80 train images, LLaVA-layout template
folders, and `--instructions`: counts of results, parse failures and filter drops are exact."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from support.fakeserver import Reply
from support.jsonl import read_jsonl

from datagen.engine.generate import run_llava
from datagen.engine.options import llava_options
from datagen.engine.runner import EngineConfig
from datagen.export.llava import export_llava
from datagen.records import llava_record_problems
from datagen.sources.load import SourceSpec, load_contexts

# (reply template, expected outcome). {i} makes every reply unique so only the intended
# duplicates collide. Outcome: "ok", "parse", or "filter:<name>".
SHAPES = [
    ("Question:\nWhat is shown in picture {i}?\n===\nAnswer:\nA scene with people and objects {i}.", "ok"),
    ("Q: What is shown in picture {i}?\nA: A scene with people and objects {i}.\n===\n", "ok"),
    ("**Question:** What is shown in picture {i}?\n\n**Answer:** A scene with several objects {i}.", "ok"),
    ("1. Question: What is shown in picture {i}?\n   Answer: A scene with a few objects {i}.", "ok"),
    ("Question:\r\nWhat is in photo {i}?\r\n===\r\nAnswer:\r\nA few things on a table {i}.\r\n", "ok"),
    ("Here you go:\nQuestion 1: What is in photo {i}?\nAnswer 1: Some items on a desk {i}.", "ok"),
    ("", "parse"),
    ("Just a description of image {i} without any labels.", "parse"),
    ("Answer:\nA thing {i}.\n===\nQuestion:\nWhat is it?", "parse"),
    ("Question:\nWhat is it {i}?\n===\nQuestion:\nWhere?\n===\nAnswer:\nHere.", "parse"),
    ("Question:\nWhat is in photo {i}?\n===\nAnswer:\nA cat.\n===\nQuestion:\nWhy?", "parse"),
    ("Question:\nWhat do the captions of photo {i} say?\n===\nAnswer:\nThey mention a dog.", "filter:leak"),
    (
        "Question:\nWhere is the dog {i}?\n===\nAnswer:\nIts coordinates are [0.1, 0.2, 0.3, 0.4].",
        "filter:leak",
    ),
    (
        "Question:\nWhat is in photo {i}?\n===\nAnswer:\nI cannot see the image, sorry about that.",
        "filter:leak",
    ),
    (
        "Question:\nWho is this person {i}?\n===\nAnswer:\nI'm sorry, but I can't help identify people.",
        "filter:refusal",
    ),
    ("Question:\nWhat is in photo {i}?\n===\nAnswer:\nCat.", "filter:short_turn"),
    (
        "Question:\nWhat is in photo {i}?\n===\nAnswer:\nA dog on grass.\n===\n"
        "Question:\nWhat is in photo {i}?\n===\nAnswer:\nStill a dog on the grass.",
        "filter:repeated_question",
    ),
    ("Question:\nWhat is in the picture?\n===\nAnswer:\nA generic scene with nothing special.", "dup"),
]


@pytest.fixture(scope="module")
def train_contexts(coco_mini):
    records, _ = load_contexts(SourceSpec(coco=coco_mini, split="train2017"))
    assert len(records) == 80
    return records


def test_every_shape_counts_exactly(fake_llm, train_contexts, tmp_path):
    order = {rec["id"]: i for i, rec in enumerate(train_contexts)}
    by_context: dict[str, str] = {}
    for rec in train_contexts:
        by_context["\n".join(rec["captions"])] = rec["id"]

    def handler(body):
        ctx = body["messages"][-1]["content"]
        i = order[next(v for k, v in by_context.items() if ctx.startswith(k))]
        return Reply(SHAPES[i % len(SHAPES)][0].format(i=i))

    fake_llm.handler = handler
    cfg = EngineConfig(model="m", base_urls=[fake_llm.url], api_key=None, quiet=True, max_attempts=1)
    opts = llava_options(image_token="random", seed=1)
    run = tmp_path / "run"
    run_llava(["conversation"], lambda: train_contexts, opts, cfg, run)

    expected = Counter(SHAPES[i % len(SHAPES)][1] for i in range(80))
    # the first generic reply is accepted, the others are duplicates of it
    expected["ok"] += 1
    expected["filter:duplicate"] = expected.pop("dup") - 1
    results = read_jsonl(run / "results.jsonl")
    failures = read_jsonl(run / "failures.jsonl")
    got = Counter(["ok"] * len(results))
    got.update("parse" if f["stage"] == "parse" else f"filter:{f['filter']}" for f in failures)
    assert got == expected
    assert all(llava_record_problems(r) == [] for r in results)
    placements = Counter(r["conversations"][0]["value"].startswith("<image>") for r in results)
    assert placements[True] > 0 and placements[False] > 0  # random placement, seeded per sample
    meta = json.loads((run / "run.json").read_text())
    assert meta["filters"] == {k.split(":")[1]: v for k, v in expected.items() if k.startswith("filter:")}

    out = tmp_path / "conv.json"
    assert export_llava([run], out).total == len(results)
    with open(out, encoding="utf-8") as f:
        assert [r["id"] for r in json.load(f)] == [r["id"] for r in results]


def test_llava_layout_templates_and_custom_instructions(fake_llm, train_contexts, tmp_path):
    """A folder in LLaVA's published layout (no task.toml, no trailing newlines) drives the request."""
    prompts = tmp_path / "prompts"
    for task in ("conversation", "detail_description", "complex_reasoning"):
        d = prompts / task
        d.mkdir(parents=True)
        (d / "system_message.txt").write_bytes(f"You are an AI visual assistant ({task}).".encode())
        for n in range(2):
            (d / f"{n:03d}_caps.txt").write_bytes(f"example context {n} for {task}".encode())
            (d / f"{n:03d}_conv.txt").write_bytes(
                f"Question:\nexample {n}?\n===\nAnswer:\nanswer {n}.".encode()
            )
    instructions = tmp_path / "instr.txt"
    instructions.write_text("Describe the following image in detail.\n")
    bodies = []

    def handler(body):
        bodies.append(body)
        system = body["messages"][0]["content"]
        if "detail" in system:
            return Reply(" ".join([f"A busy street with {len(bodies)} buses and people walking by."] * 4))
        return Reply(
            f"Question:\nWhat is here {len(bodies)}?\n===\nAnswer:\nSomething worth seeing {len(bodies)}."
        )

    fake_llm.handler = handler
    cfg = EngineConfig(model="m", base_urls=[fake_llm.url], api_key=None, quiet=True, concurrency=1)
    opts = llava_options(templates_dir=prompts, instructions=instructions, image_token="last")
    tasks = ["conversation", "detail_description", "complex_reasoning"]
    run_llava(tasks, lambda: train_contexts, opts, cfg, tmp_path / "run", limit_per_task=2)
    assert len(bodies) == 6
    first = train_contexts[0]
    conv_msgs = bodies[0]["messages"]
    assert conv_msgs[:5] == [
        {"role": "system", "content": "You are an AI visual assistant (conversation)."},
        {"role": "user", "content": "example context 0 for conversation"},
        {"role": "assistant", "content": "Question:\nexample 0?\n===\nAnswer:\nanswer 0."},
        {"role": "user", "content": "example context 1 for conversation"},
        {"role": "assistant", "content": "Question:\nexample 1?\n===\nAnswer:\nanswer 1."},
    ]
    # final user message: the image's captions only for conversation (inherited setting) ...
    assert conv_msgs[5] == {"role": "user", "content": "\n".join(first["captions"])}
    assert len(conv_msgs) == 6
    # ... captions + boxes for detail description
    detail_msgs = bodies[2]["messages"]
    assert detail_msgs[0]["content"] == "You are an AI visual assistant (detail_description)."
    assert detail_msgs[-1]["content"].startswith("\n".join(first["captions"]) + "\n\n")
    rows = read_jsonl(tmp_path / "run" / "results.jsonl")
    detail_rows = [r for r in rows if r["task"] == "detail_description"]
    assert len(rows) == 6 and len(detail_rows) == 2
    assert all(
        r["conversations"][0]["value"] == "Describe the following image in detail.\n<image>"
        for r in detail_rows
    )
