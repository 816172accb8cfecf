"""`datagen adapt FORMAT`: each output checked against the rules its consumer applies."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import io
import json
import shutil

import datasets
import pytest
from PIL import Image
from support.cli import run_cli
from support.export_fixtures import cc3m_chat, coco_run, coco_val, llava_records
from support.train_fixtures import BLOCKS, build_tokenizer

from datagen.export.convert import split_image_token
from datagen.records import IMAGE_TOKEN, llava_record_problems


def test_llava_merges_runs_and_shuffles_deterministically(tmp_path, coco_mini, cc3m_tsv, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    chat = cc3m_chat(cc3m_tsv, tmp_path / "chat.json", n=20)
    outs = []
    for name, extra in [("a", []), ("b", ["--shuffle", "--seed", "3"]), ("c", ["--shuffle", "--seed", "3"])]:
        out = tmp_path / f"{name}.json"
        code, stdout, err = run_cli(
            ["adapt", "llava", str(run), str(chat), "--out", str(out), *extra], capsys
        )
        assert code == 0, err
        assert "Wrote 29 llava samples" in stdout
        outs.append(json.loads(out.read_text()))
    plain, shuf1, shuf2 = outs
    expected = [{k: r[k] for k in ("id", "image", "conversations")} for r in llava_records(coco_mini)]
    expected += json.loads(chat.read_text())
    assert plain == expected  # merged in input order, provenance dropped
    assert shuf1 == shuf2 and shuf1 != plain
    assert sorted(map(json.dumps, shuf1)) == sorted(map(json.dumps, plain))
    assert all(llava_record_problems(r) == [] for r in shuf1)


def test_llama_factory_sharegpt_and_dataset_info(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "lf"
    out.mkdir()
    (out / "dataset_info.json").write_text(
        json.dumps({"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}})
    )
    images = coco_mini / "val2017"
    args = ["adapt", "llama-factory", str(run), "--out", str(out), "--images", str(images), "--name", "mini"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    info = json.loads((out / "dataset_info.json").read_text())
    assert info["alpaca_en_demo"] == {"file_name": "alpaca_en_demo.json"}  # other entries kept
    assert info["mini"] == {
        "file_name": "mini.json",
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "images": "images"},
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
        },
    }
    rows = json.loads((out / "mini.json").read_text())
    assert len(rows) == 9
    for row, rec in zip(rows, llava_records(coco_mini), strict=True):
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)  # LLaMA-Factory's sharegpt check
        assert sum(m["content"].count(IMAGE_TOKEN) for m in row["messages"]) == len(row["images"]) == 1
        assert [m["content"] for m in row["messages"]] == [t["value"] for t in rec["conversations"]]
        assert row["images"] == [str((images / rec["image"]).resolve())]


def test_trl_messages_and_embedded_images(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "trl"
    images = coco_mini / "val2017"
    code, _, err = run_cli(["adapt", "trl", str(run), "--out", str(out), "--images", str(images)], capsys)
    assert code == 0, err
    ds = datasets.load_from_disk(str(out))
    assert ds.features["images"] == datasets.List(datasets.Image())
    pytest.importorskip("transformers")  # the `train` extra renders the chat template
    tok = build_tokenizer([])
    tok.chat_template = BLOCKS
    sizes = {v["image"]: (v["width"], v["height"]) for v in coco_val(coco_mini)}
    raw = ds.cast_column("images", datasets.List(datasets.Image(decode=False)))
    for row, rec in zip(raw, llava_records(coco_mini), strict=True):
        msgs = row["messages"]
        assert [m["role"] for m in msgs] == ["user", "assistant"] * (len(msgs) // 2)
        blocks = [b for m in msgs for b in m["content"] if b["type"] == "image"]
        assert len(blocks) == len(row["images"]) == 1
        first = msgs[0]["content"]
        _, where = split_image_token(rec["conversations"][0]["value"])
        assert first[0 if where == "first" else -1]["type"] == "image"
        texts = [b["text"] for m in msgs for b in m["content"] if b["type"] == "text"]
        assert not any(IMAGE_TOKEN in t for t in texts)
        assert texts == [split_image_token(t["value"])[0] for t in rec["conversations"]]
        data = row["images"][0]["bytes"]
        assert data == (images / rec["image"]).read_bytes()
        # What TRL's collator does with a row: the processor's chat template renders the content
        # blocks, writing one image placeholder per image block.
        rendered = tok.apply_chat_template(msgs, tokenize=False)
        assert rendered.count("<image>") == len(row["images"])
        assert texts[-1] in rendered
        assert Image.open(io.BytesIO(data)).size == sizes[rec["image"]]


def test_cauldron_texts(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "cauldron"
    code, _, err = run_cli(
        ["adapt", "cauldron", str(run), "--out", str(out), "--task", "conversation"], capsys
    )
    assert code == 0, err
    ds = datasets.load_from_disk(str(out))
    recs = [r for r in llava_records(coco_mini) if r["task"] == "conversation"]
    assert len(ds) == 3
    for row, rec in zip(ds, recs, strict=True):
        conv = rec["conversations"]
        assert row["images"] == [rec["image"]]
        assert row["texts"] == [
            {
                "user": split_image_token(conv[i]["value"])[0],
                "assistant": conv[i + 1]["value"],
                "source": "conversation",
            }
            for i in range(0, len(conv), 2)
        ]


def test_minigpt4_folder(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "mg4"
    images = coco_mini / "val2017"
    args = ["adapt", "minigpt4", str(run), "--out", str(out), "--images", str(images)]
    code, _, err = run_cli(args, capsys)  # all tasks: multi-round conversations cannot go in
    assert (
        code == 2
        and "has 2 question/answer pairs; MiniGPT-4 wants one description" in err
        and "--task" in err
    )
    assert not out.exists()
    code, _, err = run_cli([*args, "--task", "detail_description"], capsys)
    assert code == 0, err
    recs = [r for r in llava_records(coco_mini) if r["task"] == "detail_description"]
    assert json.loads((out / "filter_cap.json").read_text()) == {
        "annotations": [
            {"image_id": r["image"][:-4], "caption": r["conversations"][1]["value"]} for r in recs
        ]
    }
    for r in recs:
        assert (out / "image" / r["image"]).read_bytes() == (images / r["image"]).read_bytes()
    # Two single-round tasks on the same image: two captions for one image file, as MiniGPT-4 allows.
    code, _, err = run_cli(
        [*args, "--task", "detail_description", "--task", "complex_reasoning", "--overwrite"], capsys
    )
    assert code == 0, err
    anns = json.loads((out / "filter_cap.json").read_text())["annotations"]
    assert len(anns) == 6 and sorted({a["image_id"] for a in anns}) == sorted(r["image"][:-4] for r in recs)
    assert len(list((out / "image").iterdir())) == 3


@pytest.mark.parametrize("fmt", ["llava", "llama-factory", "trl", "cauldron", "minigpt4"])
def test_escaping_images_refused_in_every_format(tmp_path, coco_mini, fmt, capsys):
    root = tmp_path / "images"
    shutil.copytree(coco_mini / "val2017", root)
    recs = [r for r in llava_records(coco_mini) if r["task"] == "detail_description"]
    recs[0]["image"] = "../../etc/passwd"
    run = coco_run(coco_mini, tmp_path / "run", recs)
    out = tmp_path / "out"
    code, _, err = run_cli(["adapt", fmt, str(run), "--out", str(out), "--images", str(root)], capsys)
    assert code == 2 and "1 refused as escaping" in err and "'../../etc/passwd'" in err
    assert not out.exists()
    code, _, err = run_cli(
        ["adapt", fmt, str(run), "--out", str(out), "--images", str(root), "--skip-missing-images"], capsys
    )
    assert code == 0, err
    assert "Skipped 1 rows" in err


def test_unknown_format_and_existing_output(tmp_path, coco_mini, capsys):
    run = coco_run(coco_mini, tmp_path / "run")
    code, _, err = run_cli(["adapt", "alpaca", str(run), "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "unknown format 'alpaca'" in err
    out = tmp_path / "t.json"
    out.write_text("keep")
    code, _, err = run_cli(["adapt", "llava", str(run), "--out", str(out)], capsys)
    assert code == 2 and "already exists" in err and out.read_text() == "keep"


def test_trl_dataset_written_in_parts_is_whole(tmp_path, coco_mini, capsys, monkeypatch):
    """With less memory per part than the images need, parts are saved alone and joined in order."""
    import datagen.export.trainers as writers

    monkeypatch.setattr(writers, "PART_BYTES", 150_000)  # ~one 100 KB JPEG per part
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "trl"
    images = coco_mini / "val2017"
    code, _, err = run_cli(["adapt", "trl", str(run), "--out", str(out), "--images", str(images)], capsys)
    assert code == 0, err
    ds = datasets.load_from_disk(str(out)).cast_column("images", datasets.List(datasets.Image(decode=False)))
    recs = llava_records(coco_mini)
    assert len(ds) == len(recs)
    assert [r["images"][0]["path"] for r in ds] == [r["image"] for r in recs]
    assert all(
        r["images"][0]["bytes"] == (images / rec["image"]).read_bytes()
        for r, rec in zip(ds, recs, strict=True)
    )
    assert not list(tmp_path.glob(".*part*")) and not list(tmp_path.glob(".trl*"))


@pytest.mark.parametrize("name", ["../outside", "sub/name", ".hidden", ""])
def test_llama_factory_name_cannot_leave_out_folder(tmp_path, coco_mini, name, capsys):
    """--name becomes `<out>/<name>.json`: a path-like name wrote outside --out."""
    run = coco_run(coco_mini, tmp_path / "run")
    out = tmp_path / "lf" / "data"
    code, _, err = run_cli(["adapt", "llama-factory", str(run), "--name", name, "--out", str(out)], capsys)
    assert code == 2 and err.startswith("Error: --name") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "lf").exists() and not (tmp_path / "outside.json").exists()
