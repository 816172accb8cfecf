"""`datagen export rlvr`: verifiable questions only, in the parquet columns veRL and EasyR1 read.

veRL (`verl.utils.dataset.rl_dataset.RLHFDataset`) and EasyR1 read the parquet file with
`datasets.load_dataset("parquet", ...)`; the trainers themselves are not installed on CI (veRL pins
`transformers<5.11` and pulls `ray[default]`, and needs a model's tokenizer and processor to build a
sample), so the columns are checked field by field against veRL's documented multimodal example
(geo3k: `data_source`, `prompt` = chat messages with `<image>`, `images` of `{bytes, path}`,
`ability`, `reward_model` = {style "rule", ground_truth}, `extra_info`) and EasyR1's dataset keys
(`problem`, `answer`, `images`). The reward function written beside the data is called with both
trainers' signatures: the ground truth scores 1, a wrong answer 0.
"""

from __future__ import annotations

import importlib.util
import json
import os
from io import BytesIO
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import datasets
from PIL import Image
from support.cli import assert_one_line_error, run_cli, run_datagen
from support.export_fixtures import coco_run
from support.jsonl import read_jsonl
from support.vqa import VQA_DATA, last_user, majority_answers

from datagen.tasks.vqa.accuracy import load_annotations

WRONG = {
    "count": "7",
    "exists": "no",
    "absent": "yes",
    "region": "giraffe",
    "locate": "[0.0, 0.0, 0.01, 0.01]",
}


def _reward(out: Path):
    spec = importlib.util.spec_from_file_location("datagen_reward", out / "reward.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _load(out: Path) -> datasets.Dataset:
    return datasets.load_dataset("parquet", data_files=str(out / "train.parquet"), split="train")


def test_grounded_questions_become_checkable_prompts(coco_mini, tmp_path, capsys):
    from support.trainer_fixtures import grounded_run

    grounded = grounded_run(coco_mini, "val2017", tmp_path / "g", "--max-questions", "20")
    llava = coco_run(coco_mini, tmp_path / "llava")
    out = tmp_path / "rl"
    code, stdout, err = run_cli(
        [
            "export",
            "rlvr",
            str(llava),
            str(grounded),
            "--out",
            str(out),
            "--images",
            str(coco_mini / "val2017"),
        ],
        capsys,
    )
    assert code == 0, err
    assert "left out 3 sample(s): conversation (no checkable answer)" in err
    assert "left out 3 sample(s): complex_reasoning (no checkable answer)" in err
    records = read_jsonl(grounded / "results.jsonl")
    facts = [(r, f) for r in records for f in r["facts"]]
    ds = _load(out)
    assert len(ds) == len(facts) and f"Wrote {len(facts)} rlvr samples" in stdout
    assert {
        "data_source",
        "prompt",
        "images",
        "ability",
        "reward_model",
        "extra_info",
        "problem",
        "answer",
    } <= set(ds.column_names)
    reward = _reward(out)
    kinds = set()
    for row, (rec, fact) in zip(ds, facts, strict=True):
        kinds.add(fact["kind"])
        assert row["data_source"] == f"datagen/grounded_qa/{fact['kind']}" and row["ability"] == "grounding"
        assert row["reward_model"] == {"style": "rule", "ground_truth": fact["expected"]}
        assert row["answer"] == fact["expected"] and row["problem"] == row["prompt"][0]["content"]
        (msg,) = row["prompt"]
        assert msg["role"] == "user" and msg["content"].count("<image>") == len(row["images"]) == 1
        image = Image.open(BytesIO(row["images"][0]["bytes"]))  # veRL's process_image opens the bytes
        assert image.size == (rec["width"], rec["height"])
        if fact["kind"] in ("region", "locate"):
            assert "as fractions of the image width and height" in msg["content"]
        truth = fact["expected"]
        reply = f"<answer>{truth}</answer>" if fact["kind"] != "locate" else f"The box is {truth}."
        assert reward.compute_score(row["data_source"], reply, truth, row["extra_info"]) == 1.0
        assert (
            reward.compute_score_easyr1({"response": reply, "ground_truth": row["answer"]})["overall"] == 1.0
        )
        wrong = WRONG.get(fact["kind"]) or ("no" if truth == "yes" else "yes" if truth == "no" else "banana")
        assert reward.compute_score(row["data_source"], wrong, truth, row["extra_info"]) == 0.0
    assert kinds == {"count", "exists", "absent", "relation", "region", "locate"}


def test_vqa_answers_are_verifiable_only_with_the_annotations(
    fake_llm, bundled_data, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-rlvr-0000")
    majority = majority_answers()
    fake_llm.handler = lambda body: f"{majority[last_user(body).rsplit('Question: ', 1)[1]]}."
    run = tmp_path / "vqa"
    proc = run_datagen(
        "generate", "vqa_answer", "--coco", bundled_data / "coco", "--split", "val2017",
        "--questions", VQA_DATA / "questions_val2017.json", "--out", run, "--base-url", fake_llm.url,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    images = bundled_data / "coco" / "val2017"
    code, _, err = run_cli(
        ["export", "rlvr", str(run), "--out", str(tmp_path / "none"), "--images", str(images)], capsys
    )
    assert_one_line_error(
        code, err, "no verifiable question", "without --vqa-annotations", "--vqa-annotations FILE"
    )
    out = tmp_path / "rl"
    annotations = VQA_DATA / "annotations_val2017.json"
    args = [
        "export",
        "rlvr",
        str(run),
        "--out",
        str(out),
        "--images",
        str(images),
        "--vqa-annotations",
        str(annotations),
    ]
    args += ["--image-mode", "path"]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    ds = _load(out)
    anns = load_annotations(annotations)
    records = read_jsonl(run / "results.jsonl")
    assert len(ds) == len(records) == 12
    reward = _reward(out)
    for row, rec in zip(ds, records, strict=True):
        ann = anns[rec["question_id"]]
        assert row["data_source"] == "datagen/vqa" and row["extra_info"]["answers"] == ann["answers"]
        assert row["images"] == [str((images / rec["image"]).resolve())]  # --image-mode path
        best = row["reward_model"]["ground_truth"]
        assert reward.compute_score("datagen/vqa", best.upper() + ".", best, row["extra_info"]) == 1.0
        assert reward.compute_score("datagen/vqa", "definitely not this", best, row["extra_info"]) == 0.0
    assert "sk-test-rlvr-0000" not in json.dumps(ds.to_list(), default=str)
    # a question the annotators disagree on has no single truth: left out, and said so
    data = json.loads(annotations.read_text())
    data["annotations"][0]["answers"] = [{"answer": f"answer {i}"} for i in range(10)]
    split = tmp_path / "split.json"
    split.write_text(json.dumps(data))
    args[args.index(str(annotations))] = str(split)
    args[args.index(str(out))] = str(tmp_path / "rl2")
    code, _, err = run_cli(args, capsys)
    assert (
        code == 0
        and "left out 1 sample(s): vqa_answer question on which fewer than 3 annotators agree" in err
    )
    assert len(_load(tmp_path / "rl2")) == 11
