"""COCO annotation files → context records and their exact symbolic text, on real COCO images."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.contexthelpers import EXPECTED_229358

from datagen.prompts.context import render_context
from datagen.sources.coco import build_coco_contexts, normalise_xywh
from datagen.sources.load import SourceSpec, load_contexts


@pytest.fixture(scope="module")
def val_records(coco_mini: Path) -> dict[str, dict]:
    recs, report = load_contexts(SourceSpec(coco=coco_mini, split="val2017"))
    assert report.counts == {}
    return {r["id"]: r for r in recs}


def test_exact_detail_context_of_a_real_image(val_records):
    rec = val_records["000000229358"]
    assert render_context(rec, ["captions", "boxes"]) == EXPECTED_229358


def test_conversation_context_is_captions_only(val_records):
    rec = val_records["000000229358"]
    assert render_context(rec, ["captions"]) == EXPECTED_229358.split("\n\n")[0]


def test_record_fields(val_records):
    assert list(val_records) == ["000000165518", "000000229358", "000000126107"]  # file order
    rec = val_records["000000126107"]
    assert rec["image_id"] == 126107
    assert rec["image"] == "000000126107.jpg"
    assert (rec["width"], rec["height"]) == (640, 480)
    assert len(rec["captions"]) == 5
    # 126107's bird [224.89, 16.82, 414.0, 234.0]: 224.89/640=0.3514 -> 0.351, 16.82/480=0.03504 -> 0.035,
    # 638.89/640=0.99826 -> 0.998, 250.82/480=0.52254 -> 0.523
    assert rec["boxes"][0] == {"category": "bird", "bbox": [0.351, 0.035, 0.998, 0.523], "source": "coco"}
    assert len(rec["boxes"]) == 8
    for b in rec["boxes"]:
        assert all(isinstance(v, float) for v in b["bbox"])
        assert "crowd" not in b


def test_train_split_all_80_images(coco_mini):
    recs, report = build_coco_contexts(
        coco_mini / "annotations/captions_train2017.json", coco_mini / "annotations/instances_train2017.json"
    )
    assert len(recs) == 80
    raw = json.loads((coco_mini / "annotations/instances_train2017.json").read_text())
    usable = [a for a in raw["annotations"] if a["bbox"][2] > 0 and a["bbox"][3] > 0]
    assert sum(len(r["boxes"]) for r in recs) == len(usable) - report.counts.get("box_outside_image", 0)
    crowd = sum(1 for a in raw["annotations"] if a["iscrowd"])
    assert sum(1 for r in recs for b in r["boxes"] if b.get("crowd")) == crowd


def test_normalise_xywh_arithmetic():
    assert normalise_xywh([464.46, 0.0, 175.54, 423.0], 640, 423) == ([0.726, 0.0, 1.0, 1.0], None)
    # outside on the left and bottom: clamped and reported
    assert normalise_xywh([-10, 400, 100, 100], 640, 480) == ([0.0, 0.833, 0.141, 1.0], "box_clamped")
    assert normalise_xywh([10, 10, 0, 5], 640, 480) == (None, "box_degenerate")
    assert normalise_xywh([10, 10, -3, 5], 640, 480) == (None, "box_degenerate")
    assert normalise_xywh([700, 10, 30, 5], 640, 480) == (None, "box_outside_image")
    assert normalise_xywh([1, 2, 3], 640, 480) == (None, "box_invalid")
    assert normalise_xywh([1, 2, float("nan"), 4], 640, 480) == (None, "box_invalid")


def test_crowd_boxes_flagged_and_skippable(tmp_path, coco_mini):
    inst = json.loads((coco_mini / "annotations/instances_val2017.json").read_text())
    inst["annotations"][0]["iscrowd"] = 1  # the bottle of 229358
    p = tmp_path / "instances.json"
    p.write_text(json.dumps(inst))
    caps = coco_mini / "annotations/captions_val2017.json"
    recs, _ = build_coco_contexts(caps, p)
    rec = next(r for r in recs if r["image_id"] == 229358)
    assert rec["boxes"][0] == {
        "category": "bottle",
        "bbox": [0.31, 0.179, 0.337, 0.281],
        "source": "coco",
        "crowd": True,
    }
    recs, report = build_coco_contexts(caps, p, skip_crowd=True)
    rec = next(r for r in recs if r["image_id"] == 229358)
    assert rec["boxes"][0]["category"] == "tie" and len(rec["boxes"]) == 9
    assert report.counts == {"box_crowd_skipped": 1}
    assert report.examples["box_crowd_skipped"] == [str(inst["annotations"][0]["id"])]


def test_pycocotools_chatter_stays_off_stdout(capfd, coco_mini):
    build_coco_contexts(
        coco_mini / "annotations/captions_val2017.json", coco_mini / "annotations/instances_val2017.json"
    )
    out, _ = capfd.readouterr()
    assert out == ""


def test_captions_only_source_has_no_boxes(coco_mini, tmp_path):
    caps = tmp_path / "caps.json"
    shutil.copy(coco_mini / "annotations/captions_val2017.json", caps)
    recs, _ = load_contexts(SourceSpec(captions=caps))
    assert all(r["boxes"] == [] for r in recs)
    assert render_context(recs[0]) == "\n".join(recs[0]["captions"])
