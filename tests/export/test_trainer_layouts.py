"""Each trainer format's own files, field by field against the trainer's documented loader, and
grounded boxes converted to its convention and back within one pixel of the COCO annotation.

Trainers checked against their documentation and loading code (not installable on a CPU-only CI
machine from the registries): LLaVA-NeXT (`llava/train/train.py` reads `mix.yaml`: `datasets` of
`json_path` + `sampling_strategy`, N% rounded up; opens `os.path.join(image_folder, image)`),
InternVL (meta JSON `root`/`annotation`/`data_augment`/`repeat_time`/`length` = the annotation's
line count; `<box>[[x1, y1, x2, y2]]</box>` on 0..1000), Qwen's `qwen-vl-finetune` (a JSON array of
`{image, conversations}` whose `<image>` tags in human turns each take one image from
`data_path`/`image`; boxes as `bbox_2d`: Qwen2.5-VL in pixels of the image after `smart_resize`,
Qwen3-VL on 0..1000), axolotl (`messages` of content parts, image parts with `path` or `base64`) and
OpenAI-style chat fine-tuning (`image_url` parts; at most 10 MB per image, JPEG/PNG/WEBP, 50,000
image examples and 512 MB per file). Qwen2.5-VL's resize is checked with the Qwen2-VL image
processor from `transformers`, the code the trainer runs.
"""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import pytest
import yaml
from PIL import Image
from support.cli import assert_one_line_error, run_cli
from support.export_fixtures import coco_run
from support.jsonl import read_jsonl
from support.trainer_fixtures import grounded_run, pixel_boxes, pixel_error, sizes

from datagen.export.boxes import CONVENTIONS

_BOX = re.compile(r"\[(\d+), (\d+), (\d+), (\d+)\]")

TRAIN_EXTRA = "transformers (the `train` extra) checks our copy of its resize rule; CI installs it"


@pytest.fixture(scope="module")
def train_run(coco_mini: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """grounded_qa on the 80 COCO-mini train images (sizes from the annotations, no JPEGs needed)."""
    out = tmp_path_factory.mktemp("g") / "run"
    return grounded_run(coco_mini, "train2017", out, "--max-questions", "12")


def _export(fmt, ins, out, capsys, *extra):
    return run_cli(["export", fmt, *map(str, ins), "--out", str(out), *map(str, extra)], capsys)


def _box_facts(run: Path):
    for rec in read_jsonl(run / "results.jsonl"):
        for j, fact in enumerate(rec["facts"]):
            if fact["kind"] in ("region", "locate"):
                yield rec, j, fact


def test_onevision_mix_as_llava_next_reads_it(coco_mini, tmp_path, capsys):
    llava = coco_run(coco_mini, tmp_path / "llava")
    grounded = grounded_run(coco_mini, "val2017", tmp_path / "g")
    out = tmp_path / "mix"
    mix = [
        "--mix",
        "conversation=first:50%",
        "--mix",
        "complex_reasoning=end:1",
        "--mix",
        "grounded_qa=random:100%",
    ]
    code, _, err = _export(
        "llava-onevision", [llava, grounded], out, capsys, "--images", coco_mini / "val2017", *mix
    )
    assert code == 0, err
    doc = yaml.safe_load((out / "mix.yaml").read_text())
    assert "--image_folder " + str((coco_mini / "val2017").resolve()) in (out / "mix.yaml").read_text()
    strategies = {Path(d["json_path"]).stem: d["sampling_strategy"] for d in doc["datasets"]}
    assert strategies == {
        "conversation": "first:50%",
        "detail_description": "all",
        "complex_reasoning": "end:1",
        "grounded_qa": "random:100%",
    }
    loaded = 0
    for d in doc["datasets"]:  # LLaVA-NeXT's sampling rule, applied to what we wrote
        data = json.loads(Path(d["json_path"]).read_text())
        assert {set(r) <= {"id", "image", "conversations"} for r in data} == {True}
        strategy = d["sampling_strategy"]
        n = len(data)
        if ":" in strategy:
            number = strategy.split(":")[1]
            n = math.ceil(int(number[:-1]) * n / 100) if number.endswith("%") else int(number)
        loaded += len(data[:n])
        for r in data:
            assert (Path(str((coco_mini / "val2017").resolve())) / r["image"]).is_file()
    assert loaded == 2 + 3 + 1 + 3
    for bad, needle in [
        ("conversation=first:10.5%", "the strategy must be"),
        ("nosuchtask=all", "no exported sample is of task 'nosuchtask'"),
        ("conversation", "write TASK=STRATEGY"),
        ("conversation=end:0%", "between 1% and 100%"),
    ]:
        code, _, err = _export("llava-onevision", [llava], tmp_path / "bad", capsys, "--mix", bad)
        assert_one_line_error(code, err, needle)


def test_internvl_meta_length_and_norm1000_boxes(train_run, coco_mini, tmp_path, capsys):
    out = tmp_path / "internvl"
    assert _export("internvl", [train_run], out, capsys, "--name", "coco_grounded")[0] == 0
    meta = json.loads((out / "meta.json").read_text())
    entry = meta["coco_grounded"]
    assert set(entry) == {"root", "annotation", "data_augment", "repeat_time", "length"}
    lines = Path(entry["annotation"]).read_text().splitlines()
    assert entry["length"] == len(lines) == 80 - _failed(train_run)
    rows = {r["id"]: r for r in map(json.loads, lines)}
    anns, size = pixel_boxes(coco_mini, "train2017"), sizes(coco_mini, "train2017")
    checked = 0
    for rec, j, fact in _box_facts(train_run):
        row = rows[rec["id"]]
        assert (row["width"], row["height"]) == size[rec["image"]]
        text = row["conversations"][2 * j + (fact["kind"] == "locate")]["value"]
        m = re.search(r"<box>\[\[(\d+), (\d+), (\d+), (\d+)\]\]</box>", text)
        assert m, text
        if fact["kind"] == "locate":
            assert text.startswith("<ref>") and "</ref><box>" in text
        w, h = size[rec["image"]]
        px = [int(v) / 1000 * (w if i % 2 == 0 else h) for i, v in enumerate(m.groups())]
        assert pixel_error(px, fact["subject"][0], anns[rec["image"]]) <= 1.0
        checked += 1
    assert checked > 50


def _failed(run: Path) -> int:
    p = run / "failures.jsonl"
    return len(p.read_text().splitlines()) if p.exists() else 0


@pytest.mark.parametrize("fmt", ["qwen2.5-vl", "qwen3-vl"])
def test_qwen_bbox_2d_round_trip(fmt, train_run, coco_mini, tmp_path, capsys):
    out = tmp_path / fmt
    extra = ["--max-pixels", str(28 * 28 * 256)] if fmt == "qwen2.5-vl" else []  # smaller than COCO images
    assert _export(fmt, [train_run], out, capsys, "--name", "coco", *extra)[0] == 0
    entry = (out / "dataset_entry.py").read_text()
    space: dict = {}
    exec(compile(entry, "dataset_entry.py", "exec"), space)  # the entry is valid Python
    assert space["COCO"] == {"annotation_path": str((out / "coco.json").resolve()), "data_path": ""}
    data = json.loads((out / "coco.json").read_text())
    by_id = {r["id"]: d for r, d in zip(read_jsonl(train_run / "results.jsonl"), data, strict=True)}
    anns, size = pixel_boxes(coco_mini, "train2017"), sizes(coco_mini, "train2017")
    checked = 0
    for rec, j, fact in _box_facts(train_run):
        conv = by_id[rec["id"]]["conversations"]
        # qwen-vl-finetune: <image> tags only in human turns, one per image
        assert sum(t["value"].count("<image>") for t in conv if t["from"] == "human") == 1
        assert not any("<image>" in t["value"] for t in conv if t["from"] == "gpt")
        w, h = size[rec["image"]]
        if fmt == "qwen2.5-vl":  # transformers' copy of Qwen's resize rule (the processor is checked below)
            pytest.importorskip("transformers", reason=TRAIN_EXTRA)
            from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

            rh, rw = smart_resize(h, w, 28, 28 * 28 * 16, 28 * 28 * 256)
        else:
            rw = rh = 1000
        if fact["kind"] == "locate":
            answer = json.loads(conv[2 * j + 1]["value"])
            assert set(answer) == {"bbox_2d", "label"}
            coords = answer["bbox_2d"]
            assert "Output the bbox coordinates in JSON format." in conv[2 * j]["value"]
        else:
            coords = [int(v) for v in _BOX.search(conv[2 * j]["value"]).groups()]
        assert all(isinstance(v, int) for v in coords)
        px = [v / rw * w if i % 2 == 0 else v / rh * h for i, v in enumerate(coords)]
        # within one pixel of the model's frame, mapped back to the original image
        tolerance = max(1.0, w / rw, h / rh)
        assert pixel_error(px, fact["subject"][0], anns[rec["image"]]) <= tolerance
        checked += 1
    assert checked > 50


def _qwen_resized(w: int, h: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(height, width) the Qwen2-VL image processor of `transformers` resizes a w x h image to."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    proc = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    out = proc(images=[Image.new("RGB", (w, h))], return_tensors="np")
    _, gh, gw = out["image_grid_thw"][0]
    return int(gh) * 14, int(gw) * 14


def test_qwen25_resize_matches_the_qwen_image_processor():
    pytest.importorskip("transformers", reason=TRAIN_EXTRA)
    from datagen.export.boxes import smart_resize

    for w, h in [(640, 480), (612, 612), (640, 423), (100, 2000), (4000, 3000), (60, 60)]:
        for lo, hi in [
            (28 * 28 * 16, 28 * 28 * 576),
            (28 * 28 * 4, 28 * 28 * 64),
            (28 * 28 * 256, 28 * 28 * 1280),
        ]:
            assert smart_resize(h, w, lo, hi) == _qwen_resized(w, h, lo, hi)
    conv = CONVENTIONS["qwen2.5"]
    assert conv.coords([0.0, 0.5, 1.0, 1.0], (640, 423), {}) == [0, 210, 644, 420]


def test_pixel_boxes_need_a_size(coco_mini, tmp_path, capsys):
    run = grounded_run(coco_mini, "val2017", tmp_path / "g")
    rows = read_jsonl(run / "results.jsonl")
    for r in rows:
        r.pop("width"), r.pop("height")
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = _export("ms-swift", [bare], tmp_path / "s", capsys)
    assert_one_line_error(code, err, "has boxes but no image size", "--images ROOT")
    # with the images the sizes come from their headers, and the boxes are the same
    assert _export("ms-swift", [bare], tmp_path / "s1", capsys, "--images", coco_mini / "val2017")[0] == 0
    assert _export("ms-swift", [run], tmp_path / "s2", capsys, "--images", coco_mini / "val2017")[0] == 0
    assert (tmp_path / "s1" / "data.jsonl").read_text() == (tmp_path / "s2" / "data.jsonl").read_text()
    old = tmp_path / "old.jsonl"
    old.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "facts"}) + "\n" for r in rows))
    code, _, err = _export("qwen3-vl", [old], tmp_path / "q", capsys)
    assert_one_line_error(code, err, "has no `facts`", "generate it again")


def test_axolotl_parts_and_embedded_images(coco_mini, tmp_path, capsys):
    grounded = grounded_run(coco_mini, "val2017", tmp_path / "g")
    out = tmp_path / "ax"
    assert (
        _export(
            "axolotl", [grounded], out, capsys, "--images", coco_mini / "val2017", "--image-mode", "embed"
        )[0]
        == 0
    )
    cfg = yaml.safe_load((out / "axolotl.yaml").read_text())
    assert cfg["datasets"] == [
        {
            "path": str((out / "data.jsonl").resolve()),
            "ds_type": "json",
            "type": "chat_template",
            "field_messages": "messages",
        }
    ]
    assert cfg["skip_prepare_dataset"] is True and cfg["remove_unused_columns"] is False
    for row, rec in zip(read_jsonl(out / "data.jsonl"), read_jsonl(grounded / "results.jsonl"), strict=True):
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        parts = [p for m in row["messages"] for p in m["content"]]
        assert {p["type"] for p in parts} == {"text", "image"}
        (image,) = [p for p in parts if p["type"] == "image"]
        assert base64.b64decode(image["base64"]) == (coco_mini / "val2017" / rec["image"]).read_bytes()
        assert [p["text"] for p in parts if p["type"] == "text"][0] == rec["conversations"][0][
            "value"
        ].replace("<image>\n", "").replace("\n<image>", "")


def test_openai_split_limits_and_image_rules(coco_mini, tmp_path, capsys):
    llava = coco_run(coco_mini, tmp_path / "llava")
    images = coco_mini / "val2017"
    out = tmp_path / "oa"
    code, _, err = _export("openai", [llava], out, capsys, "--images", images, "--max-file-mb", "0.3")
    assert code == 0, err
    parts = sorted(out.glob("train-*.jsonl"))
    assert len(parts) > 1 and f"split into {len(parts)} files" in err
    assert [p.name for p in parts][-1] == f"train-{len(parts):05d}-of-{len(parts):05d}.jsonl"
    lines = [json.loads(line) for p in parts for line in p.read_text().splitlines()]
    assert len(lines) == 9 and all(p.stat().st_size <= 0.3 * 2**20 for p in parts)
    recs = read_jsonl(llava / "results.jsonl")
    for line, rec in zip(lines, recs, strict=True):
        user = line["messages"][0]
        (url,) = [p["image_url"]["url"] for p in user["content"] if p["type"] == "image_url"]
        head, data = url.split(",", 1)
        assert head == "data:image/jpeg;base64"
        assert base64.b64decode(data) == (images / rec["image"]).read_bytes()
        assert all(isinstance(m["content"], str) for m in line["messages"] if m["role"] == "assistant")
    # URLs instead of bytes
    code, _, err = _export(
        "openai",
        [llava],
        tmp_path / "u",
        capsys,
        "--image-mode",
        "url",
        "--image-url-prefix",
        "https://example.org/coco/",
    )
    assert code == 0, err
    first = read_jsonl(next((tmp_path / "u").glob("train-*.jsonl")))[0]
    assert {
        "type": "image_url",
        "image_url": {"url": "https://example.org/coco/" + recs[0]["image"]},
    } in first["messages"][0]["content"]
    # images the service refuses: a CMYK JPEG and a GIF, reported together before anything is written
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in images.glob("*.jpg"):
        (bad / f.name).write_bytes(f.read_bytes())
    Image.open(images / "000000165518.jpg").convert("CMYK").save(bad / "000000165518.jpg", "JPEG")
    Image.open(images / "000000229358.jpg").save(bad / "000000229358.jpg", "GIF")
    code, _, err = _export("openai", [llava], tmp_path / "refused", capsys, "--images", bad)
    assert_one_line_error(
        code, err, "images break the fine-tuning rules", "CMYK mode", "is GIF", "nothing was written"
    )
    assert not (tmp_path / "refused").exists()
    code, _, err = _export(
        "openai", [llava], tmp_path / "tiny", capsys, "--images", images, "--max-file-mb", "0.01"
    )
    assert_one_line_error(code, err, "more than --max-file-mb 0.01")
