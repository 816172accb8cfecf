"""Outputs never destroy inputs or special files: the same file by inode (not by name) is refused,
a symlink is written through (the link stays a link), `-` and FIFOs are refused with one line."""

from __future__ import annotations

import os
import shutil
import stat

import pytest
from support.cli import run_cli
from support.export_fixtures import coco_run


@pytest.fixture
def coco_copy(tmp_path, coco_mini):
    ann = tmp_path / "ann"
    ann.mkdir()
    for name in ("captions_val2017.json", "instances_val2017.json"):
        shutil.copy(coco_mini / "annotations" / name, ann / name)
    return ann


def _context(ann, out, capsys):
    args = [
        "context",
        "--captions",
        ann / "captions_val2017.json",
        "--instances",
        ann / "instances_val2017.json",
    ]
    return run_cli([*map(str, args), "--out", str(out), "--overwrite"], capsys)


@pytest.mark.parametrize("spelling", ["same", "dotted", "hardlink"])
def test_context_out_that_is_an_input_is_refused(coco_copy, capsys, spelling):
    captions = coco_copy / "captions_val2017.json"
    out = {
        "same": captions,
        "dotted": coco_copy / ".." / coco_copy.name / "captions_val2017.json",
        "hardlink": coco_copy / "linked.json",
    }[spelling]
    if spelling == "hardlink":
        os.link(captions, out)
    before = captions.read_bytes()
    code, _, err = _context(coco_copy, out, capsys)
    assert code == 2
    assert err.startswith(f"Error: --out {out} is the input ") and "(the same file)" in err
    assert captions.read_bytes() == before  # exit 0 and a replaced captions file, before


def test_symlink_out_is_written_through(coco_copy, tmp_path, capsys):
    real = tmp_path / "real.jsonl"
    real.write_text("old\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    code, _, err = _context(coco_copy, link, capsys)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)  # still a link
    assert real.read_text().startswith('{"id":')  # the target got the records


def test_fifo_and_dash_outputs_are_refused(coco_copy, tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = _context(coco_copy, fifo, capsys)
    assert code == 2 and "is a FIFO (named pipe), not a regular file" in err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not replaced by a regular file
    code, _, err = _context(coco_copy, "-", capsys)
    assert code == 2 and "writing to stdout ('-') is not supported" in err
    assert not (tmp_path / "-").exists()


def test_export_out_hardlinked_to_its_input_is_refused(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    llava = tmp_path / "llava.json"
    code, _, err = run_cli(["export", "llava", str(run), "--out", str(llava)], capsys)
    assert code == 0, err
    alias = tmp_path / "alias.json"
    os.link(llava, alias)
    before = llava.read_bytes()
    code, _, err = run_cli(["export", "llava", str(llava), "--out", str(alias), "--overwrite"], capsys)
    assert code == 2 and "is the input" in err
    assert llava.read_bytes() == before


@pytest.mark.parametrize(("fmt", "point"), [("llava", "atomic-write"), ("hf", "atomic-folder")])
def test_killed_export_leaves_a_named_temp_that_the_next_run_removes(tmp_path, coco_mini, fmt, point):
    from support.cli import run_process

    from datagen.common.faults import KILL_ENV

    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / ("out.json" if fmt == "llava" else "hf")
    env = {**os.environ, KILL_ENV: f"{point}:before-rename"}
    killed = run_process("export", fmt, run, "--out", out, env=env, timeout=300)
    assert killed.returncode == -9 and not out.exists()
    (temp,) = [p for p in tmp_path.iterdir() if ".datagen-partial-" in p.name]
    assert temp.name.startswith(f".{out.name}.datagen-partial-")  # says what it is and whose
    done = run_process("export", fmt, run, "--out", out, timeout=300)
    assert done.returncode == 0, done.stderr
    assert out.exists() and not [p for p in tmp_path.iterdir() if ".datagen-partial-" in p.name]
