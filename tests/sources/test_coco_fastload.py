"""The fast COCO load gives what a plain parse gives: segmentations cut before parsing, the rest kept.

`drop_segmentations` rewrites the raw bytes of an instances file; these tests hold it against
`json.loads` of the same files (the real COCO-mini sample, the same file pretty-printed, crowd RLEs
in both of COCO's forms, a caption that talks about "segmentation"), and check that the contexts
built through it equal the ones built from a file that has no segmentations at all.
"""

from __future__ import annotations

import json

import pytest

from datagen.sources.coco import build_coco_contexts, drop_segmentations


def _without_segmentation(doc: dict) -> dict:
    for ann in doc.get("annotations", []):
        if "segmentation" in ann:
            ann["segmentation"] = None
    return doc


@pytest.mark.parametrize("indent", [None, 2])
def test_only_segmentations_change_in_the_real_sample(coco_mini, indent):
    raw = (coco_mini / "annotations" / "instances_train2017.json").read_bytes()
    doc = json.loads(raw)
    text = json.dumps(doc, indent=indent).encode()
    assert json.loads(drop_segmentations(text)) == _without_segmentation(json.loads(raw))


def test_crowd_rles_empty_lists_and_look_alike_text():
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
             "segmentation": {"size": [10, 10], "counts": [0, 5, 95]}, "iscrowd": 1},
            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
             "segmentation": {"counts": "PPYo0;M3N2", "size": [10, 10]}, "iscrowd": 1},
            {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "segmentation": []},
            {"id": 4, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
             "segmentation": [[1.5, 2, 3, 4.25, 5, 6], [7, 8, 9, 10, 11, 12]], "note": '"segmentation": [[1]]'},
        ],
        "categories": [{"id": 1, "name": "cat"}],
    }  # fmt: skip
    for indent in (None, 1, 4):
        text = json.dumps(doc, indent=indent).encode()
        got = json.loads(drop_segmentations(text))
        assert got == _without_segmentation(json.loads(text))
        assert got["annotations"][3]["note"] == '"segmentation": [[1]]'


def test_contexts_are_the_same_as_from_a_file_without_segmentations(coco_mini, tmp_path):
    ann = coco_mini / "annotations"
    doc = json.loads((ann / "instances_train2017.json").read_bytes())
    for a in doc["annotations"]:
        a.pop("segmentation", None)
    plain = tmp_path / "instances.json"
    plain.write_text(json.dumps(doc))
    fast, fast_report = build_coco_contexts(ann / "captions_train2017.json", ann / "instances_train2017.json")
    slow, slow_report = build_coco_contexts(ann / "captions_train2017.json", plain)
    assert fast == slow and len(fast) > 50
    assert fast_report.lines() == slow_report.lines()


def test_a_broken_file_still_names_its_own_line(tmp_path):
    from datagen.errors import InputError
    from datagen.sources.coco import load_annotation_file

    bad = tmp_path / "instances.json"
    bad.write_text(
        '{"images": [],\n "annotations": [{"segmentation": [[1, 2]], "id": 1,,}],\n "categories": []}'
    )
    with pytest.raises(InputError, match="line 2"):
        load_annotation_file(bad, ("annotations", "categories"))
