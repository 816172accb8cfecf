"""A real `datagen generate llava` run (scripted replies on loopback) through export hf and the adapter.

Multi-round conversations, detail descriptions and reasoning samples exactly as the LLaVA tasks
write them, so the export's schema, card and the adapter's formats are pinned to real task output.
"""

from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest
from support.cli import run_cli
from support.engine_helpers import run_echo_cli
from support.jsonl import read_jsonl
from support.llava_helpers import SCRIPT, scripted_server

from datagen.engine.options import llava_options
from datagen.export.hf import record_from_row
from datagen.sources.load import SourceSpec, load_contexts


@pytest.fixture
def llava_run(fake_llm, coco_mini, tmp_path):
    contexts, _ = load_contexts(SourceSpec(coco=coco_mini, split="val2017"))
    scripted_server(fake_llm, contexts, llava_options(image_token="random"), SCRIPT)
    run = tmp_path / "run"
    args = ["generate", "llava", "--coco", coco_mini, "--split", "val2017", "--out", run]
    args += ["--base-url", fake_llm.url, "--model", "test-model", "--concurrency", "1", "--quiet"]
    proc = run_echo_cli(*args, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return run


def test_llava_run_by_task_export_card_and_adapters(llava_run, tmp_path, coco_mini, capsys):
    results = read_jsonl(llava_run / "results.jsonl")
    tasks = Counter(r["task"] for r in results)
    assert len(tasks) >= 2 and max(len(r["conversations"]) for r in results) >= 4  # multi-round present
    out = tmp_path / "hf"
    images = coco_mini / "val2017"
    args = ["export", "hf", str(llava_run), "--out", str(out), "--by-task", "--images", str(images)]
    code, _, err = run_cli([*args, "--embed-images"], capsys)
    assert code == 0, err
    dd = datasets.load_dataset("parquet", data_dir=str(out))
    assert {k: len(v) for k, v in dd.items()} == dict(tasks)
    for task, d in dd.items():
        raw = d.cast_column("image", datasets.Image(decode=False))
        assert [record_from_row(r) for r in raw] == [r for r in results if r["task"] == task]
    card = (out / "README.md").read_text()
    assert all(f"| {t} | {n} |" in card for t, n in tasks.items())
    meta = json.loads((llava_run / "run.json").read_text())
    assert all(h in card for h in meta["template_hashes"].values())

    lf = tmp_path / "lf"
    code, _, err = run_cli(
        ["adapt", "llama-factory", str(llava_run), "--out", str(lf), "--images", str(images)], capsys
    )
    assert code == 0, err
    for row in json.loads((lf / "datagen.json").read_text()):
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"] * (len(row["messages"]) // 2)
        assert sum(m["content"].count("<image>") for m in row["messages"]) == len(row["images"]) == 1
