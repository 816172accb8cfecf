"""`datagen export hf`: real runs and CC3M chat.json round-trip through parquet and arrow exports."""

from __future__ import annotations

import os

from support.jsonl import write_jsonl

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before `datasets` is imported anywhere

import io
import json
from pathlib import Path

import datasets
from PIL import Image
from support.cli import run_cli
from support.export_fixtures import MODEL, TEMPLATE_HASHES, cc3m_chat, coco_run, coco_val, llava_records

from datagen.export.hf import record_from_row


def _load_parquet(out: Path, split: str = "train") -> datasets.Dataset:
    files = sorted(str(p) for p in (out / "data").glob(f"{split}-*.parquet"))
    return datasets.load_dataset("parquet", data_files={split: files}, split=split)


def test_parquet_round_trip_run_and_chat_json(tmp_path, coco_mini, cc3m_tsv, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    chat = cc3m_chat(cc3m_tsv, tmp_path / "cc3m" / "chat.json")
    out = tmp_path / "hf"
    code, stdout, err = run_cli(["export", "hf", str(run), str(chat), "--out", str(out)], capsys)
    assert code == 0, err
    assert "Wrote 49 samples (train: 49)" in stdout

    ds = _load_parquet(out)
    # The explicit schema survives: strings stay strings, conversations stay a list of {from, value}.
    assert ds.features["id"] == datasets.Value("string")
    assert ds.features["image"] == datasets.Value("string")
    assert ds.features["conversations"] == datasets.List(
        {"from": datasets.Value("string"), "value": datasets.Value("string")}
    )
    assert ds.features["usage"]["prompt_tokens"] == datasets.Value("int64")
    expected = llava_records(coco_mini) + json.loads(chat.read_text())
    assert [record_from_row(r) for r in ds] == expected
    # CC3M rows carry no provenance: nulls, not made-up values.
    cc3m_row = ds[len(ds) - 1]
    assert cc3m_row["model"] is None and cc3m_row["task"] is None and cc3m_row["usage"] is None
    card = (out / "README.md").read_text()
    assert "| (none) | 40 |" in card and "Conceptual Captions (CC3M)" in card and "CC BY 4.0" in card


def test_arrow_by_task_dataset_dict(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    code, _, err = run_cli(
        ["export", "hf", str(run), "--out", str(out), "--format", "arrow", "--by-task"], capsys
    )
    assert code == 0, err
    dd = datasets.load_from_disk(str(out))
    assert sorted(dd) == sorted(TEMPLATE_HASHES)
    recs = llava_records(coco_mini)
    for task, d in dd.items():
        assert [record_from_row(r) for r in d] == [r for r in recs if r["task"] == task]
        assert set(d["template_hash"]) == {TEMPLATE_HASHES[task]}


def test_embedded_images_are_the_real_jpegs(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    images = coco_mini / "val2017"
    args = ["export", "hf", str(run), "--out", str(out), "--images", str(images), "--embed-images"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    ds = _load_parquet(out)
    assert isinstance(ds.features["image"], datasets.Image)
    sizes = {v["image"]: (v["width"], v["height"]) for v in coco_val(coco_mini)}
    raw = ds.cast_column("image", datasets.Image(decode=False))
    # Decoded, every row is a PIL image of the real file's size; raw, its bytes are the file's bytes.
    assert [row["image"].size for row in ds] == [sizes[r["image"]["path"]] for r in raw]
    for row in raw:
        data = row["image"]["bytes"]
        assert data == (images / row["image"]["path"]).read_bytes()
        assert Image.open(io.BytesIO(data)).size == sizes[row["image"]["path"]]
    assert [record_from_row(r) for r in raw] == llava_records(coco_mini)


def test_parquet_shards_and_split_name(tmp_path, coco_mini, cc3m_tsv, capsys):
    chat = cc3m_chat(cc3m_tsv, tmp_path / "chat.json", n=400)
    out = tmp_path / "hf"
    args = ["export", "hf", str(chat), "--out", str(out), "--max-shard-size", "10KB", "--split", "pretrain"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    # --split names the COCO split everywhere else: here it is the old spelling of --hf-split
    assert "warning: --split is deprecated; use --hf-split" in err
    shards = sorted((out / "data").glob("pretrain-*.parquet"))
    assert len(shards) > 1
    fp = shards[0].stem.rsplit("-", 1)[1]  # every shard carries the export's fingerprint
    assert [s.name for s in shards] == [
        f"pretrain-{i:05d}-of-{len(shards):05d}-{fp}.parquet" for i in range(len(shards))
    ]
    ds = _load_parquet(out, "pretrain")
    assert [record_from_row(r) for r in ds] == json.loads(chat.read_text())
    # The card's YAML tells the Hub (and `load_dataset(FOLDER)`) where the split lives.
    assert f"  - split: pretrain\n    path: data/pretrain-*-{fp}.parquet" in (out / "README.md").read_text()


def test_card_numbers(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "hf"
    code, _, err = run_cli(["export", "hf", str(run), "--out", str(out), "--by-task"], capsys)
    assert code == 0, err
    card = (out / "README.md").read_text()
    for task in TEMPLATE_HASHES:
        assert f"| {task} | 3 |" in card
    # conversation samples have 2 rounds, the others 1: min 1, max 2, mean 12/9 = 1.3.
    assert "rounds per sample: min 1, mean 1.3, median 1.0, max 2" in card
    recs = llava_records(coco_mini)
    gpt = [len(t["value"]) for r in recs for t in r["conversations"] if t["from"] == "gpt"]
    human = [
        len(t["value"].replace("<image>", ""))
        for r in recs
        for t in r["conversations"]
        if t["from"] == "human"
    ]
    assert f"Characters per answer (gpt turn): min {min(gpt)}, mean {round(sum(gpt) / len(gpt), 1)}," in card
    assert f", max {max(gpt)}\n" in card
    assert f"`<image>` not counted): min {min(human)}, mean {round(sum(human) / len(human), 1)}," in card
    assert f"`{MODEL}`" in card
    for h in TEMPLATE_HASHES.values():
        assert h in card
    assert f"datagen export hf {run} --out {out} --by-task" in card
    assert "CC BY 4.0" in card and "Flickr" in card and "provider's terms" in card
    assert "Context source: `coco:captions+instances` (9 samples)" in card
    assert "9 multimodal instruction samples over 3 distinct images" in card


def test_card_counts_caption_and_box_sources_from_contexts(tmp_path, coco_mini, capsys):
    """Contexts built by `datagen context --input` from mixed sources (COCO captions, a captioner, a detector)."""
    rows = []
    for img in coco_val(coco_mini):
        rows.append(
            {
                "id": img["id"],
                "image": img["image"],
                "width": img["width"],
                "height": img["height"],
                "captions": img["captions"][:2] + ["a photo generated by a captioner"],
                "caption_sources": ["coco", "coco", "blip2"],
                "boxes": [
                    {"category": c, "bbox": [0.1, 0.1, 0.5, 0.5], "source": "detr"} for c in img["categories"]
                ],
            }
        )
    src = tmp_path / "in.jsonl"
    write_jsonl(src, rows)
    ctx = tmp_path / "contexts.jsonl"
    code, _, err = run_cli(["context", "--input", str(src), "--out", str(ctx)], capsys)
    assert code == 0, err
    recs = [r for r in llava_records(coco_mini) if r["id"] != "000000229358"]  # two of three images
    run = coco_run(coco_mini, tmp_path / "run", recs)
    out = tmp_path / "hf"
    code, _, err = run_cli(["export", "hf", str(run), "--out", str(out), "--contexts", str(ctx)], capsys)
    assert code == 0, err
    card = (out / "README.md").read_text()
    n_boxes = sum(len(v["categories"]) for v in coco_val(coco_mini) if v["id"] != "000000229358")
    assert "Caption sources (context of the exported images): `blip2` (2), `coco` (4)" in card
    assert f"Box sources (context of the exported images): `detr` ({n_boxes})" in card


def test_embedded_images_sharded_arrow_and_parquet(tmp_path, coco_mini, capsys):
    """Shards are planned from the image sizes; each shard is built alone, nothing lost or reordered."""
    run = coco_run(coco_mini, tmp_path / "run")
    images = coco_mini / "val2017"
    for fmt in ("parquet", "arrow"):
        out = tmp_path / fmt
        args = ["export", "hf", str(run), "--out", str(out), "--images", str(images), "--embed-images"]
        code, _, err = run_cli([*args, "--format", fmt, "--max-shard-size", "200KB", "--by-task"], capsys)
        assert code == 0, err
        if fmt == "parquet":
            shards = sorted((out / "data").glob("conversation-*.parquet"))
            assert len(shards) == 2  # 3 JPEGs, 296 KB in all, in 200 KB shards
            dd = datasets.load_dataset("parquet", data_dir=str(out))
        else:
            dd = datasets.load_from_disk(str(out))
            assert not list(out.glob(".*part*"))
        assert sorted(dd) == sorted(TEMPLATE_HASHES)
        for task, d in dd.items():
            raw = d.cast_column("image", datasets.Image(decode=False))
            assert [record_from_row(r) for r in raw] == [
                r for r in llava_records(coco_mini) if r["task"] == task
            ]
            assert all(r["image"]["bytes"] == (images / r["image"]["path"]).read_bytes() for r in raw)


def test_byte_shards_cover_rows_contiguously():
    from datagen.export.hf_write import _byte_shards

    for sizes, limit in [([100] * 10, 250), ([5, 500, 5, 5], 100), ([1], 10), ([300, 1, 1, 300], 301)]:
        shards = _byte_shards(sizes, limit)
        assert shards[0][0] == 0 and shards[-1][1] == len(sizes)
        assert all(a < b for a, b in shards) and all(
            shards[i][1] == shards[i + 1][0] for i in range(len(shards) - 1)
        )
        assert all(sum(sizes[a:b]) <= limit or b - a == 1 for a, b in shards)
        assert all(sum(sizes[a : b + 1]) > limit for a, b in shards[:-1])  # none could take one more row


def test_unmodelled_fields_and_usage_keys_round_trip(coco_mini):
    """Fields without a column (and usage counters beyond the three modelled) survive via `extra`."""
    from datagen.export.hf import build_dataset

    recs = llava_records(coco_mini)[:3]
    recs[0]["usage"] = {"prompt_tokens": 5, "completion_tokens": 7, "cached_tokens": 2}
    recs[1]["source_text"] = "the description before the rewrite {with braces} $and dollars"
    recs[2]["usage"] = None
    ds = build_dataset(recs)
    assert ds.features["extra"] == datasets.Value("string")
    assert ds[0]["usage"] == {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": None}
    assert [record_from_row(r) for r in ds] == [{k: v for k, v in r.items() if v is not None} for r in recs]
