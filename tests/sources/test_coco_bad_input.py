"""Every bad COCO input from the Foundation issue: a one-line error or a counted, reported skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, run_cli

from datagen.prompts.context import render_context


@pytest.fixture
def coco_copy(tmp_path: Path, coco_mini: Path):
    """Writable copies of the real val2017 files, returned as (captions dict, instances dict, writer)."""
    caps = json.loads((coco_mini / "annotations/captions_val2017.json").read_text())
    inst = json.loads((coco_mini / "annotations/instances_val2017.json").read_text())
    root = tmp_path / "coco"
    (root / "annotations").mkdir(parents=True)

    def write() -> Path:
        (root / "annotations/captions_val2017.json").write_text(json.dumps(caps))
        (root / "annotations/instances_val2017.json").write_text(json.dumps(inst))
        return root

    return caps, inst, write


def context_cli(root: Path, tmp_path: Path, capsys, *extra: str) -> tuple[int, str, str, Path]:
    out = tmp_path / "contexts.jsonl"
    code, so, se = run_cli(
        ["context", "--coco", str(root), "--split", "val2017", "--out", str(out), "--overwrite", *extra],
        capsys,
    )
    return code, so, se, out


def read_out(p: Path) -> dict[int, dict]:
    return {json.loads(line)["image_id"]: json.loads(line) for line in p.read_text().splitlines()}


def test_missing_folder(tmp_path, capsys):
    code, _, err, out = context_cli(tmp_path / "nope", tmp_path, capsys)
    assert_one_line_error(code, err, "nope", "no such folder")
    assert not out.exists()


def test_missing_file_names_the_split(coco_copy, tmp_path, capsys):
    root = coco_copy[2]()
    code, _, err, _ = context_cli(root, tmp_path, capsys, "--split", "train2017")
    # the last --split wins in click; the message names the missing file and lists what exists
    assert_one_line_error(code, err, "captions_train2017.json", "captions_val2017.json")


def test_missing_captions_file(tmp_path, capsys):
    code, _, err = run_cli(
        ["context", "--captions", str(tmp_path / "c.json"), "--out", str(tmp_path / "o")], capsys
    )
    assert_one_line_error(code, err, "c.json", "no such file")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"this is not json", "not valid JSON at line 1"),
        (b'{"images": [{"id": 1, "width": 5', "not valid JSON"),  # truncated
        (b'{"annotations": []}', "'images' is missing"),
        (b'{"images": []}', "'annotations' is missing"),
        (b'{"images": {}, "annotations": []}', "'images' is not a list"),
        (b"[1, 2]", "expected a COCO JSON object"),
        (b'{"images": [], "annotations": [{"caption": "caf\xe9"}]}', "not UTF-8"),
    ],
)
def test_broken_captions_file(tmp_path, capsys, content, needle):
    p = tmp_path / "captions.json"
    p.write_bytes(content)
    out = tmp_path / "contexts.jsonl"
    out.write_text("precious\n")
    code, _, err = run_cli(["context", "--captions", str(p), "--out", str(out), "--overwrite"], capsys)
    assert_one_line_error(code, err, str(p), needle)
    assert out.read_text() == "precious\n"  # nothing already written is lost, even with --overwrite


def test_instances_without_categories(coco_copy, tmp_path, capsys):
    caps, inst, write = coco_copy
    del inst["categories"]
    code, _, err, _ = context_cli(write(), tmp_path, capsys)
    assert_one_line_error(code, err, "instances_val2017.json", "'categories' is missing")


def test_annotation_without_image_id(coco_copy, tmp_path, capsys):
    caps, inst, write = coco_copy
    del inst["annotations"][3]["image_id"]
    code, _, err, _ = context_cli(write(), tmp_path, capsys)
    assert_one_line_error(code, err, "instances_val2017.json", "image_id")


def test_duplicate_image_ids(coco_copy, tmp_path, capsys):
    caps, inst, write = coco_copy
    caps["images"].append(dict(caps["images"][0]))
    code, _, err, _ = context_cli(write(), tmp_path, capsys)
    assert_one_line_error(code, err, "image id 165518 appears twice")


def test_counted_skips_and_clamps(coco_copy, tmp_path, capsys):
    caps, inst, write = coco_copy
    # captions for an image that is not in `images`
    caps["annotations"].append({"image_id": 999, "id": 1, "caption": "A ghost."})
    # an empty and a whitespace-only caption for 229358
    caps["annotations"].append({"image_id": 229358, "id": 2, "caption": ""})
    caps["annotations"].append({"image_id": 229358, "id": 3, "caption": " \t\n "})
    # a caption full of braces, dollars, tabs and newlines
    caps["annotations"].append(
        {"image_id": 229358, "id": 4, "caption": "  A {sign} says\t$5 {{x}}\n\"cheap\" 'now'  "}
    )
    # image 126107 loses all its captions -> image skipped
    caps["annotations"] = [a for a in caps["annotations"] if a["image_id"] != 126107]
    by_id = {a["id"]: a for a in inst["annotations"]}
    first, second, third, fourth = (a["id"] for a in inst["annotations"][:4])
    by_id[first]["bbox"] = [10, 10, 0, 20]  # zero width -> skipped
    by_id[second]["bbox"] = [10, 10, 5, -1]  # negative height -> skipped
    by_id[third]["bbox"] = [600, 400, 100, 100]  # reaches outside 640x423 -> clamped
    by_id[fourth]["category_id"] = 12345  # unknown category -> skipped
    inst["annotations"].append(
        {**inst["annotations"][5], "id": 77, "image_id": 4242}
    )  # box for unknown image
    code, _, err, out = context_cli(write(), tmp_path, capsys)
    assert code == 0, err
    recs = read_out(out)
    assert set(recs) == {165518, 229358}
    rec = recs[229358]
    assert rec["captions"][-1] == "A {sign} says $5 {{x}} \"cheap\" 'now'"
    text = render_context(rec)
    assert (
        "A {sign} says $5 {{x}} \"cheap\" 'now'\n\ntie: [0.938, 0.946, 1.0, 1.0]\nperson: [0.726, 0.0, 1.0, 1.0]\n"
        in text
    )
    # 3rd box clamped: x 600/640=0.9375 -> 0.938, y 400/423=0.94562 -> 0.946, x2 700/640 -> 1.0, y2 500/423 -> 1.0
    assert rec["boxes"][0] == {"category": "tie", "bbox": [0.938, 0.946, 1.0, 1.0], "source": "coco"}
    assert len(rec["boxes"]) == 7
    for reason in [
        "caption_unknown_image: 1 (e.g. 1)",
        "caption_empty: 2 (e.g. 2, 3)",
        "image_no_captions: 1 (e.g. 000000126107)",
        f"box_degenerate: 2 (e.g. {first}, {second})",
        f"box_clamped: 1 (e.g. {third})",
        f"box_unknown_category: 1 (e.g. {fourth})",
        "box_unknown_image: 1 (e.g. 77)",
    ]:
        assert reason in err, (reason, err)


def test_image_with_zero_size_is_skipped(coco_copy, tmp_path, capsys):
    caps, inst, write = coco_copy
    caps["images"][0]["width"] = 0
    del caps["images"][1]["height"]
    report = tmp_path / "report.json"
    code, _, err, out = context_cli(write(), tmp_path, capsys, "--report", str(report))
    assert code == 0
    assert set(read_out(out)) == {126107}
    entry = json.loads(report.read_text())["image_bad_size"]
    assert entry["count"] == 2 and entry["examples"] == ["000000165518", "000000229358"]
    assert entry["meaning"].startswith("image skipped: width/height missing")


def test_image_with_no_boxes_is_fine(coco_copy, tmp_path, capsys):
    caps, inst, write = coco_copy
    inst["annotations"] = [a for a in inst["annotations"] if a["image_id"] != 165518]
    code, _, err, out = context_cli(write(), tmp_path, capsys)
    assert code == 0 and err.strip() == f"wrote 3 context records to {out}"
    rec = read_out(out)[165518]
    assert rec["boxes"] == []
    assert render_context(rec) == "\n".join(rec["captions"])


def test_every_image_skipped_is_an_error(coco_copy, tmp_path, capsys):
    caps, inst, write = coco_copy
    for a in caps["annotations"]:
        a["image_id"] += 1
    code, _, err, out = context_cli(write(), tmp_path, capsys)
    assert code != 0 and "no usable image" in err and "caption_unknown_image: 15" in err
    assert not out.exists()
