"""caption_rewrite end to end against the loopback OpenAI-compatible server: scripted clean fixes,
preambles, apologies, truncations, non-English and unchanged replies; exact results, failures,
filter counts; then `export minigpt4` from the real COCO val2017 JPEGs, loaded as MiniGPT-4 does."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image
from support.cli import run_cli, run_process
from support.fakeserver import Reply
from support.jsonl import read_jsonl, write_jsonl
from support.rewrite_samples import FIXED, FLAWED, REAL_IDS

# id -> (description, scripted reply); replies are matched on the description (last user message).
CASES: dict[str, tuple[str, str | Reply]] = {
    **{i: (FLAWED[i], FIXED[i]) for i in REAL_IDS},
    "preamble": (
        "A fleet of buses is parked on the tarmac next to large passenger jets. A fleet of buses is parked "
        "on the tarmac next to large passenger jets. The airport terminal stands behind them.",
        "Here is the corrected paragraph:\n\nA fleet of buses is parked on the tarmac next to large passenger "
        "jets. The airport terminal stands behind them.",
    ),
    "apology": (
        "A panda bear walks across a cement floor inside its enclosure ### while visitors watch from behind "
        "a low wall and a low wall.",
        "I'm sorry, but as an AI I cannot verify what the image shows.",
    ),
    "truncated": (
        "Six old suitcases are stacked against a pink and blue wall, the largest one at the bottom bottom "
        "bottom of the pile and the smallest on top.",
        Reply(
            "Six old suitcases are stacked against a pink and blue wall, the largest", finish_reason="length"
        ),
    ),
    "cut": (
        "A long green and white city bus drives down a street. Cars follow behind it it it and tall trees "
        "line the road on both sides.",
        "A long green and white city bus drives down a street. Cars follow behind it and tall trees line the",
    ),
    "french": (
        "Patio tables and closed umbrellas stand on a beach next to the ocean. Les chaises sont vides. The "
        "sand is pale and the water is calm.",
        "Des tables de patio et des parasols fermés se trouvent sur une plage au bord de l'océan et le sable est pâle.",
    ),
    "unchanged_flawed": (
        "A brown teddy bear sits next to a cup of coffee on a table. A brown teddy bear sits next to a cup "
        "of coffee on a table. The cup is blue and white.",
        "A brown teddy bear sits next to a cup of coffee on a table. A brown teddy bear sits next to a cup "
        "of coffee on a table. The cup is blue and white.",
    ),
    "lost": (
        "A herd of muddy elephants stands among large rocks, and a baby elephant climbs onto one of the "
        "rocks while the adults gather around it in the afternoon sun.",
        "Elephants stand near rocks.",
    ),
}
SHORT = {"short": "A bird over sand."}


def handler_for(cases: dict[str, tuple[str, str | Reply]]):
    by_text = {text: reply for text, reply in cases.values()}

    def handler(body: dict) -> str | Reply:
        return by_text[body["messages"][-1]["content"]]

    return handler


@pytest.fixture()
def descriptions(tmp_path: Path) -> Path:
    rows = [{"image_id": i, "caption": text} for i, (text, _) in CASES.items()]
    rows += [{"image_id": i, "caption": text} for i, text in SHORT.items()]
    return write_jsonl(tmp_path / "descriptions.jsonl", rows, ensure_ascii=False)


def generate(descriptions: Path, run: Path, url: str, *extra: str) -> list[str]:
    return [
        "generate", "caption_rewrite", "--descriptions", str(descriptions), "--out", str(run),
        "--base-url", url, "--model", "test-model", "--quiet", "--seed", "1", *extra,
    ]  # fmt: skip


def test_rewrite_run_results_failures_and_counts(
    tmp_path: Path, descriptions: Path, fake_llm, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_llm.handler = handler_for(CASES)
    run = tmp_path / "run"
    code, _, err = run_cli(generate(descriptions, run, fake_llm.url), capsys)
    assert code == 0, err
    assert "1 description(s) flagged too_short_input" in err

    results = read_jsonl(run / "results.jsonl")
    assert sorted(r["id"] for r in results) == sorted(REAL_IDS)
    by_id = {r["id"]: r for r in results}
    for i in REAL_IDS:
        rec = by_id[i]
        assert rec["image"] == f"{i}.jpg"
        assert rec["source_text"] == FLAWED[i]
        assert rec["conversations"][1] == {"from": "gpt", "value": FIXED[i]}
        assert "<image>" in rec["conversations"][0]["value"]
        assert rec["task"] == "caption_rewrite" and rec["sample_id"] == f"caption_rewrite:{i}"
        assert rec["model"] == "test-model"

    failures = {f["id"]: f for f in read_jsonl(run / "failures.jsonl")}
    assert {i: (f["stage"], f.get("filter")) for i, f in failures.items()} == {
        "preamble": ("filter", "preamble"),
        "apology": ("filter", "apology"),
        "truncated": ("parse", None),
        "cut": ("filter", "cut_off"),
        "french": ("filter", "not_english"),
        "unchanged_flawed": ("filter", "repeats"),
        "lost": ("filter", "lost_content"),
        "short": ("filter", "too_short_input"),
    }
    assert (
        failures["truncated"]["attempts"] == 3 and "finish_reason length" in failures["truncated"]["reason"]
    )
    assert failures["short"]["attempts"] == 0 and failures["short"]["raw"] == SHORT["short"]
    assert failures["preamble"]["raw"].startswith("Here is the corrected paragraph:")

    meta = json.loads((run / "run.json").read_text())
    assert meta["filters"] == {
        "preamble": 1, "apology": 1, "cut_off": 1, "not_english": 1, "repeats": 1, "lost_content": 1,
        "too_short_input": 1,
    }  # fmt: skip
    assert meta["counts"]["failed"] == {"filter": 7, "parse": 1}
    # The short description was never sent; the truncated one was asked 3 times; the rest once.
    sent = Counter(e.key for e in fake_llm.log)
    assert len(fake_llm.log) == len(CASES) + 2 and sorted(sent.values()) == [1] * (len(CASES) - 1) + [3]


def test_rerun_resumes_and_does_not_duplicate_flagged_rows(
    tmp_path: Path, descriptions: Path, fake_llm, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_llm.handler = handler_for(CASES)
    run = tmp_path / "run"
    assert run_cli(generate(descriptions, run, fake_llm.url), capsys)[0] == 0
    first = len(fake_llm.log)
    assert run_cli(generate(descriptions, run, fake_llm.url), capsys)[0] == 0
    # Only the parse failure is asked again (3 more attempts); filtered replies are re-judged from disk.
    assert len(fake_llm.log) == first + 3
    failures = read_jsonl(run / "failures.jsonl")
    assert Counter(f["id"] for f in failures) == Counter(
        {i: 1 for i in [*CASES, *SHORT] if i not in REAL_IDS}
    )
    assert len(read_jsonl(run / "results.jsonl")) == 3

    # --no-filter turns a filter off on a re-run: the stored preamble reply is accepted without a new call.
    before = len(fake_llm.log)
    assert run_cli(generate(descriptions, run, fake_llm.url, "--no-filter", "preamble"), capsys)[0] == 0
    ids = [r["id"] for r in read_jsonl(run / "results.jsonl")]
    assert "preamble" in ids and len(fake_llm.log) == before + 3


def test_raising_min_words_supersedes_an_older_failure_line(
    tmp_path: Path, descriptions: Path, fake_llm, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_llm.handler = handler_for(CASES)
    run = tmp_path / "run"
    # "apology" (25 words) is sent and filtered; then --min-words 30 flags it too short before any call.
    assert run_cli(generate(descriptions, run, fake_llm.url), capsys)[0] == 0
    assert run_cli(generate(descriptions, run, fake_llm.url, "--min-words", "30"), capsys)[0] == 0
    lines = [f for f in read_jsonl(run / "failures.jsonl") if f["id"] == "apology"]
    # used to keep both the old apology-filter line and the new too_short_input line
    assert [f.get("filter") for f in lines] == ["too_short_input"]


def test_from_run_then_export_minigpt4_loads_like_minigpt4(
    tmp_path: Path, fake_llm, coco_mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An earlier LLaVA run whose detail descriptions are the flawed paragraphs.
    llava_run = tmp_path / "llava"
    llava_run.mkdir()
    rows = [
        {
            "id": i, "image": f"{i}.jpg", "task": "detail_description", "sample_id": f"detail_description:{i}",
            "conversations": [{"from": "human", "value": "<image>\nDescribe it."}, {"from": "gpt", "value": FLAWED[i]}],
        }
        for i in REAL_IDS
    ]  # fmt: skip
    write_jsonl(llava_run / "results.jsonl", rows, ensure_ascii=False)
    fake_llm.handler = handler_for({i: (FLAWED[i], FIXED[i]) for i in REAL_IDS})
    run = tmp_path / "rewrite"
    code, _, err = run_cli(
        ["generate", "caption_rewrite", "--from-run", str(llava_run), "--out", str(run),
         "--base-url", fake_llm.url, "--model", "m", "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err

    out = tmp_path / "cc_sbu_align"
    code, _, err = run_cli(
        ["export", "minigpt4", str(run), "--out", str(out), "--images", str(coco_mini / "val2017")], capsys
    )
    assert code == 0, err
    cap = json.loads((out / "filter_cap.json").read_text())
    assert sorted(cap["annotations"], key=lambda a: a["image_id"]) == [
        {"image_id": i, "caption": FIXED[i]} for i in REAL_IDS
    ]
    # MiniGPT-4's reader: annotations from filter_cap.json, image at vis_root/'{}.jpg'.format(image_id).
    with open(out / "filter_cap.json") as f:
        annotations = json.load(f)["annotations"]
    for ann in annotations:
        assert isinstance(ann["image_id"], str)
        image = Image.open(os.path.join(out / "image", "{}.jpg".format(ann["image_id"]))).convert("RGB")
        assert image.size[0] > 0

    code, stdout, _ = run_cli(["diff", str(run), REAL_IDS[1], "--plain"], capsys)
    assert code == 0
    assert stdout.splitlines()[1] == (
        "A man is riding a motorcycle along a road on a foggy night. The headlight of the motorcycle shines "
        "through the [-fog fog-] fog. The rider wears dark clothes and a helmet. [-The rider wears dark "
        "clothes and a helmet. \\n\\n<unk>-] The road is wet and the trees beside it are hard to see."
    )


def test_cli_subprocess_has_no_traceback_on_bad_descriptions(tmp_path: Path, fake_llm) -> None:
    bad = tmp_path / "d.csv"
    bad.write_text("image_id,caption\n1,ok\n2,a,b\n")
    r = run_process(*generate(bad, tmp_path / "run", fake_llm.url))
    assert r.returncode == 2 and r.stderr.startswith(f"Error: {bad}:3: more cells than header columns")
    assert "Traceback" not in r.stderr and fake_llm.log == []


def test_min_ratio_option_reaches_the_filter(
    tmp_path: Path, fake_llm, capsys: pytest.CaptureFixture[str]
) -> None:
    text, reply = CASES["lost"]
    src = write_jsonl(tmp_path / "d.jsonl", [{"image_id": "lost", "caption": text}], ensure_ascii=False)
    fake_llm.handler = handler_for({"lost": (text, reply)})
    run = tmp_path / "run"
    assert run_cli(generate(src, run, fake_llm.url, "--min-ratio", "0.1"), capsys)[0] == 0
    assert [r["conversations"][1]["value"] for r in read_jsonl(run / "results.jsonl")] == [reply]


def test_batch_mode_gives_the_same_outcome(
    tmp_path: Path,
    descriptions: Path,
    fake_llm,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATAGEN_BATCH_POLL", "0.01")
    fake_llm.handler = handler_for(CASES)
    fake_llm.batch_polls = 1
    run = tmp_path / "run"
    code, _, err = run_cli(generate(descriptions, run, fake_llm.url, "--batch"), capsys)
    assert code == 0, err
    assert fake_llm.batches_created == 1
    assert sorted(r["id"] for r in read_jsonl(run / "results.jsonl")) == sorted(REAL_IDS)
    failures = {f["id"]: (f["stage"], f.get("filter")) for f in read_jsonl(run / "failures.jsonl")}
    assert failures["short"] == ("filter", "too_short_input") and failures["french"] == (
        "filter",
        "not_english",
    )
    meta = json.loads((run / "run.json").read_text())
    assert (
        meta["mode"] == "batch"
        and meta["filters"]["too_short_input"] == 1
        and meta["filters"]["preamble"] == 1
    )


def test_shards_split_flagged_descriptions_too(
    tmp_path: Path, fake_llm, capsys: pytest.CaptureFixture[str]
) -> None:
    shorts = {f"s{i}": f"Short text {i}." for i in range(12)}
    src = write_jsonl(
        tmp_path / "d.jsonl", [{"image_id": k, "caption": v} for k, v in shorts.items()], ensure_ascii=False
    )
    flagged: list[str] = []
    for k in range(2):
        run = tmp_path / f"shard{k}"
        code, _, err = run_cli(generate(src, run, fake_llm.url, "--shard", f"{k}/2"), capsys)
        assert code == 5 and "every sample failed" in err  # every input is flagged: nothing succeeded
        flagged += [f["id"] for f in read_jsonl(run / "failures.jsonl")]
    assert sorted(flagged) == sorted(shorts) and fake_llm.log == []


def test_run_json_records_rewrite_inputs(tmp_path: Path, descriptions: Path, fake_llm, capsys) -> None:
    fake_llm.handler = handler_for({**CASES, "short": (SHORT["short"], "A bird flies over sand.")})
    run = tmp_path / "run"
    assert run_cli(generate(descriptions, run, fake_llm.url, "--min-words", "4"), capsys)[0] == 0
    assert "short" in [r["id"] for r in read_jsonl(run / "results.jsonl")]  # 4 words: sent this time
    meta = json.loads((run / "run.json").read_text())
    assert meta["config"]["rewrite"] == {
        "descriptions": str(descriptions), "from_run": None, "id_field": None, "text_field": None,
        "min_words": 4, "min_ratio": None,
    }  # fmt: skip
    assert meta["counts"]["flagged_before_call"] == 0 and "too_short_input" not in meta["filters"]


def test_instructions_file_sets_the_human_turn(tmp_path: Path, fake_llm, capsys) -> None:
    i = REAL_IDS[2]
    src = write_jsonl(tmp_path / "d.jsonl", [{"image_id": i, "caption": FLAWED[i]}], ensure_ascii=False)
    (tmp_path / "ask.txt").write_text("# one phrasing only\nWhat does this photo show?\n")
    fake_llm.handler = handler_for({i: (FLAWED[i], FIXED[i])})
    run = tmp_path / "run"
    args = generate(
        src, run, fake_llm.url, "--instructions", str(tmp_path / "ask.txt"), "--image-token", "last"
    )
    assert run_cli(args, capsys)[0] == 0
    [rec] = read_jsonl(run / "results.jsonl")
    assert rec["conversations"] == [
        {"from": "human", "value": "What does this photo show?\n<image>"},
        {"from": "gpt", "value": FIXED[i]},
    ]
