"""End to end: a real `datagen generate` run (loopback fake model) → export hf → adapt → training batch.

The run directory is written by the engine itself (results.jsonl with provenance, run.json), over
the real COCO val2017 captions and boxes, so this pins export and adapter to the engine's actual
output rather than to our reading of the contract.
"""

from __future__ import annotations

import json

import datasets
import pytest
from support.cli import run_cli
from support.engine_helpers import good_reply, run_echo_cli
from support.fakeserver import FakeServer
from support.jsonl import read_jsonl

from datagen.export.hf import record_from_row


@pytest.fixture
def engine_run(tmp_path, coco_mini):
    ann = coco_mini / "annotations"
    out = tmp_path / "run"
    with FakeServer(handler=good_reply) as srv:
        p = run_echo_cli(
            "generate", "echo_qa",
            "--captions", ann / "captions_val2017.json",
            "--instances", ann / "instances_val2017.json",
            "--out", out, "--model", "scripted-model", "--base-url", srv.url, "--rpm", "6000",
        )  # fmt: skip
    assert p.returncode == 0, p.stderr
    return out


def test_engine_run_round_trips_with_embedded_images(engine_run, tmp_path, coco_mini, capsys):
    results = read_jsonl(engine_run / "results.jsonl")
    assert len(results) == 3
    out = tmp_path / "hf"
    images = coco_mini / "val2017"
    args = ["export", "hf", str(engine_run), "--out", str(out), "--images", str(images), "--embed-images"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    ds = datasets.load_dataset("parquet", data_dir=str(out), split="train")
    raw = ds.cast_column("image", datasets.Image(decode=False))
    assert [record_from_row(r) for r in raw] == results
    assert all(r["image"]["bytes"] == (images / r["image"]["path"]).read_bytes() for r in raw)
    card = (out / "README.md").read_text()
    meta = json.loads((engine_run / "run.json").read_text())
    tokens = meta["tokens"]
    assert "| echo_qa | 3 |" in card and "Model: `scripted-model`" in card and "`t0`" in card
    assert f"{tokens['prompt']} prompt + {tokens['completion']} completion tokens" in card
    assert "context from captions=captions_val2017.json, instances=instances_val2017.json" in card


def test_engine_run_through_adapters_to_a_training_batch(engine_run, tmp_path, coco_mini, capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from support.train_fixtures import build_tokenizer

    from datagen.adapter.torch_data import IGNORE_INDEX, Collator, ImageTransform, SupervisedDataset
    from datagen.rundir.samples import load_many

    lf = tmp_path / "lf"
    code, _, err = run_cli(["adapt", "llama-factory", str(engine_run), "--out", str(lf)], capsys)
    assert code == 0, err
    rows = json.loads((lf / "datagen.json").read_text())
    assert all(
        sum(m["content"].count("<image>") for m in r["messages"]) == len(r["images"]) == 1 for r in rows
    )

    recs = load_many([engine_run])
    tok = build_tokenizer([t["value"] for r in recs for t in r["conversations"]])
    ds = SupervisedDataset(
        recs, tok, num_image_tokens=9, image_root=coco_mini / "val2017", image_transform=ImageTransform(24)
    )
    batch = Collator(tok.pad_token_id)([ds[i] for i in range(len(ds))])
    assert batch["pixel_values"].shape == (3, 3, 24, 24)
    assert int((batch["input_ids"] == tok.convert_tokens_to_ids("<image>")).sum()) == 27
    answers = [r["conversations"][1]["value"] + "<|im_end|>" for r in recs]
    want = sum(len(tok(a, add_special_tokens=False)["input_ids"]) for a in answers)
    assert int((batch["labels"] != IGNORE_INDEX).sum()) == want
    assert torch.equal(
        batch["attention_mask"].sum(1), torch.tensor([len(ds[i]["input_ids"]) for i in range(3)])
    )


def test_real_cc3m_filter_chat_json_round_trips(tmp_path, cc3m_tsv, capsys):
    """`datagen cc3m filter` on real CC3M lines writes chat.json; the export gives it back exactly."""
    pytest.importorskip("spacy")
    tsv = tmp_path / "cc3m.tsv"
    with open(cc3m_tsv, encoding="utf-8") as f:
        tsv.write_text("".join(next(f) for _ in range(150)), encoding="utf-8")
    code, _, err = run_cli(
        ["cc3m", "filter", str(tsv), "--out", str(tmp_path / "cc3m"), "--min-freq", "2", "-q"], capsys
    )
    assert code == 0, err
    chat = json.loads((tmp_path / "cc3m" / "chat.json").read_text())
    assert chat and all(r["id"].startswith("GCC_train_") for r in chat)
    out = tmp_path / "hf"
    args = [
        "export",
        "hf",
        str(tmp_path / "cc3m" / "chat.json"),
        "--out",
        str(out),
        "--by-task",
        "--task",
        "cc3m",
    ]
    code, _, err = run_cli([*args, "--format", "arrow"], capsys)
    # --task's old meaning (a label for unlabelled records) still works this release, with a warning
    assert code == 0 and "warning: --task cc3m labelled" in err and "--default-task cc3m" in err, err
    dd = datasets.load_from_disk(str(out))
    assert list(dd) == ["cc3m"]
    assert [record_from_row(r) for r in dd["cc3m"]] == [{**r, "task": "cc3m"} for r in chat]
    card = (out / "README.md").read_text()
    assert f"| cc3m | {len(chat)} |" in card and "Conceptual Captions (CC3M)" in card
    assert "COCO:" not in card  # no COCO licence note for CC3M-only data
