"""An HF dataset folder (what `export hf` writes) is an input like a run directory: parquet shards,
`save_to_disk` arrow folders and one split per task all read back to the samples they were made from."""

from __future__ import annotations

import pytest
from support.cli import run_cli
from support.export_fixtures import coco_run
from support.jsonl import read_jsonl

from datagen.errors import InputError
from datagen.rundir.samples import load_samples


@pytest.mark.parametrize(
    "extra", [[], ["--format", "arrow"], ["--by-task"], ["--by-task", "--format", "arrow"]]
)
def test_exported_dataset_reads_back_as_samples(coco_mini, tmp_path, capsys, extra):
    run = coco_run(coco_mini, tmp_path / "run")
    code, _, err = run_cli(["export", "hf", str(run), "--out", str(tmp_path / "hf"), *extra], capsys)
    assert code == 0, err
    back = load_samples(tmp_path / "hf")
    key = lambda r: r["sample_id"]  # noqa: E731 - splits come back in name order
    assert sorted(back, key=key) == sorted(read_jsonl(run / "results.jsonl"), key=key)
    code, out, _ = run_cli(["stats", str(tmp_path / "hf"), "--json"], capsys)
    assert code == 0 and f'"samples": {len(back)}' in out


def test_a_folder_that_is_neither_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(InputError, match="nor a Hugging Face dataset folder"):
        load_samples(tmp_path)
