"""The LLaVA commands as a user runs them: `datagen generate llava` (subprocess) against the loopback
server, then `datagen export llava` and `datagen stats`; plus every bad LLaVA option."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from support.cli import run_datagen, run_process
from support.jsonl import read_jsonl
from support.llava_helpers import BIRD, MIRROR, MOTO, SCRIPT, scripted_server
from support.paths import REPO

from datagen.engine.options import llava_options
from datagen.records import llava_record_problems
from datagen.sources.load import SourceSpec, load_contexts


def datagen(*args: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["PYTHONPATH"] = str(REPO)
    return run_process(*args, env=env, cwd=REPO, timeout=120)


def test_generate_export_stats(fake_llm, coco_mini, tmp_path):
    contexts, _ = load_contexts(SourceSpec(coco=coco_mini, split="val2017"))
    scripted_server(fake_llm, contexts, llava_options(image_token="first"), SCRIPT)
    run = tmp_path / "run"
    common = ["--coco", coco_mini, "--split", "val2017", "--out", run, "--base-url", fake_llm.url]
    common += ["--model", "test-model", "--concurrency", "1", "--quiet", "--image-token", "first"]
    proc = datagen("generate", "llava", *common)
    assert proc.returncode == 0, proc.stderr
    rows = read_jsonl(run / "results.jsonl")
    assert len(rows) == 4
    conv = next(r for r in rows if r["sample_id"] == f"conversation:{MOTO}")
    assert conv["conversations"][0] == {"from": "human", "value": "<image>\nWhat is the person riding?"}
    meta = json.loads((run / "run.json").read_text())
    assert meta["filters"] == {"leak": 2, "short_turn": 1, "duplicate": 1}
    assert meta["config"]["image_token"] == "first" and meta["config"]["disabled_filters"] == []

    out = tmp_path / "llava_instruct.json"
    proc = run_datagen("export", "llava", run, "--out", out)
    assert proc.returncode == 0, proc.stderr
    with open(out, encoding="utf-8") as f:
        data = json.load(f)
    assert len(data) == 4 and all(llava_record_problems(r) == [] and len(r) == 3 for r in data)

    proc = run_datagen("stats", run, "--json")
    stats = json.loads(proc.stdout)
    assert stats["filter_drops"] == {"leak": 2, "duplicate": 1, "short_turn": 1}
    assert stats["failures_by_stage"] == {"filter": 4, "parse": 1}

    # a re-run with the leak filter off recovers the two leaky samples without asking again for them
    sent = len(fake_llm.log)
    proc = datagen("generate", "llava", *common, "--no-filter", "leak", "--tasks", "conversation,detail")
    assert proc.returncode == 0, proc.stderr
    assert len(fake_llm.log) == sent
    ids = {json.loads(x)["sample_id"] for x in (run / "results.jsonl").read_text().splitlines()}
    assert {f"conversation:{MIRROR}", f"detail_description:{MIRROR}"} <= ids and len(ids) == 6
    assert f"detail_description:{BIRD}" not in ids  # still too short


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--image-token", "middle"], "--image-token 'middle' is not one of first, last, random"),
        (["--no-filter", "lek"], "--no-filter: unknown filter 'lek'"),
        (["--tasks", "caption_rewrite"], "unknown task 'caption_rewrite'|not a LLaVA task"),
        (["--tasks", ","], "--tasks is empty"),
        (["--instructions", "/nonexistent/list.txt"], "no such instruction list"),
        (["--limit", "2", "--limit-per-task", "3"], "--limit-per-task is the old spelling of --limit"),
    ],
)
def test_bad_llava_options(coco_mini, tmp_path, extra, message):
    import re

    run = tmp_path / "run"
    proc = run_datagen(
        "generate", "llava", "--coco", coco_mini, "--split", "val2017", "--out", run, "--dry-run", *extra
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: ") and re.search(message, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert not run.exists()


def test_dry_run_respects_tasks_and_limit_per_task(coco_mini, tmp_path):
    run = tmp_path / "dry"
    proc = run_datagen(
        "generate", "llava", "--coco", coco_mini, "--split", "train2017", "--out", run, "--dry-run",
        "--tasks", "detail,reasoning", "--limit-per-task", "4",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # the old spelling of --limit still works this release, and says so once
    assert proc.stderr.count("warning: --limit-per-task is deprecated; use --limit") == 1
    ids = [json.loads(x)["custom_id"] for x in (run / "requests.jsonl").read_text().splitlines()]
    assert [i.split(":")[0] for i in ids] == ["detail_description"] * 4 + ["complex_reasoning"] * 4
