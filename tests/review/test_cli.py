"""`datagen review` on the command line: the happy path, and every bad input gets one clear error line,
a non-zero exit, and leaves an existing page untouched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.cli import run_cli, run_process
from support.jsonl import read_jsonl, write_jsonl
from support.paths import REPO
from support.review_support import contexts_from_coco, make_run, page_data

OLD_PAGE = "<p>an earlier review</p>"


@pytest.fixture()
def setup(tmp_path: Path, coco_mini: Path) -> dict[str, Path]:
    ctx = contexts_from_coco(coco_mini)
    run = tmp_path / "run"
    make_run(run, ctx)
    out = tmp_path / "review.html"
    out.write_text(OLD_PAGE)
    return {
        "run": run,
        "images": coco_mini / "val2017",
        "contexts": write_jsonl(tmp_path / "contexts.jsonl", ctx),
        "out": out,
        "tmp": tmp_path,
    }


def args(s: dict[str, Path], *extra: str, input: Path | None = None) -> list[str]:
    """`review` into the page `setup` wrote earlier (replacing it needs --overwrite; an error keeps it)."""
    out = ["--out", str(s["out"]), "--overwrite"]
    return ["review", str(input or s["run"]), "--images", str(s["images"]), *out, *extra]


def test_cli_writes_the_page_as_a_subprocess(setup):
    proc = run_process(
        *args(setup, "--contexts", str(setup["contexts"]), "--sample", "4", "--seed", "3", "--include-failures",
              "--embed"),
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "4 of 8 samples, 1 failure" in proc.stdout and proc.stderr == ""
    html = setup["out"].read_text()
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    data = page_data(setup["out"])
    assert [c["kind"] for c in data["cards"]] == ["sample"] * 4 + ["failure"]
    assert all(v["src"].startswith("data:image/jpeg;base64,") for v in data["images"].values())


def test_help_lists_the_flags(capsys):
    code, out, _ = run_cli(["review", "--help"], capsys)
    assert code == 0
    for flag in ("--images", "--out", "--sample", "--seed", "--embed", "--include-failures", "--contexts"):
        assert flag in out


def expect_error(setup, capsys, argv: list[str], *fragments: str, code: int = 2) -> None:
    got, out, err = run_cli(argv, capsys)
    assert got == code
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err
    for f in fragments:
        assert f in err
    assert setup["out"].read_text() == OLD_PAGE  # the earlier page is not lost
    assert not list(setup["out"].parent.glob(".review.html.*.tmp"))


@pytest.mark.parametrize("bad", ["../000000126107.jpg", "/etc/passwd", "link/escape.jpg"])
def test_image_paths_escaping_root_are_refused(setup, capsys, bad):
    root = setup["tmp"] / "root"
    (root / "link").mkdir(parents=True)
    os.symlink(setup["images"], root / "link" / "outside")
    (root / "link" / "escape.jpg").symlink_to(setup["images"] / "000000126107.jpg")
    rows = read_jsonl(setup["run"] / "results.jsonl")
    rows[2]["image"] = bad
    write_jsonl(setup["run"] / "results.jsonl", rows)
    argv = args(setup)
    argv[argv.index("--images") + 1] = str(root)
    expect_error(setup, capsys, argv, rows[2]["sample_id"], bad, "--images")


def test_missing_input(setup, capsys):
    expect_error(setup, capsys, args(setup, input=setup["tmp"] / "nope"), "nope")


def test_folder_that_is_not_a_run_dir(setup, capsys):
    expect_error(setup, capsys, args(setup, input=setup["tmp"]), "not a run directory")


def test_json_that_is_not_an_array(setup, capsys):
    f = setup["tmp"] / "x.json"
    f.write_text('{"id": 1}')
    expect_error(setup, capsys, args(setup, input=f), "x.json", "JSON array")


def test_truncated_json(setup, capsys):
    f = setup["tmp"] / "x.json"
    f.write_text('[{"id": "1", "conversations": [')
    expect_error(setup, capsys, args(setup, input=f), "x.json", "not valid JSON")


def test_array_of_non_objects(setup, capsys):
    f = setup["tmp"] / "x.json"
    f.write_text('[{"id": "1", "conversations": []}, 5]')
    expect_error(setup, capsys, args(setup, input=f), "x.json[1]", "expected a JSON object")


def test_bad_line_in_results(setup, capsys):
    p = setup["run"] / "results.jsonl"
    p.write_text("not json\n" + p.read_text())
    expect_error(setup, capsys, args(setup), "results.jsonl:1")


def test_bad_line_in_failures(setup, capsys):
    (setup["run"] / "failures.jsonl").write_text('{"id": "1", "sample_id": "a:1"}\n[1, 2]\n')
    expect_error(setup, capsys, args(setup), "failures.jsonl:2", "expected a JSON object")


def test_bad_contexts_file(setup, capsys):
    bad = setup["tmp"] / "bad.jsonl"
    bad.write_text(json.dumps({"id": "000000126107", "captions": "not a list", "boxes": []}) + "\n")
    expect_error(setup, capsys, args(setup, "--contexts", str(bad)), "bad.jsonl:1", "captions")
    expect_error(setup, capsys, args(setup, "--contexts", str(setup["tmp"] / "none.jsonl")), "none.jsonl")


def test_images_root_missing(setup, capsys):
    argv = args(setup)
    argv[argv.index("--images") + 1] = str(setup["tmp"] / "noimages")
    expect_error(setup, capsys, argv, "noimages", "no such folder")


def test_sample_must_be_positive(setup, capsys):
    expect_error(setup, capsys, args(setup, "--sample", "0"), "--sample")


def test_missing_images_warn_but_write(setup, capsys):
    argv = args(setup)
    empty = setup["tmp"] / "empty"
    empty.mkdir()
    argv[argv.index("--images") + 1] = str(empty)
    code, out, err = run_cli(argv, capsys)
    assert code == 0
    assert err.startswith("Warning: 3 images not found under") and "000000126107.jpg" in err
    assert "pass --contexts" in err
    html = setup["out"].read_text()
    assert html.count("image not found:") == 3 and "<dt>images missing</dt><dd>3</dd>" in html


def test_contexts_from_coco_annotations_match_a_contexts_file(setup, capsys, coco_mini):
    code, _, err = run_cli(args(setup, "--coco", str(coco_mini), "--split", "val2017"), capsys)
    assert code == 0 and err == ""
    from_coco = page_data(setup["out"])
    code, _, _ = run_cli(args(setup, "--contexts", str(setup["contexts"])), capsys)
    from_file = page_data(setup["out"])
    assert code == 0 and len(from_coco["contexts"]) == 3
    assert from_coco["contexts"] == from_file["contexts"]  # same captions and box geometry either way
    assert all(c["ctx"] for c in from_coco["cards"])
    code, _, _ = run_cli(
        args(setup, "--captions", str(coco_mini / "annotations" / "captions_val2017.json")), capsys
    )
    captions_only = page_data(setup["out"])
    assert code == 0 and all(not c["boxes"] and c["captions"] for c in captions_only["contexts"].values())


def test_split_without_coco(setup, capsys):
    expect_error(setup, capsys, args(setup, "--split", "val2017"), "--split only applies with --coco")


def test_coco_folder_without_that_split(setup, capsys, coco_mini):
    expect_error(
        setup, capsys, args(setup, "--coco", str(coco_mini), "--split", "test2017"), "captions_test2017.json"
    )


def test_out_is_a_folder(setup, capsys):
    argv = args(setup)
    argv[argv.index("--out") + 1] = str(setup["tmp"])
    expect_error(setup, capsys, argv, "is a folder")


def test_out_cannot_be_written(setup, capsys):
    blocker = setup["tmp"] / "blocker"
    blocker.write_text("a file where a folder should be")
    argv = args(setup)
    argv[argv.index("--out") + 1] = str(blocker / "review.html")
    expect_error(setup, capsys, argv, "cannot write")


def test_empty_run_writes_an_empty_page(setup, capsys):
    (setup["run"] / "results.jsonl").write_text("")
    (setup["run"] / "failures.jsonl").unlink()
    code, out, _ = run_cli(args(setup), capsys)
    assert code == 0 and "0 of 0 samples" in out
    assert page_data(setup["out"])["cards"] == []
    assert "Nothing to review: the input has no samples." in setup["out"].read_text()
