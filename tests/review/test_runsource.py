"""Contexts rebuilt from the source a run's run.json records, including a run made by the real
`datagen generate` against the loopback OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from support.cli import run_process
from support.paths import REPO
from support.review_support import contexts_from_coco, make_run, page_data

from datagen.common.jsonio import iter_jsonl
from datagen.review import build_review
from datagen.review.runsource import spec_from_meta


@pytest.mark.slow
def test_generated_run_is_reviewed_with_contexts_from_its_run_json(tmp_path, coco_mini, fake_llm):
    fake_llm.handler = lambda body: (
        "Question: What is in the picture?\n===\nAnswer: A scene with several objects that the captions describe."
    )
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "sk-test-review"}
    gen = run_process(
        "generate", "llava", "--coco", coco_mini, "--split", "val2017",
        "--out", run, "--base-url", fake_llm.url, "--model", "m", "--quiet", env=env, timeout=120,
    )  # fmt: skip
    # exit 5 when no sample survived the parsers and filters (a run where nothing succeeded fails)
    assert gen.returncode in (0, 5), gen.stderr
    results = [r for _, r in iter_jsonl(run / "results.jsonl")] if (run / "results.jsonl").exists() else []
    failures = [r for _, r in iter_jsonl(run / "failures.jsonl")] if (run / "failures.jsonl").exists() else []
    assert len(results) + len(failures) == 9  # 3 images x 3 tasks, whatever the parsers made of the reply

    out = tmp_path / "site" / "review.html"
    rev = run_process(
        "review",
        run,
        "--images",
        coco_mini / "val2017",
        "--out",
        out,
        "--include-failures",
        env=env,
        timeout=120,
    )
    assert rev.returncode == 0, rev.stderr
    assert f"rebuilt from run.json's source (--coco {coco_mini} --split val2017)" in rev.stderr
    data = page_data(out)
    assert len(data["cards"]) == 9
    assert all(c["ctx"] and c["image"] for c in data["cards"])
    expected = {c["id"]: c for c in contexts_from_coco(coco_mini)}
    for key, ctx in data["contexts"].items():
        assert ctx["captions"] == expected[key]["captions"]
        assert [b["category"] for b in ctx["boxes"]] == [b["category"] for b in expected[key]["boxes"]]
    assert all("src" in v for v in data["images"].values())
    assert "sk-test-review" not in out.read_text()


def test_relative_source_paths_resolve_from_the_run_dir_parent(tmp_path, coco_mini, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(coco_mini / "annotations", project / "coco" / "annotations")
    run = project / "runs" / "r1"
    ctx = contexts_from_coco(coco_mini)
    made = make_run(run, ctx)
    made["meta"]["config"]["source"] = {"coco": "coco", "split": "val2017", "skip_crowd": "False",
                                        "min_score": "0.5", "box_format": "xyxy-norm"}  # fmt: skip
    (run / "run.json").write_text(json.dumps(made["meta"]))
    monkeypatch.chdir(tmp_path)  # "coco" is not here: the run recorded it relative to project/runs/..
    spec = spec_from_meta(made["meta"], run)
    assert spec is not None and spec.coco is not None and spec.coco.samefile(project / "runs" / ".." / "coco")
    assert spec.skip_crowd is False and spec.min_score == 0.5 and spec.split == "val2017"
    res = build_review(run, images=coco_mini / "val2017", out=tmp_path / "r.html")
    assert res.summary.contexts_found == 8 and "rebuilt" in res.summary.context_note


def test_unreadable_recorded_source_is_a_note_not_an_error(tmp_path, coco_mini):
    run = tmp_path / "run"
    made = make_run(run, contexts_from_coco(coco_mini))
    made["meta"]["config"]["source"] = {"coco": str(tmp_path / "gone"), "split": "val2017"}
    (run / "run.json").write_text(json.dumps(made["meta"]))
    res = build_review(run, images=coco_mini / "val2017", out=tmp_path / "r.html")
    assert res.summary.contexts_found == 0
    assert res.summary.context_note.startswith(
        f"run.json's source (--coco {tmp_path / 'gone'} --split val2017)"
    )
    assert "could not be read" in res.summary.context_note


def test_no_recorded_source_means_no_rebuild(tmp_path, coco_mini):
    run = tmp_path / "run"
    make_run(run, contexts_from_coco(coco_mini))
    res = build_review(run, images=coco_mini / "val2017", out=tmp_path / "r.html")
    assert res.summary.context_note == "" and res.summary.contexts_found == 0
