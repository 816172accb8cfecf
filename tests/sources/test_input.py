"""`--input FILE.jsonl` generic context rows in each `--box-format`, validated line by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, run_cli
from support.contexthelpers import EXPECTED_229358
from support.jsonl import read_jsonl

from datagen.prompts.context import render_context
from datagen.sources.load import SourceSpec, load_contexts


@pytest.fixture(scope="module")
def raw_rows(coco_mini: Path) -> list[dict]:
    """Real val2017 images as generic rows with pixel [x, y, w, h] boxes straight from COCO."""
    caps = json.loads((coco_mini / "annotations/captions_val2017.json").read_text())
    inst = json.loads((coco_mini / "annotations/instances_val2017.json").read_text())
    cats = {c["id"]: c["name"] for c in inst["categories"]}
    rows = []
    for img in caps["images"]:
        rows.append(
            {
                "id": f"{img['id']:012d}",
                "image": img["file_name"],
                "width": img["width"],
                "height": img["height"],
                "captions": [a["caption"] for a in caps["annotations"] if a["image_id"] == img["id"]],
                "xywh": [
                    (cats[a["category_id"]], a["bbox"])
                    for a in inst["annotations"]
                    if a["image_id"] == img["id"]
                ],
            }
        )
    return rows


def write_rows(path: Path, rows: list[dict], fmt: str) -> Path:
    out = []
    for r in rows:
        boxes = []
        for cat, (x, y, w, h) in r["xywh"]:
            if fmt == "xywh-pixel":
                bbox = [x, y, w, h]
            elif fmt == "xyxy-pixel":
                bbox = [x, y, x + w, y + h]
            else:
                bbox = [x / r["width"], y / r["height"], (x + w) / r["width"], (y + h) / r["height"]]
            boxes.append({"category": cat, "bbox": bbox})
        out.append({k: v for k, v in r.items() if k != "xywh"} | {"boxes": boxes})
    path.write_text("\n".join(json.dumps(o) for o in out) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["xyxy-norm", "xyxy-pixel", "xywh-pixel"])
def test_every_box_format_gives_the_coco_context(tmp_path, raw_rows, fmt):
    p = write_rows(tmp_path / "rows.jsonl", raw_rows, fmt)
    recs, report = load_contexts(SourceSpec(input=p, box_format=fmt))
    rec = next(r for r in recs if r["id"] == "000000229358")
    assert render_context(rec) == EXPECTED_229358
    assert rec["caption_sources"] == ["rows.jsonl"] * 5
    assert {b["source"] for b in rec["boxes"]} == {"rows.jsonl"}
    assert report.counts == {}


def test_own_contexts_round_trip_unchanged(tmp_path, coco_mini, capsys):
    ctx = tmp_path / "contexts.jsonl"
    run_cli(["context", "--coco", str(coco_mini), "--split", "val2017", "--out", str(ctx)], capsys)
    again = tmp_path / "again.jsonl"
    code, _, err = run_cli(["context", "--input", str(ctx), "--out", str(again)], capsys)
    assert code == 0, err
    assert again.read_text() == ctx.read_text()


def test_sizes_from_image_headers(tmp_path, raw_rows, coco_mini):
    """Pixel boxes on rows without width/height: sizes come from the JPEG headers under --images."""
    ghost = {
        "id": "ghost",
        "image": "ghost.jpg",
        "width": 1,
        "height": 1,
        "captions": ["x"],
        "xywh": [("cat", [0, 0, 1, 1])],
    }
    rows = [*raw_rows, ghost]
    p = write_rows(tmp_path / "rows.jsonl", rows, "xyxy-pixel")
    lines = read_jsonl(p)
    p.write_text(
        "\n".join(json.dumps({k: v for k, v in x.items() if k not in ("width", "height")}) for x in lines)
    )
    recs, report = load_contexts(SourceSpec(input=p, box_format="xyxy-pixel", images=coco_mini / "val2017"))
    assert {r["id"]: (r["width"], r["height"]) for r in recs} == {
        "000000165518": (612, 612),
        "000000229358": (640, 423),
        "000000126107": (640, 480),
    }
    assert render_context(next(r for r in recs if r["id"] == "000000229358")) == EXPECTED_229358
    assert report.counts == {"image_bad_size": 1} and report.examples["image_bad_size"] == ["ghost"]


def test_image_paths_cannot_escape_the_images_root(tmp_path, coco_mini, capsys):
    p = tmp_path / "rows.jsonl"
    p.write_text(json.dumps({"id": "x", "image": "../../etc/passwd", "captions": ["c"]}) + "\n")
    code, _, err = run_cli(
        ["context", "--input", str(p), "--images", str(coco_mini / "val2017"), "--out", "o"], capsys
    )
    assert_one_line_error(code, err, "contains '..'")


@pytest.mark.parametrize(
    ("row", "fmt", "needle"),
    [
        (
            {"boxes": [{"category": "person", "bbox": [464.46, 0.0, 640.0, 423.0]}]},
            "xyxy-norm",
            "use --box-format xyxy-pixel (corners) or xywh-pixel",
        ),
        (
            {"boxes": [{"category": "person", "bbox": [300, 170, 12, 70]}]},
            "xyxy-pixel",
            "if these are [x, y, width, height], use --box-format xywh-pixel",
        ),
        (
            {"boxes": [{"category": "person", "bbox": [0.1, 0.2, 0.1, 0.5]}]},
            "xyxy-norm",
            "zero or negative size",
        ),
        (
            {"boxes": [{"category": "person", "bbox": [10, 10, 0, 5]}]},
            "xywh-pixel",
            "zero or negative width/height",
        ),
        ({"boxes": [{"category": "person", "bbox": [1, 2, 3]}]}, "xywh-pixel", "four finite numbers"),
        (
            {"boxes": [{"category": "person", "bbox": [0.1, 0.1, 0.2, 0.2], "score": 7}]},
            "xyxy-norm",
            "score 7",
        ),
        ({"boxes": [{"bbox": [0.1, 0.1, 0.2, 0.2]}]}, "xyxy-norm", "non-empty 'category'"),
        ({"boxes": "none"}, "xyxy-norm", "'boxes' must be a list"),
        ({"captions": "one caption"}, "xyxy-norm", "'captions' must be a list"),
        ({"width": 0}, "xyxy-norm", "'width' must be a positive number"),
        ({"id": None, "image": None}, "xyxy-norm", "neither 'id' nor 'image'"),
        ({"caption_sources": ["a"]}, "xyxy-norm", "one per caption"),
    ],
)
def test_bad_rows_name_the_line(tmp_path, capsys, row, fmt, needle):
    good = {"id": "a", "image": "a.jpg", "width": 640, "height": 423, "captions": ["one", "two"], "boxes": []}
    p = tmp_path / "rows.jsonl"
    p.write_text(
        json.dumps(good) + "\n" + json.dumps({k: v for k, v in (good | row).items() if v is not None}) + "\n"
    )
    (tmp_path / "o.jsonl").write_text("keep\n")
    code, _, err = run_cli(
        [
            "context",
            "--input",
            str(p),
            "--box-format",
            fmt,
            "--out",
            str(tmp_path / "o.jsonl"),
            "--overwrite",
        ],
        capsys,
    )
    assert_one_line_error(code, err, f"{p}:2", needle)
    assert (tmp_path / "o.jsonl").read_text() == "keep\n"


def test_duplicate_ids_and_broken_lines(tmp_path, capsys):
    p = tmp_path / "rows.jsonl"
    row = {"id": "a", "image": "a.jpg", "width": 5, "height": 5, "captions": ["c"]}
    p.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n")
    code, _, err = run_cli(["context", "--input", str(p), "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, f"{p}:2", "appears twice")
    p.write_text(json.dumps(row) + "\n{not json\n")
    code, _, err = run_cli(["context", "--input", str(p), "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, f"{p}:2", "not a valid JSON line")


def test_rows_without_captions_are_counted(tmp_path, capsys):
    p = tmp_path / "rows.jsonl"
    rows = [
        {"id": "a", "width": 5, "height": 5, "captions": ["c"]},
        {"id": "b", "width": 5, "height": 5, "captions": ["  ", ""]},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows))
    code, _, err = run_cli(["context", "--input", str(p), "--out", str(tmp_path / "o")], capsys)
    assert code == 0
    assert "image_no_captions: 1 (e.g. b)" in err and "caption_empty: 2 (e.g. b[0], b[1])" in err
