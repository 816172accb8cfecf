"""`datagen export hf` refusals: escaping and missing images, exclusions, bad inputs, existing output."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
import shutil

import datasets
from support.cli import run_cli
from support.export_fixtures import cc3m_chat, coco_run, llava_records

from datagen.export.hf import record_from_row


def _image_root(tmp_path, coco_mini):
    root = tmp_path / "images"
    shutil.copytree(coco_mini / "val2017", root)
    return root


def test_escaping_image_paths_are_refused_and_nothing_written(tmp_path, coco_mini, capsys):
    root = _image_root(tmp_path, coco_mini)
    outside = tmp_path / "secret.jpg"
    outside.write_bytes((root / "000000126107.jpg").read_bytes())
    (root / "link.jpg").symlink_to(outside)  # a symlink inside ROOT pointing out of it
    recs = llava_records(coco_mini)[:4]
    recs[0]["image"] = "../secret.jpg"
    recs[1]["image"] = str(outside)  # absolute
    recs[2]["image"] = "link.jpg"
    run = coco_run(coco_mini, tmp_path / "run", recs)
    out = tmp_path / "hf"
    args = ["export", "hf", str(run), "--out", str(out), "--images", str(root), "--embed-images"]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("Error: 3 of 4 images cannot be used: 3 refused as escaping")
    assert "'../secret.jpg'" in err and "'link.jpg'" in err and "nothing was written" in err
    assert not out.exists() and not list(tmp_path.glob(".hf.*"))
    # --skip-missing drops them (reported), keeps the good row, never reads the outside file.
    code, out_text, err = run_cli([*args, "--skip-missing-images"], capsys)
    assert code == 0, err
    assert "Skipped 3 rows: 3 refused as escaping" in err
    ds = datasets.load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train")
    assert len(ds) == 1 and ds[0]["id"] == recs[3]["id"]
    assert "Rows dropped at export: 3 refused as escaping" in (out / "README.md").read_text()


def test_missing_images_counted_then_skipped(tmp_path, coco_mini, capsys):
    root = _image_root(tmp_path, coco_mini)
    (root / "000000165518.jpg").unlink()
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    args = ["export", "hf", str(run), "--out", str(out), "--images", str(root)]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert "3 of 9 images cannot be used: 3 missing under" in err and "'000000165518.jpg'" in err
    assert not out.exists()
    code, _, err = run_cli([*args, "--skip-missing-images"], capsys)
    assert code == 0
    assert "Skipped 3 rows: 3 missing" in err
    ds = datasets.load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train")
    assert len(ds) == 6 and "000000165518.jpg" not in ds["image"]


def test_exclude_ids_from_review_page(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    excl = tmp_path / "excluded.json"
    excl.write_text(json.dumps(["conversation:000000165518", "000000229358"]))
    out = tmp_path / "hf"
    code, stdout, err = run_cli(
        ["export", "hf", str(run), "--out", str(out), "--exclude-ids", str(excl)], capsys
    )
    assert code == 0, err
    ds = datasets.load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train")
    expected = [
        r
        for r in llava_records(coco_mini)
        if r["sample_id"] != "conversation:000000165518" and r["id"] != "000000229358"
    ]
    assert len(expected) == 5
    assert [record_from_row(r) for r in ds] == expected


def test_by_task_needs_task_labels(tmp_path, cc3m_tsv, capsys):
    chat = cc3m_chat(cc3m_tsv, tmp_path / "chat.json", n=5)
    out = tmp_path / "hf"
    code, _, err = run_cli(["export", "hf", str(chat), "--out", str(out), "--by-task"], capsys)
    assert code == 2 and "has no task" in err and "--default-task NAME" in err
    assert not out.exists()
    code, _, err = run_cli(
        ["export", "hf", str(chat), "--out", str(out), "--by-task", "--default-task", "cc3m"], capsys
    )
    assert code == 0 and err == "", err
    assert list(datasets.load_dataset("parquet", data_dir=str(out))) == ["cc3m"]


def test_bad_inputs_are_one_line_errors(tmp_path, coco_mini, capsys):
    out = tmp_path / "hf"
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"id": "1", "image": "a.jpg", "conversations": [{"from": "gpt", "value": "x"}]}])
    )
    code, _, err = run_cli(["export", "hf", str(bad), "--out", str(out)], capsys)
    assert code == 2 and err.startswith(f"Error: {bad}[0]: not a valid LLaVA record")
    code, _, err = run_cli(["export", "hf", str(tmp_path / "nope.json"), "--out", str(out)], capsys)
    assert code == 2 and "no such file" in err
    run = coco_run(coco_mini, tmp_path / "run")
    for args, msg in [
        (["--format", "csv"], "unknown --format 'csv'"),
        (["--max-shard-size", "big"], "not a size"),
        (["--embed-images"], "--embed-images needs --images"),
        (["--images", str(tmp_path / "nowhere")], "no such folder"),
        (["--private"], "--private only applies"),
        (["--hf-split", "../x"], "not a valid split name"),
    ]:
        code, _, err = run_cli(["export", "hf", str(run), "--out", str(out), *args], capsys)
        assert code == 2 and msg in err, (args, err)
        assert "Traceback" not in err
    assert not out.exists()


def test_existing_output_is_kept_unless_overwrite(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run_cli(["export", "hf", str(run), "--out", str(out)], capsys)
    assert code == 2 and "already exists" in err
    assert (out / "keep.txt").read_text() == "mine"
    code, _, err = run_cli(["export", "hf", str(run), "--out", str(out), "--overwrite"], capsys)
    assert code == 0, err
    assert not (out / "keep.txt").exists() and (out / "README.md").exists()
