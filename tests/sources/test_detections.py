"""Context from a detector's boxes and a captioner's captions, built from the real COCO-mini instances.

Detections are the ground-truth instances with scores added (descending in file order, so ranking
keeps the ground-truth order), some dropped, and noise boxes under the threshold: the contexts must
equal the ground-truth contexts where they should, and differ exactly where the threshold bites.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from support.cli import assert_one_line_error, run_cli
from support.jsonl import read_jsonl

from datagen.prompts.context import render_context
from datagen.sources.load import SourceSpec, load_contexts


def ann_paths(coco_mini: Path, split: str) -> tuple[Path, Path]:
    a = coco_mini / "annotations"
    return a / f"captions_{split}.json", a / f"instances_{split}.json"


def gt_texts(coco_mini: Path, split: str) -> dict[str, str]:
    recs, _ = load_contexts(SourceSpec(coco=coco_mini, split=split))
    return {r["id"]: render_context(r) for r in recs}


def texts(recs: list[dict]) -> dict[str, str]:
    return {r["id"]: render_context(r) for r in recs}


def make_detections(inst_path: Path, out: Path, drop_every: int = 0, noise: int = 3) -> list[dict]:
    """GT instances → COCO results; returns them (noise excluded) with their scores."""
    inst = json.loads(inst_path.read_text())
    rng = random.Random(7)
    per_image: dict[int, list[dict]] = {}
    for a in inst["annotations"]:
        per_image.setdefault(a["image_id"], []).append(a)
    dets, kept = [], []
    cat_ids = [c["id"] for c in inst["categories"]]
    for iid, anns in per_image.items():
        for i, a in enumerate(anns):
            score = round(0.99 - 0.4 * i / len(anns), 4)
            det = {"image_id": iid, "category_id": a["category_id"], "bbox": a["bbox"], "score": score}
            if drop_every and i % drop_every == 1:
                continue
            kept.append({**det, "i": i})
            dets.append(det)
        for _ in range(noise):  # noise below the default 0.5 threshold
            dets.append(
                {
                    "image_id": iid,
                    "category_id": rng.choice(cat_ids),
                    "bbox": [1, 2, 30, 40],
                    "score": rng.uniform(0, 0.49),
                }
            )
    rng.shuffle(dets)  # file order must not matter: ranking is by score
    out.write_text(json.dumps(dets))
    return kept


@pytest.mark.parametrize("split", ["val2017", "train2017"])
def test_detections_reproduce_ground_truth(tmp_path, coco_mini, split):
    caps, inst = ann_paths(coco_mini, split)
    det = tmp_path / "dets.json"
    make_detections(inst, det)
    recs, report = load_contexts(SourceSpec(captions=caps, detections=det, categories=inst))
    assert texts(recs) == gt_texts(coco_mini, split)
    n_noise = 3 * len({r["image_id"] for r in recs})
    assert report.counts["detection_below_min_score"] == n_noise
    box = recs[0]["boxes"][0]
    assert box["source"] == "dets.json" and 0.59 <= box["score"] <= 0.99
    assert recs[0]["caption_sources"] == ["coco"] * len(recs[0]["captions"])


def test_threshold_and_max_boxes_bite_exactly(tmp_path, coco_mini):
    caps, inst = ann_paths(coco_mini, "train2017")
    det = tmp_path / "dets.json"
    kept = make_detections(inst, det, drop_every=4)
    gt, _ = load_contexts(SourceSpec(coco=coco_mini, split="train2017"))
    raw_counts: dict[int, int] = {}
    for a in json.loads(inst.read_text())["annotations"]:
        raw_counts[a["image_id"]] = raw_counts.get(a["image_id"], 0) + 1
    by_image: dict[int, list[dict]] = {}
    for d in kept:
        by_image.setdefault(d["image_id"], []).append(d)
    for min_score, max_boxes in [(0.8, None), (0.5, 3), (0.9, 2)]:
        recs, report = load_contexts(
            SourceSpec(
                captions=caps, detections=det, categories=inst, min_score=min_score, max_boxes=max_boxes
            )
        )
        assert len(recs) == len(gt)
        for rec, g in zip(recs, gt, strict=True):
            want_idx = sorted(d["i"] for d in by_image.get(g["image_id"], []) if d["score"] >= min_score)
            if max_boxes is not None:
                want_idx = want_idx[:max_boxes]
            # GT boxes in order, minus dropped ones, minus those under the threshold / over the cap
            # (GT boxes that normalise to nothing are absent from both sides)
            gt_boxes = g["boxes"]
            expected = [
                render_context(
                    {"captions": [], "boxes": [{"category": b["category"], "bbox": b["bbox"]}]}, ["boxes"]
                )
                for b in gt_boxes
            ]
            assert raw_counts[g["image_id"]] == len(gt_boxes)  # no GT box of COCO-mini train is degenerate
            want = "\n".join(expected[i] for i in want_idx)
            got = render_context(rec, ["boxes"])
            assert got == want, (g["id"], min_score, max_boxes)
        if max_boxes:
            assert report.counts["detection_over_max_boxes"] > 0


def test_detections_together_with_ground_truth(tmp_path, coco_mini):
    caps, inst = ann_paths(coco_mini, "val2017")
    det = tmp_path / "yolo.json"
    det.write_text(
        json.dumps([{"image_id": 229358, "category_id": 62, "bbox": [0, 0, 64, 42.3], "score": 0.7}])
    )
    recs, _ = load_contexts(SourceSpec(coco=coco_mini, split="val2017", detections=det))
    rec = next(r for r in recs if r["image_id"] == 229358)
    assert rec["boxes"][-1] == {
        "category": "chair",
        "bbox": [0.0, 0.0, 0.1, 0.1],
        "score": 0.7,
        "source": "yolo.json",
    }
    assert [b["source"] for b in rec["boxes"]] == ["coco"] * 10 + ["yolo.json"]
    assert render_context(rec).endswith(
        "toothbrush: [0.578, 0.662, 0.612, 0.854]\nchair: [0.0, 0.0, 0.1, 0.1]"
    )


def test_captions_file_instead_of_coco_captions(tmp_path, coco_mini):
    caps, inst = ann_paths(coco_mini, "train2017")
    data = json.loads(caps.read_text())
    names = {i["id"]: i["file_name"] for i in data["images"]}
    capfile = tmp_path / "blip.jsonl"
    capfile.write_text(
        "\n".join(
            json.dumps({"image": names[a["image_id"]], "caption": a["caption"]}) for a in data["annotations"]
        )
    )
    recs, _ = load_contexts(SourceSpec(instances=inst, captions_file=capfile))
    gt = gt_texts(coco_mini, "train2017")
    assert set(texts(recs)) == set(gt)
    assert texts(recs) == {k: gt[k] for k in texts(recs)}
    assert recs[0]["caption_sources"] == ["blip.jsonl"] * len(recs[0]["captions"])


def test_captions_file_in_addition_csv_by_id(tmp_path, coco_mini, capsys):
    caps, inst = ann_paths(coco_mini, "val2017")
    csvf = tmp_path / "extra.csv"
    csvf.write_text(
        'image,caption,source\n229358,"A man, with a {phone} $9",blip2\n000000165518.jpg,Fog rider.,\n4,lost,x\n'
    )
    out = tmp_path / "ctx.jsonl"
    code, _, err = run_cli(
        [
            "context",
            "--coco",
            str(coco_mini),
            "--split",
            "val2017",
            "--captions-file",
            str(csvf),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    assert "caption_unknown_image: 1 (e.g. 4)" in err
    recs = {json.loads(x)["image_id"]: json.loads(x) for x in out.read_text().splitlines()}
    r = recs[229358]
    assert r["captions"][-1] == "A man, with a {phone} $9" and r["caption_sources"] == ["coco"] * 5 + [
        "blip2"
    ]
    assert recs[165518]["captions"][-1] == "Fog rider." and recs[165518]["caption_sources"][-1] == "extra.csv"


def test_own_images_sizes_from_headers(tmp_path, coco_mini):
    """A captioner + detector on image files alone: sizes come from the JPEG headers."""
    caps, inst = ann_paths(coco_mini, "val2017")
    data = json.loads(caps.read_text())
    names = {i["id"]: i["file_name"] for i in data["images"]}
    capfile = tmp_path / "caps.jsonl"
    rows = [{"image": names[a["image_id"]], "caption": a["caption"]} for a in data["annotations"]]
    rows.append({"image": "missing.jpg", "caption": "no file, no size"})
    capfile.write_text("\n".join(json.dumps(r) for r in rows))
    det = tmp_path / "dets.json"
    make_detections(inst, det)
    spec = SourceSpec(captions_file=capfile, detections=det, categories=inst, images=coco_mini / "val2017")
    recs, report = load_contexts(spec)
    gt, _ = load_contexts(SourceSpec(coco=coco_mini, split="val2017"))
    assert {r["id"]: (r["width"], r["height"]) for r in recs} == {
        g["id"]: (g["width"], g["height"]) for g in gt
    }
    assert texts(recs) == {g["id"]: render_context(g) for g in gt}
    assert report.counts["image_bad_size"] == 1 and report.examples["image_bad_size"] == ["missing"]


def test_detections_bad_input(tmp_path, coco_mini, capsys):
    caps, inst = ann_paths(coco_mini, "val2017")
    base = ["context", "--captions", str(caps), "--categories", str(inst), "--out", str(tmp_path / "o.jsonl")]
    det = tmp_path / "d.json"

    def run(dets: object) -> tuple[int, str]:
        det.write_text(json.dumps(dets) if not isinstance(dets, str) else dets)
        code, _, err = run_cli([*base, "--detections", str(det)], capsys)
        return code, err

    good = {"image_id": 229358, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.9}
    code, err = run([good, {**good, "score": 1.5}])
    assert_one_line_error(code, err, "d.json[1]", "score 1.5 is outside [0, 1]")
    code, err = run([{**good, "score": -0.1}])
    assert_one_line_error(code, err, "outside [0, 1]")
    code, err = run('[{"image_id": 229358, "category_id": 1, "bbox": [1, 2, 3, 4], "score": NaN}]')
    assert_one_line_error(code, err, "'score' must be a number")
    code, err = run([{**good, "image_id": 1}, {**good, "image_id": 2}])
    assert_one_line_error(code, err, "no detection matches a known image")
    code, err = run([{**good, "category_id": 999}])
    assert_one_line_error(code, err, "no detection has a known category_id")
    code, err = run({"annotations": []})
    assert_one_line_error(code, err, "expected a JSON array of detections")
    code, err = run([{"image_id": 229358, "bbox": [1, 2, 3, 4], "score": 0.9}])
    assert_one_line_error(code, err, "d.json[0]", "needs image_id, category_id")
    # NaN, negative and zero-size boxes, unknown images and categories: skipped and counted
    code, err = run(
        '[{"image_id": 229358, "category_id": 1, "bbox": [NaN, 2, 3, 4], "score": 0.9},'
        '{"image_id": 229358, "category_id": 1, "bbox": [1, 2, -3, 4], "score": 0.9},'
        '{"image_id": 229358, "category_id": 1, "bbox": [1, 2, 3, 0], "score": 0.9},'
        '{"image_id": 424242, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9},'
        '{"image_id": 229358, "category_id": 999, "bbox": [1, 2, 3, 4], "score": 0.9},'
        '{"image_id": 229358, "category_id": 1, "bbox": [64, 42.3, 64, 42.3], "score": 0.9}]'
    )
    assert code == 0, err
    for line in [
        "box_invalid: 1 (e.g. d.json[0])",
        "box_degenerate: 2 (e.g. d.json[1], d.json[2])",
        "box_unknown_image: 1 (e.g. d.json[3])",
        "box_unknown_category: 1 (e.g. d.json[4])",
    ]:
        assert line in err
    rec = next(json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines() if "229358" in x)
    assert [b["bbox"] for b in rec["boxes"]] == [[0.1, 0.1, 0.2, 0.2]]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--detections", "d.json"], "also give a source of images"),
        (["--captions", "c.json", "--detections", "d.json"], "needs category names"),
        (["--captions", "c.json", "--categories", "i.json"], "--categories only applies with --detections"),
        (["--coco", "x", "--split", "v", "--detections", "d.json", "--min-score", "1.5"], "--min-score 1.5"),
        (["--coco", "x", "--split", "v", "--box-format", "xywh-pixel"], "--box-format applies to --input"),
        (["--instances", "i.json"], "--instances needs --captions FILE or --captions-file"),
    ],
)
def test_source_option_combinations(tmp_path, capsys, args, needle):
    code, _, err = run_cli(["context", *args, "--out", str(tmp_path / "o.jsonl")], capsys)
    assert code == 2
    assert_one_line_error(code, err, needle)


def test_captions_file_matching_nothing(tmp_path, coco_mini, capsys):
    capfile = tmp_path / "c.jsonl"
    capfile.write_text('{"image": "cat.jpg", "caption": "a cat"}\n{"image": 17, "caption": "x"}\n')
    code, _, err = run_cli(
        [
            "context",
            "--coco",
            str(coco_mini),
            "--split",
            "val2017",
            "--captions-file",
            str(capfile),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert_one_line_error(code, err, "c.jsonl", "none of its 2 rows names a known image")
    capfile.write_text('{"image": "cat.jpg"}\n')
    code, _, err = run_cli(["context", "--captions-file", str(capfile), "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "c.jsonl:1", "needs 'image'")
    bad = tmp_path / "c.csv"
    bad.write_text("file,text\na.jpg,hello\n")
    code, _, err = run_cli(["context", "--captions-file", str(bad), "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "CSV header lacks caption, image")
    # An unquoted comma inside a caption must not silently cut the caption short.
    bad.write_text("image,caption\na.jpg,a dog, sitting on a bench\n")
    code, _, err = run_cli(["context", "--captions-file", str(bad), "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "c.csv:2", "more cells than header columns")


def test_captions_file_alone_without_sizes_is_reported(tmp_path, capsys):
    capfile = tmp_path / "c.jsonl"
    capfile.write_text('{"image": "cat.jpg", "caption": "a cat"}\n')
    code, _, err = run_cli(["context", "--captions-file", str(capfile), "--out", str(tmp_path / "o")], capsys)
    assert_one_line_error(code, err, "no usable image", "image_bad_size: 1 (e.g. cat)")


def test_generate_accepts_the_new_sources(tmp_path, coco_mini, capsys):
    caps, inst = ann_paths(coco_mini, "val2017")
    det = tmp_path / "dets.json"
    make_detections(inst, det)
    run = tmp_path / "run"
    code, _, err = run_cli(
        [
            "generate",
            "detail",
            "--captions",
            str(caps),
            "--detections",
            str(det),
            "--categories",
            str(inst),
            "--out",
            str(run),
            "--dry-run",
        ],
        capsys,
    )
    assert code == 0, err
    lines = read_jsonl(run / "requests.jsonl")
    gt = gt_texts(coco_mini, "val2017")
    assert {x["custom_id"].split(":")[1]: x["body"]["messages"][-1]["content"] for x in lines} == gt


def test_coco_file_without_sizes_reads_image_headers(tmp_path, coco_mini, capsys):
    caps, inst = ann_paths(coco_mini, "val2017")
    data = json.loads(caps.read_text())
    for img in data["images"]:
        del img["width"], img["height"]
    nosize = tmp_path / "captions.json"
    nosize.write_text(json.dumps(data))
    recs, report = load_contexts(SourceSpec(captions=nosize, instances=inst, images=coco_mini / "val2017"))
    assert texts(recs) == gt_texts(coco_mini, "val2017") and report.counts == {}
    code, _, err = run_cli(
        ["context", "--captions", str(nosize), "--instances", str(inst), "--out", "o"], capsys
    )
    assert_one_line_error(code, err, "no usable image", "image_bad_size: 3")
