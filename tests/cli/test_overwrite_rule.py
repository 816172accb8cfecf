"""One overwrite rule for every command that writes a named output: an existing file (or a folder
that is not empty) is replaced only with `--overwrite`, and the refusal comes before any work."""

from __future__ import annotations

import json

import pytest
from support.cli import assert_one_line_error, run_cli
from support.export_fixtures import coco_run


def _commands(tmp_path, coco_mini):
    run = coco_run(coco_mini, tmp_path / "run")
    vqa_results = tmp_path / "answers.json"
    vqa_results.write_text(json.dumps([{"question_id": 1, "answer": "yes"}]))
    anns = tmp_path / "anns.json"
    anns.write_text(json.dumps({"annotations": [{"question_id": 1, "answer_type": "yes/no",
                                                 "answers": [{"answer": "yes"}] * 10}]}))  # fmt: skip
    coco = ["--coco", str(coco_mini), "--split", "val2017"]
    return {
        "context": (["context", *coco], tmp_path / "contexts.jsonl", "file"),
        "context --report": (
            ["context", *coco, "--out", str(tmp_path / "c2.jsonl"), "--report"], tmp_path / "report.json", "file"
        ),
        "review": (["review", str(run), "--images", str(coco_mini / "val2017")], tmp_path / "r.html", "file"),
        "eval vqa": (["eval", "vqa", "--results", str(vqa_results), "--annotations", str(anns)], tmp_path / "s.json", "file"),
        "audit": (["audit", str(run), *coco, "--no-html"], tmp_path / "audit", "folder"),
        "export llava": (["export", "llava", str(run)], tmp_path / "llava.json", "file"),
        "export hf": (["export", "hf", str(run)], tmp_path / "hf", "folder"),
        "adapt llama-factory": (["adapt", "llama-factory", str(run), "--name", "x"], tmp_path / "lf", "merge"),
    }  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        "context",
        "context --report",
        "review",
        "eval vqa",
        "audit",
        "export llava",
        "export hf",
        "adapt llama-factory",
    ],
)
def test_existing_output_needs_overwrite(name, tmp_path, coco_mini, capsys):
    argv, out, kind = _commands(tmp_path, coco_mini)[name]
    flag = [] if argv[-1] == "--report" else ["-o"]
    if kind == "merge":  # a folder shared with other datasets: only its own data file is guarded
        out.mkdir()
        (out / "x.json").write_text("earlier work")
        out = out / "x.json"
        argv = [*argv, "-o", str(out.parent)]
        flag = []
    if kind == "folder":
        out.mkdir()
        (out / "keep.txt").write_text("earlier work")
        before = sorted(p.name for p in out.iterdir())
    else:
        out.write_text("earlier work")
    target = [] if kind == "merge" else [*flag, str(out)]
    code, _, err = run_cli([*argv, *target], capsys)
    assert_one_line_error(code, err, str(out), "--overwrite")
    if kind == "folder":
        assert (
            sorted(p.name for p in out.iterdir()) == before
            and (out / "keep.txt").read_text() == "earlier work"
        )
    else:
        assert out.read_text() == "earlier work"
    code, _, err = run_cli([*argv, *target, "--overwrite"], capsys)
    assert code == 0, err
    if kind in ("file", "merge"):
        assert out.read_text() != "earlier work"
