"""`datagen export llava`: LLaVA-Instruct JSON from run dirs, per-task files, exclusions, bad input."""

from __future__ import annotations

import json
import os

import pytest
from support.cli import run_datagen, run_process
from support.paths import REPO

from datagen.common.jsonio import write_jsonl_atomic
from datagen.records import llava_record_problems, make_conversations, placement_rng


def result_row(image_id: int, task: str, pairs, placement="random"):
    sid = f"{task}:{image_id:012d}"
    return {
        "id": f"{image_id:012d}",
        "image": f"{image_id:012d}.jpg",
        "conversations": make_conversations(pairs, placement, placement_rng(0, sid)),
        "task": task,
        "sample_id": sid,
        "model": "test-model",
        "template_hash": "abc",
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
        "request_key": "k" + sid,
    }


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "run"
    rows = [
        result_row(
            126107, "conversation", [("What is in the sky?", "A kite."), ("What color?", "Red.")], "first"
        ),
        result_row(126107, "detail_description", [("Describe the image.", "A beach with people.")], "last"),
        result_row(165518, "complex_reasoning", [("Why is it busy?", "It is a holiday.")], "first"),
    ]
    write_jsonl_atomic(d / "results.jsonl", rows)
    (d / "failures.jsonl").write_text("")
    return d


def test_export_single_file_round_trips(run_dir, tmp_path):
    llava_json = tmp_path / "extra.json"
    extra = {
        "id": "000000229358",
        "image": "000000229358.jpg",
        "conversations": [
            {"from": "human", "value": "<image>\nWhat is this?"},
            {"from": "gpt", "value": "A dog."},
        ],
    }
    llava_json.write_text(json.dumps([extra]))
    out = tmp_path / "out" / "llava_instruct.json"
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}  # the real entry point, nothing inherited
    proc = run_process("export", "llava", run_dir, llava_json, "--out", out, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote 4 samples to {out}" in proc.stderr
    with open(out, encoding="utf-8") as f:
        data = json.load(f)
    assert [r["id"] for r in data] == ["000000126107", "000000126107", "000000165518", "000000229358"]
    assert all(list(r) == ["id", "image", "conversations"] for r in data)
    assert all(llava_record_problems(r) == [] for r in data)
    assert data[0] == {
        "id": "000000126107",
        "image": "000000126107.jpg",
        "conversations": [
            {"from": "human", "value": "<image>\nWhat is in the sky?"},
            {"from": "gpt", "value": "A kite."},
            {"from": "human", "value": "What color?"},
            {"from": "gpt", "value": "Red."},
        ],
    }
    assert data[1]["conversations"][0]["value"] == "Describe the image.\n<image>"
    assert data[3] == extra
    assert not list(out.parent.glob(".*.tmp"))  # no temp file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # like a plain open(), not mkstemp's 0600


def test_per_task_and_exclude_ids(run_dir, tmp_path):
    excl = tmp_path / "excluded.json"
    excl.write_text(json.dumps(["complex_reasoning:000000165518"]))
    out = tmp_path / "llava.json"
    proc = run_datagen("export", "llava", run_dir, "--out", out, "--per-task", "--exclude-ids", excl)
    assert proc.returncode == 0, proc.stderr
    conv = json.loads((tmp_path / "llava.conversation.json").read_text())
    detail = json.loads((tmp_path / "llava.detail_description.json").read_text())
    assert len(conv) == 1 and len(detail) == 1
    assert not (tmp_path / "llava.complex_reasoning.json").exists()
    assert not out.exists()

    # excluding by image id drops every task's sample for that image; a folder --out gets <task>.json
    excl.write_text(json.dumps(["000000126107"]))
    folder = tmp_path / "by_task"
    proc = run_datagen("export", "llava", run_dir, "--out", folder, "--per-task", "--exclude-ids", excl)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["complex_reasoning.json"]


def test_empty_run_writes_empty_array_with_warning(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    (d / "results.jsonl").write_text("")
    out = tmp_path / "o.json"
    proc = run_datagen("export", "llava", d, "--out", out)
    assert proc.returncode == 0
    assert json.loads(out.read_text()) == []
    assert "no samples to export" in proc.stderr


@pytest.mark.parametrize(
    "make_input, message",
    [
        (lambda t: t / "missing", "no such file or folder"),
        (lambda t: (t / "notrun").mkdir() or t / "notrun", "not a run directory"),
        (lambda t: (t / "x.json").write_text("[1, 2") and t / "x.json", "not valid JSON"),
        (lambda t: (t / "x.json").write_text('{"a": 1}') and t / "x.json", "expected a JSON array"),
    ],
)
def test_bad_inputs_leave_existing_output_intact(tmp_path, make_input, message):
    out = tmp_path / "out.json"
    out.write_text("[]\n")
    proc = run_datagen("export", "llava", make_input(tmp_path), "--out", out)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.read_text() == "[]\n"


def test_invalid_record_is_named(run_dir, tmp_path):
    bad = result_row(1, "conversation", [("Q one here?", "A one here.")])
    bad["conversations"] = list(reversed(bad["conversations"]))
    with open(run_dir / "results.jsonl", "a") as f:
        f.write(json.dumps(bad) + "\n")
    proc = run_datagen("export", "llava", run_dir, "--out", tmp_path / "o.json")
    assert proc.returncode == 2
    assert f"{run_dir / 'results.jsonl'}:4: not a valid LLaVA record" in proc.stderr
    assert "turn 0 is from 'gpt'" in proc.stderr
    assert not (tmp_path / "o.json").exists()


def test_bad_exclude_ids_file(run_dir, tmp_path):
    excl = tmp_path / "ids.json"
    excl.write_text('{"not": "a list"}')
    proc = run_datagen("export", "llava", run_dir, "--out", tmp_path / "o.json", "--exclude-ids", excl)
    assert proc.returncode == 2 and "expected a JSON array of ids" in proc.stderr


def test_out_is_a_folder(run_dir, tmp_path):
    folder = tmp_path / "existing"
    folder.mkdir()
    proc = run_datagen("export", "llava", run_dir, "--out", folder)
    assert proc.returncode == 2 and f"{folder}: is a folder" in proc.stderr
    assert list(folder.iterdir()) == []
