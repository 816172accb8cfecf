"""The exports read by the trainers' own data-loading code, where it installs on a CPU-only machine
from the package registries (`.ci/run` installs them):

- torchtune 0.6.1: `multimodal_chat_dataset` from our `torchtune.yaml` settings (its ShareGPT
  message transform opens every image under `image_dir`, splits the text at `<image>` and checks the
  turns), with a small model transform of our own in place of a tokenizer download;
- ms-swift 4.6.0: `swift.dataset.load_dataset` (its row preprocessor and `objects` check), and its
  template's `normalize_bbox`, which turns our `objects` (pixels, bbox_type "real") into the 0..1000
  boxes most models are trained on, checked against the COCO annotations within one pixel.
  ms-swift is installed without its dependencies (its pins would replace `transformers`): only its
  dataset and template modules are used, and they need modelscope, peft, accelerate, json-repair.
"""

from __future__ import annotations

import copy
import os
import types

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import yaml
from PIL import Image
from support.cli import run_cli
from support.export_fixtures import coco_run
from support.jsonl import read_jsonl
from support.trainer_fixtures import grounded_run, pixel_boxes, pixel_error

_HOW = "install the trainer loaders as .ci/run does (the `loaders` extra, ms-swift with --no-deps)"


class CountingTransform:
    """Stands in for a model's tokenizer + image transform: one token per word, and the images kept."""

    def __call__(self, sample):
        tokens, mask, images, roles = [], [], [], []
        for m in sample["messages"]:
            roles.append(m.role)
            for part in m.content:
                if part["type"] == "image":
                    images.append(part["content"])
                    tokens.append(-1)
                    mask.append(True)
                else:
                    words = part["content"].split()
                    tokens += [len(w) for w in words]
                    mask += [m.masked] * len(words)
        return {"tokens": tokens, "mask": mask, "images": images, "roles": roles}


@pytest.mark.parametrize("mode", ["path", "copy"])
def test_torchtune_multimodal_chat_dataset(mode, coco_mini, tmp_path, capsys):
    multimodal = pytest.importorskip("torchtune.datasets.multimodal", reason=_HOW, exc_type=ImportError)
    multimodal_chat_dataset = multimodal.multimodal_chat_dataset

    llava = coco_run(coco_mini, tmp_path / "llava")
    grounded = grounded_run(coco_mini, "val2017", tmp_path / "g")
    out = tmp_path / "tt"
    args = ["export", "torchtune", str(llava), str(grounded), "--out", str(out)]
    code, _, err = run_cli([*args, "--images", str(coco_mini / "val2017"), "--image-mode", mode], capsys)
    assert code == 0, err
    cfg = yaml.safe_load((out / "torchtune.yaml").read_text())["dataset"]
    assert cfg.pop("_component_") == "torchtune.datasets.multimodal.multimodal_chat_dataset"
    ds = multimodal_chat_dataset(CountingTransform(), **cfg)
    records = read_jsonl(llava / "results.jsonl") + read_jsonl(grounded / "results.jsonl")
    assert len(ds) == len(records) == 12
    for i, rec in enumerate(records):
        item = ds[i]
        assert len(item["images"]) == 1 and isinstance(item["images"][0], Image.Image)
        with Image.open(coco_mini / "val2017" / rec["image"]) as im:
            assert item["images"][0].size == im.size
        assert item["roles"] == ["user", "assistant"] * (len(rec["conversations"]) // 2)
        assert sum(1 for t in item["labels"] if t != -100) > 0  # the answers are trained on


def test_ms_swift_load_dataset_and_its_box_normalisation(coco_mini, tmp_path, capsys):
    load_dataset = pytest.importorskip("swift.dataset", reason=_HOW).load_dataset
    from swift.template.base import Template
    from swift.template.template_inputs import StdTemplateInputs

    grounded = grounded_run(coco_mini, "val2017", tmp_path / "g", "--max-questions", "20")
    out = tmp_path / "swift"
    code, _, err = run_cli(
        ["export", "ms-swift", str(grounded), "--out", str(out), "--images", str(coco_mini / "val2017")],
        capsys,
    )
    assert code == 0, err
    train, _ = load_dataset([str(out / "data.jsonl")], strict=True, load_from_cache_file=False)
    records = read_jsonl(grounded / "results.jsonl")
    assert len(train) == len(records)
    anns = pixel_boxes(coco_mini, "val2017")
    checked = 0
    for row, rec in zip(train, records, strict=True):
        texts = [m["content"] for m in row["messages"]]
        assert sum(t.count("<image>") for t in texts) == len(row["images"]) == 1
        boxes = [f for f in rec["facts"] if f["kind"] in ("region", "locate")]
        assert sum(t.count("<bbox>") for t in texts) == len(boxes)
        if not boxes:
            continue
        objects = copy.deepcopy(row["objects"])
        assert objects["ref"] == [f["subject"][0] for f in boxes]
        with Image.open(row["images"][0]["path"]) as im:
            image = im.copy()
        for norm in ("norm1000", "none"):  # 0..1000, and pixels of the image the model sees
            inputs = StdTemplateInputs(
                messages=row["messages"], images=[image], objects=copy.deepcopy(objects)
            )
            Template._get_height_width(inputs)
            Template.normalize_bbox(types.SimpleNamespace(norm_bbox=norm), inputs)
            scale = 1000 if norm == "norm1000" else None
            for ref, box in zip(objects["ref"], inputs.objects["bbox"], strict=True):
                w, h = image.size
                px = [
                    v / (scale or 1) * ((w if i % 2 == 0 else h) if scale else 1) for i, v in enumerate(box)
                ]
                assert pixel_error(px, ref, anns[rec["image"]]) <= 1.0
                checked += 1
    assert checked >= 6
