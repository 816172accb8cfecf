"""`datagen audit` as a user runs it: a run directory (ground truth from its run.json), an exported
HF dataset, `--fail-on`, `--compare`, and the one-line errors for inputs it cannot audit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, run_cli, run_datagen

os.environ.setdefault("HF_HUB_OFFLINE", "1")
COCO = ["--coco", "data/coco", "--split", "val2017"]


@pytest.fixture(scope="module")
def grounded_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "grounded"
    done = run_datagen("generate", "grounded_qa", *COCO, "--out", run)
    assert done.returncode == 0, done.stderr
    return run


def test_run_dir_uses_its_recorded_source(grounded_run: Path, tmp_path: Path) -> None:
    done = run_datagen("audit", grounded_run, "--out", tmp_path / "a")
    assert done.returncode == 0, done.stderr
    figures = json.loads((tmp_path / "a" / "audit.json").read_text())
    (source,) = figures["ground_truth"]  # read straight from the instances file run.json names
    assert source.startswith("--instances ") and source.endswith(
        "data/coco/annotations/instances_val2017.json"
    )
    assert figures["headline"]["samples"] == 3 and figures["headline"]["chair_s"] == 0.0
    assert figures["headline"]["box_unmatched"] in (0.0, None) and figures["headline"]["no_truth"] == 0.0
    assert "chair_s" in done.stdout and "task:grounded_qa" in done.stdout  # the rich summary table
    assert (tmp_path / "a" / "report.html").exists()


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_exported_hf_dataset(grounded_run: Path, tmp_path: Path, fmt: str) -> None:
    hf = tmp_path / "hf"
    done = run_datagen("export", "hf", grounded_run, "--out", hf, "--format", fmt)
    assert done.returncode == 0, done.stderr
    done = run_datagen("audit", hf, *COCO, "--out", tmp_path / "a", "--no-html")
    assert done.returncode == 0, done.stderr
    figures = json.loads((tmp_path / "a" / "audit.json").read_text())
    assert figures["headline"]["samples"] == 3 and figures["groups"]["overall"]["samples_checked"] == 3
    assert not (tmp_path / "a" / "report.html").exists()


def test_fail_on_exits_non_zero_after_writing(grounded_run: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(
        ["audit", str(grounded_run), "--out", str(tmp_path / "a"), "--fail-on", "recall<0.99,chair_s>0"],
        capsys,
    )
    assert code == 1 and "Audit failed: recall = " in err and "chair_s" not in err
    assert (tmp_path / "a" / "audit.json").exists()
    code, _, err = run_cli(
        ["audit", str(grounded_run), "--out", str(tmp_path / "b"), "--fail-on", "chair>0.2"], capsys
    )
    assert_one_line_error(code, err, "--fail-on: unknown figure 'chair'")
    assert not (tmp_path / "b").exists()


def test_compare_two_inputs(grounded_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    rows = json.loads(
        json.dumps([json.loads(x) for x in (grounded_run / "results.jsonl").read_text().splitlines()])
    )
    for r in rows:
        r["conversations"][1]["value"] = "A dog and a cat sit on the bed."
    other.write_text(json.dumps(rows))
    done = run_datagen("audit", "--compare", grounded_run, other, *COCO, "--out", tmp_path / "c")
    assert done.returncode == 0, done.stderr
    cmp = json.loads((tmp_path / "c" / "compare.json").read_text())
    by_name = {r["figure"]: r for r in cmp["figures"]}
    chair = by_name["headline.chair_s"]
    assert chair["a"] == 0.0 and chair["b"] == 1.0 and chair["diff"] == 1.0
    assert "groups.task:grounded_qa.chair_i" in by_name
    assert (tmp_path / "c" / "a" / "report.html").exists() and (tmp_path / "c" / "compare.html").exists()
    assert "chair_s" in done.stdout


def test_json_without_ground_truth_names_the_options(tmp_path: Path, capsys) -> None:
    p = tmp_path / "llava.json"
    p.write_text(json.dumps([{"id": "1", "image": "000000165518.jpg", "conversations": [
        {"from": "human", "value": "<image>\nWhat is it?"}, {"from": "gpt", "value": "A motorcycle."}]}]))  # fmt: skip
    code, _, err = run_cli(["audit", str(p), "--out", str(tmp_path / "a")], capsys)
    assert_one_line_error(code, err, "no ground truth for", str(p), "--instances", "--coco", "--contexts")


def test_empty_and_missing_inputs(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    code, _, err = run_cli(["audit", str(empty), *COCO, "--out", str(tmp_path / "a")], capsys)
    assert_one_line_error(code, err, "no samples to audit")
    code, _, err = run_cli(
        ["audit", str(tmp_path / "nope.json"), *COCO, "--out", str(tmp_path / "a")], capsys
    )
    assert_one_line_error(code, err, "nope.json: no such file")
    code, _, err = run_cli(["audit", "--out", str(tmp_path / "a")], capsys)
    assert_one_line_error(code, err, "no inputs given")


def test_contexts_file_as_ground_truth(grounded_run: Path, tmp_path: Path) -> None:
    ctx = tmp_path / "contexts.jsonl"
    done = run_datagen("context", *COCO, "--out", ctx)
    assert done.returncode == 0, done.stderr
    done = run_datagen("audit", grounded_run / "results.jsonl", "--contexts", ctx, "--out", tmp_path / "a")
    assert done.returncode == 0, done.stderr
    figures = json.loads((tmp_path / "a" / "audit.json").read_text())
    assert figures["ground_truth"] == [f"--contexts {ctx}"] and figures["headline"]["chair_s"] == 0.0
