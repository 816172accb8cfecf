"""LLaVA end to end on the real COCO-mini images: contexts → three tasks → loopback model server with
scripted replies (good ones and every malformed shape) → parse → filters → results/failures → export.
"""

from __future__ import annotations

import json

import pytest
from support.jsonl import read_jsonl
from support.llava_helpers import BIRD, DETAIL_GOOD, MIRROR, MOTO, REASON_TWO, config, scripted_server

from datagen.common.resources import templates_root
from datagen.engine.generate import run_llava
from datagen.engine.options import llava_options, select_tasks
from datagen.export.llava import export_llava
from datagen.prompts.instructions import load_instructions, pick_instruction
from datagen.records import llava_record_problems
from datagen.review.stats import dataset_stats
from datagen.sources.load import SourceSpec, load_contexts


@pytest.fixture
def contexts(coco_mini):
    records, _report = load_contexts(SourceSpec(coco=coco_mini, split="val2017"))
    assert [r["id"] for r in records] == [MOTO, MIRROR, BIRD]
    return records


def test_three_tasks_through_the_loopback_server(fake_llm, contexts, tmp_path):
    opts = llava_options(image_token="first", seed=0)
    asked = scripted_server(fake_llm, contexts, opts)
    run = tmp_path / "run"
    stats = run_llava(select_tasks("llava"), lambda: contexts, opts, config(fake_llm), run)
    assert stats.ok == 4
    assert asked[f"conversation:{BIRD}"] == 2 and asked[f"complex_reasoning:{MIRROR}"] == 3

    results = {r["sample_id"]: r for r in read_jsonl(run / "results.jsonl")}
    assert sorted(results) == sorted(
        [
            f"conversation:{MOTO}",
            f"conversation:{BIRD}",
            f"detail_description:{MOTO}",
            f"complex_reasoning:{MOTO}",
        ]
    )
    conv = results[f"conversation:{MOTO}"]
    assert {k: conv[k] for k in ("id", "image", "conversations", "task", "model")} == {
        "id": MOTO,
        "image": f"{MOTO}.jpg",
        "conversations": [
            {"from": "human", "value": "<image>\nWhat is the person riding?"},
            {"from": "gpt", "value": "The person is riding a motorcycle along a road."},
            {"from": "human", "value": "What is the weather like?"},
            {"from": "gpt", "value": "It is foggy and dark, so visibility on the road is poor."},
        ],
        "task": "conversation",
        "model": "test-model",
    }
    assert (
        results[f"conversation:{BIRD}"]["conversations"][1]["value"]
        == "A large white seagull flies over the sand."
    )

    detail = results[f"detail_description:{MOTO}"]
    ours = load_instructions(templates_root() / "detail_description" / "instructions.txt")
    question = pick_instruction(ours, 0, f"detail_description:{MOTO}")
    assert question in ours
    assert detail["conversations"] == [
        {"from": "human", "value": f"<image>\n{question}"},
        {"from": "gpt", "value": DETAIL_GOOD},
    ]
    reason = results[f"complex_reasoning:{MOTO}"]["conversations"]
    assert reason[0]["value"] == "<image>\nWhy should the motorcyclist ride carefully here?"
    assert len(reason) == 2

    failures = {f["sample_id"]: f for f in read_jsonl(run / "failures.jsonl")}
    assert {sid: (f["stage"], f.get("filter")) for sid, f in failures.items()} == {
        f"conversation:{MIRROR}": ("filter", "leak"),
        f"detail_description:{MIRROR}": ("filter", "leak"),
        f"detail_description:{BIRD}": ("filter", "short_turn"),
        f"complex_reasoning:{MIRROR}": ("parse", None),
        f"complex_reasoning:{BIRD}": ("filter", "duplicate"),
    }
    assert failures[f"conversation:{MIRROR}"]["reason"] == "turn 1 answer mentions captions"
    assert failures[f"detail_description:{MIRROR}"]["reason"] == "turn 1 answer mentions bounding boxes"
    assert (
        failures[f"complex_reasoning:{MIRROR}"]["reason"]
        == "expected exactly one question/answer pair, found 2"
    )
    assert failures[f"complex_reasoning:{MIRROR}"]["attempts"] == 3
    assert failures[f"complex_reasoning:{MIRROR}"]["raw"] == REASON_TWO
    assert (
        failures[f"complex_reasoning:{BIRD}"]["reason"]
        == f"exact duplicate of sample complex_reasoning:{MOTO}"
    )

    meta = json.loads((run / "run.json").read_text())
    assert meta["filters"] == {"leak": 2, "short_turn": 1, "duplicate": 1}
    assert meta["config"]["tasks"] == ["conversation", "detail_description", "complex_reasoning"]
    assert meta["config"]["image_token"] == "first"

    # export → json.load → LLaVA loader rules; stats agree with the run
    out = tmp_path / "llava.json"
    export_llava([run], out)
    with open(out, encoding="utf-8") as f:
        data = json.load(f)
    assert len(data) == 4 and all(llava_record_problems(r) == [] for r in data)
    assert all(set(r) == {"id", "image", "conversations"} for r in data)
    assert data[[r["conversations"] for r in data].index(conv["conversations"])]["id"] == MOTO
    s = dataset_stats([run])
    assert {t: v["samples"] for t, v in s["tasks"].items()} == {
        "conversation": 2,
        "detail_description": 1,
        "complex_reasoning": 1,
    }
    assert s["filter_drops"] == {"leak": 2, "duplicate": 1, "short_turn": 1}
    assert s["failures_by_stage"] == {"filter": 4, "parse": 1}


def test_resume_no_filter_and_duplicates_seeded(fake_llm, contexts, tmp_path):
    opts = llava_options(image_token="random", seed=3)
    scripted_server(fake_llm, contexts, opts)
    run = tmp_path / "run"
    run_llava(select_tasks("llava"), lambda: contexts, opts, config(fake_llm), run)
    sent = len(fake_llm.log)

    # Re-run with the leak filter off: the two leaky replies are re-judged from failures.jsonl,
    # nothing is asked again except the sample that never parsed.
    opts2 = llava_options(image_token="random", seed=3, no_filter=["leak"])
    stats = run_llava(select_tasks("llava"), lambda: contexts, opts2, config(fake_llm), run)
    assert stats.ok == 2
    assert len(fake_llm.log) == sent + 3  # complex_reasoning:MIRROR re-asked 3 times, nothing else
    ids = [r["sample_id"] for r in read_jsonl(run / "results.jsonl")]
    assert f"conversation:{MIRROR}" in ids and f"detail_description:{MIRROR}" in ids
    assert len(ids) == len(set(ids)) == 6
    # the duplicate stays rejected on resume: the tracker learned the earlier results first
    fails = {f["sample_id"]: f.get("filter") for f in read_jsonl(run / "failures.jsonl")}
    assert fails[f"complex_reasoning:{BIRD}"] == "duplicate"

    # random placement: every first turn has <image> at one end, and all rows pass the loader rules
    rows = read_jsonl(run / "results.jsonl")
    firsts = [r["conversations"][0]["value"] for r in rows]
    assert all(v.startswith("<image>\n") or v.endswith("\n<image>") for v in firsts)
    assert all(llava_record_problems(r) == [] for r in rows)


def test_task_selection_and_option_errors(tmp_path):
    from datagen.errors import InputError, UsageError

    assert select_tasks("llava", "detail, conversation,detail") == ["detail_description", "conversation"]
    assert select_tasks("reasoning") == ["complex_reasoning"]
    with pytest.raises(UsageError, match="not a LLaVA task|unknown task"):
        select_tasks("llava", "caption_rewrite")
    with pytest.raises(UsageError, match="--tasks only goes with"):
        select_tasks("conversation", "detail")
    with pytest.raises(UsageError, match="--no-filter: unknown filter 'lek'"):
        llava_options(no_filter=["lek"])
    with pytest.raises(UsageError, match="--image-token 'middle'"):
        llava_options(image_token="middle")
    with pytest.raises(InputError, match="no such instruction list"):
        llava_options(instructions=tmp_path / "missing.txt")
