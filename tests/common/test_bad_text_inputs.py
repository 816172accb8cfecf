"""Internal errors are errors of ours: a lone surrogate in a caption, a binary --exclude-ids file and
a write the file system refuses are one-line errors naming the file (and line), not exit 70."""

from __future__ import annotations

import json
import subprocess
import sys

from support.cli import run_cli
from support.export_fixtures import coco_run


def test_lone_surrogate_in_coco_captions_names_file_and_record(tmp_path, coco_mini, capsys):
    data = json.loads((coco_mini / "annotations" / "captions_val2017.json").read_text())
    data["annotations"][3]["caption"] = "A dog \ud800 runs"
    caps = tmp_path / "caps.json"
    caps.write_text(json.dumps(data))  # json writes the lone surrogate as the escape \ud800
    out = tmp_path / "ctx.jsonl"
    code, _, err = run_cli(["context", "--captions", str(caps), "--out", str(out)], capsys)
    assert code == 2  # was 70, an internal error
    assert err.startswith(f"Error: {caps}:1: a lone surrogate \\ud800 (not a character)")
    assert f'"id": {data["annotations"][3]["id"]}' in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_lone_surrogate_in_jsonl_input_names_the_line_and_pairs_pass(tmp_path, capsys):
    rows = tmp_path / "in.jsonl"
    good = '{"id": "a", "image": "a.jpg", "width": 640, "height": 480, "captions": ["a smiling face \\ud83d\\ude00 here"]}'
    bad = '{"id": "b", "image": "b.jpg", "width": 640, "height": 480, "captions": ["bad \\udc00 here"]}'
    rows.write_text(f"{good}\n{bad}\n")
    code, _, err = run_cli(["context", "--input", str(rows), "--out", str(tmp_path / "c.jsonl")], capsys)
    assert code == 2 and err.startswith(f"Error: {rows}:2: a lone surrogate \\udc00")
    rows.write_text(f"{good}\n")  # a proper surrogate pair is an emoji, fine
    code, _, err = run_cli(["context", "--input", str(rows), "--out", str(tmp_path / "c.jsonl")], capsys)
    assert code == 0, err


def test_binary_exclude_ids_file(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"000000000139\n" + bytes(range(128, 256)))
    out = tmp_path / "out.json"
    code, _, err = run_cli(
        ["export", "llava", str(run), "--out", str(out), "--exclude-ids", str(ids)], capsys
    )
    assert code == 2  # was 70
    assert err.startswith(f"Error: {ids}:2: not UTF-8 text (byte 13); an id list is text")
    assert not out.exists()


def test_a_refused_write_names_the_path(tmp_path, coco_mini):
    """A write the OS refuses mid-file (here a file-size limit; a full disk is the same path)."""
    out = tmp_path / "ctx.jsonl"
    caps = coco_mini / "annotations" / "captions_val2017.json"
    code = (
        "import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (256, 256)); "
        "from datagen.cli import main; main(sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "context", "--captions", str(caps), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: {out}: File too large") and "a file" not in line
    assert not out.exists() and not list(tmp_path.glob(".ctx.jsonl.*"))  # no half file, no temp
