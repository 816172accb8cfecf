"""`--exclude-ids` says what it did in every export: samples left out, ids that matched, ids that
matched none, and a warning when none matched (a list from another run, or of the wrong ids)."""

from __future__ import annotations

import json

import pytest
from support.cli import run_cli
from support.export_fixtures import coco_run

IMAGE = "000000165518"  # one of the three bundled val2017 images: 3 samples (one per task)


@pytest.mark.parametrize(
    "command",
    [
        ["export", "llava"],
        ["export", "hf"],
        ["export", "minigpt4", "--task", "detail_description"],
        ["export", "trl"],
        ["adapt", "llama-factory"],
    ],
)
def test_exclude_ids_reports_matches(command, tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    ids = tmp_path / "rejected.json"
    ids.write_text(json.dumps([IMAGE, "conversation:000000229358", "not-an-id"]))
    out = tmp_path / ("out.json" if command[1] == "llava" else "out")
    code, _, err = run_cli(
        [*command[:2], str(run), *command[2:], "-o", str(out), "--exclude-ids", str(ids)], capsys
    )
    assert code == 0, err
    # counted over everything read (minigpt4's --task narrows the samples after that)
    assert f"--exclude-ids {ids}: left out 4 samples; 2 of its 3 ids matched, 1 matched none" in err


def test_exclude_ids_matching_nothing_is_a_warning(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    ids = tmp_path / "other-run-ids.txt"
    ids.write_text("a\nb\n")
    out = tmp_path / "out.json"
    code, _, err = run_cli(["export", "llava", str(run), "-o", str(out), "--exclude-ids", str(ids)], capsys)
    assert code == 0, err
    assert f"warning: --exclude-ids {ids}: none of its 2 ids matched a sample, nothing was left out" in err
    assert len(json.loads(out.read_text())) == 9
