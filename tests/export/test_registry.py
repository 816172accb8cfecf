"""One format registry behind `datagen export` and `datagen adapt`, with one overwrite rule."""

from __future__ import annotations

import json

import pytest
from support.cli import run_cli
from support.export_fixtures import coco_run

from datagen.export.registry import FORMATS


def test_every_registry_format_has_an_export_subcommand(capsys):
    code, out, _ = run_cli(["export", "--help"], capsys)
    assert code == 0
    for name in FORMATS:
        assert name in out
    code, out, _ = run_cli(["adapt", "--help"], capsys)
    assert all(name in out for name, f in FORMATS.items() if f.write is not None)


def test_export_and_adapt_write_the_same_files(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    for cmd, out in (("export", tmp_path / "a"), ("adapt", tmp_path / "b")):
        args = [cmd, "llama-factory", str(run), "--out", str(out), "--name", "mini"]
        code, _, err = run_cli(args if cmd == "export" else [args[0], *args[1:]], capsys)
        assert code == 0, err
    assert (tmp_path / "a" / "mini.json").read_bytes() == (tmp_path / "b" / "mini.json").read_bytes()
    assert json.loads((tmp_path / "a" / "dataset_info.json").read_text()) == json.loads(
        (tmp_path / "b" / "dataset_info.json").read_text()
    )


def test_llama_factory_guards_its_own_file_but_merges_the_index(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "lf"
    args = ["export", "llama-factory", str(run), "--out", str(out), "--name", "mini"]
    assert run_cli(args, capsys)[0] == 0
    code, _, err = run_cli(args, capsys)  # its data file exists now
    assert code == 2 and "mini.json already exists" in err and "--overwrite" in err
    assert run_cli([*args, "--overwrite"], capsys)[0] == 0
    assert run_cli([*args[:-1], "other"], capsys)[0] == 0  # another name: merged beside it
    assert set(json.loads((out / "dataset_info.json").read_text())) == {"mini", "other"}


@pytest.mark.parametrize("fmt", ["llava", "trl"])
def test_one_overwrite_rule(tmp_path, coco_mini, capsys, fmt):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / ("out.json" if fmt == "llava" else "out")
    if fmt == "trl":
        out.mkdir()  # an empty folder is free
    args = ["export", fmt, str(run), "--out", str(out)]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    before = sorted(p.name for p in out.iterdir()) if out.is_dir() else out.read_bytes()
    code, _, err = run_cli(args, capsys)
    assert code == 2 and "already exists" in err and "--overwrite" in err
    after = sorted(p.name for p in out.iterdir()) if out.is_dir() else out.read_bytes()
    assert after == before  # nothing touched
    code, _, err = run_cli([*args, "--overwrite"], capsys)
    assert code == 0, err
