"""An output path that is (or contains) an input is refused before anything is written.

`datagen export llava runs/x --out runs/x/results.jsonl` used to replace the run's results.jsonl
with a JSON array (provenance and resume keys gone); folder outputs with --overwrite could delete
the run directory they were reading.
"""

from __future__ import annotations

import pytest
from support.cli import assert_one_line_error, run_cli
from support.export_fixtures import coco_run


@pytest.mark.parametrize(
    "args",
    [
        ["export", "llava", "{run}", "--out", "{run}/results.jsonl"],
        ["export", "llava", "{run}/results.jsonl", "--out", "{run}/results.jsonl"],
        ["export", "hf", "{run}", "--out", "{run}", "--overwrite"],
        ["export", "hf", "{run}", "--out", "{parent}", "--overwrite"],
        ["adapt", "llava", "{run}", "--out", "{run}/run.json", "--overwrite"],
        ["review", "{run}", "--images", "{images}", "--out", "{run}/results.jsonl"],
        ["review", "{run}/results.jsonl", "--images", "{images}", "--out", "{run}/failures.jsonl"],
        ["adapt", "trl", "{run}", "--out", "{run}", "--overwrite"],
        ["export", "minigpt4", "{run}", "--out", "{run}", "--images", "{images}", "--overwrite"],
    ],
)
def test_output_on_top_of_input_is_refused(args, tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "parent" / "run")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    fill = {"run": run, "parent": run.parent, "images": coco_mini / "val2017"}
    code, _, err = run_cli([a.format(**fill) for a in args], capsys)
    assert_one_line_error(code, err, "would overwrite the input", "choose another --out")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_output_beside_the_run_files_is_fine(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    code, _, err = run_cli(["export", "llava", str(run), "--out", str(run / "llava.json")], capsys)
    assert code == 0, err and (run / "llava.json").exists()
