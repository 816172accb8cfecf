"""run.json of a run directory written by several commands: typed values, one `history` line per
command, and another source refused unless `--append` says it is meant."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import assert_one_line_error, run_cli

from datagen.sources.load import SourceSpec
from datagen.sources.recorded import record_source, spec_from_meta


def _meta(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def _coco(coco_mini: Path) -> list[str]:
    return ["--coco", str(coco_mini), "--split", "val2017"]


def _captions(coco_mini: Path) -> list[str]:
    ann = coco_mini / "annotations"
    return [
        "--captions",
        str(ann / "captions_train2017.json"),
        "--instances",
        str(ann / "instances_train2017.json"),
    ]


def test_run_json_stores_booleans_and_numbers_typed(tmp_path, coco_mini, capsys):
    run = tmp_path / "run"
    code, _, err = run_cli(
        ["generate", "grounded_qa", *_coco(coco_mini), "--limit", "2", "-o", str(run)], capsys
    )
    assert code == 0, err
    source = _meta(run)["config"]["source"]
    assert source["skip_crowd"] is False and source["min_score"] == 0.5  # not "False" / "0.5"
    assert source["coco"] == str(coco_mini.absolute()) and source["split"] == "val2017"
    assert _meta(run)["config"]["limit"] == 2


def test_recorded_sources_read_back_typed_and_old_string_style(tmp_path, coco_mini):
    spec = SourceSpec(coco=coco_mini, split="val2017", skip_crowd=True, min_score=0.25, max_boxes=3)
    typed = {"config": {"source": record_source(spec)}}
    assert typed["config"]["source"]["skip_crowd"] is True
    old = {"config": {"source": {k: str(v) for k, v in record_source(spec).items()}}}  # before typed values
    for meta in (typed, old):
        back = spec_from_meta(meta, tmp_path)
        assert back is not None
        assert (back.coco, back.split, back.skip_crowd, back.min_score, back.max_boxes) == (
            coco_mini.absolute(), "val2017", True, 0.25, 3,
        )  # fmt: skip


def test_history_records_each_command_and_another_source_needs_append(tmp_path, coco_mini, capsys):
    run = tmp_path / "run"
    first = ["generate", "grounded_qa", *_coco(coco_mini), "--limit", "2", "-o", str(run)]
    assert run_cli(first, capsys)[0] == 0
    history = _meta(run)["history"]
    assert len(history) == 1 and history[0]["tasks"] == ["grounded_qa"] and history[0]["mode"] == "direct"
    assert history[0]["command"].startswith("datagen generate grounded_qa --coco ")
    assert "--limit 2" in history[0]["command"] and "command" not in _meta(run)["config"]

    # the same command again (a resume) is fine and adds its own history line
    assert run_cli(first, capsys)[0] == 0
    assert len(_meta(run)["history"]) == 2

    # samples from other annotation files would be mixed in silently: refused, nothing written
    results_before = (run / "results.jsonl").read_bytes()
    meta_before = (run / "run.json").read_bytes()
    other = ["generate", "grounded_qa", *_captions(coco_mini), "--limit", "2", "-o", str(run)]
    code, _, err = run_cli(other, capsys)
    assert_one_line_error(code, err, str(run), "--coco", "--captions", "pass --append")
    assert code == 2
    assert (run / "results.jsonl").read_bytes() == results_before
    assert (run / "run.json").read_bytes() == meta_before

    code, _, err = run_cli([*other, "--append"], capsys)
    assert code == 0, err
    assert "note: --append: adding samples from --captions" in err
    meta = _meta(run)
    assert len(meta["history"]) == 3
    last = meta["history"][-1]
    assert last["append"] is True and "captions" in last["source"] and "--append" in last["command"]
    assert "coco" in meta["history"][0]["source"]  # the first command's source is still on record
    assert len((run / "results.jsonl").read_text().splitlines()) == 4

    # both sources are accepted here now: either one again needs no --append
    assert run_cli(first, capsys)[0] == 0


def test_a_new_task_from_the_same_source_is_noted(tmp_path, coco_mini, capsys, fake_llm):
    run = tmp_path / "run"
    assert (
        run_cli(["generate", "grounded_qa", *_coco(coco_mini), "--limit", "1", "-o", str(run)], capsys)[0]
        == 0
    )
    code, _, err = run_cli(
        ["generate", "conversation", *_coco(coco_mini), "--limit", "1", "-o", str(run), "-q",
         "--base-url", fake_llm.url, "--model", "m", "--max-attempts", "1"],
        capsys,
    )  # fmt: skip
    assert code in (0, 1), err  # the default fake reply does not parse: how that exits is not this test's
    assert f"note: {run} holds grounded_qa; adding conversation" in err
    assert [h["tasks"] for h in _meta(run)["history"]] == [["grounded_qa"], ["conversation"]]
