"""`datagen generate caption_rewrite ... --dry-run`: the requests it would send, option checks, and
short descriptions flagged before any request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_cli
from support.jsonl import read_jsonl, write_jsonl
from support.rewrite_samples import FLAWED, REAL_IDS

from datagen.prompts.templates import load_template


def test_dry_run_writes_one_request_per_long_enough_description(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"image_id": i, "caption": FLAWED[i]} for i in REAL_IDS] + [
        {"image_id": "9", "caption": "A dog."}
    ]
    src = write_jsonl(tmp_path / "d.jsonl", rows, ensure_ascii=False)
    run = tmp_path / "run"
    code, out, err = run_cli(
        ["generate", "caption_rewrite", "--descriptions", str(src), "--out", str(run), "--dry-run"], capsys
    )
    assert code == 0, err
    assert "wrote 3 requests (caption_rewrite 3)" in out
    assert "1 description(s) flagged too_short_input, not sent (9); not in requests.jsonl" in err
    lines = read_jsonl(run / "requests.jsonl")
    tpl = load_template("caption_rewrite")
    assert [x["custom_id"] for x in lines] == [f"caption_rewrite:{i}" for i in REAL_IDS]
    for line, id_ in zip(lines, REAL_IDS, strict=True):
        body = line["body"]
        assert body["max_tokens"] == 700
        assert body["messages"][0] == {"role": "system", "content": tpl.system}
        assert len(body["messages"]) == 2 + 2 * len(tpl.examples)
        assert body["messages"][-1] == {"role": "user", "content": FLAWED[id_]}


def test_filter_cap_input_and_min_words_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "filter_cap.json"
    src.write_text(json.dumps({"annotations": [{"image_id": "2", "caption": "Short one."}]}))
    code, out, err = run_cli(
        [
            "generate",
            "caption_rewrite",
            "--descriptions",
            str(src),
            "--out",
            str(tmp_path / "r"),
            "--dry-run",
            "--min-words",
            "0",
        ],
        capsys,
    )
    assert code == 0 and "wrote 1 requests" in out and "too_short_input" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["caption_rewrite"], "exactly one of --descriptions FILE or --from-run RUN_DIR"),
        (
            ["caption_rewrite", "--descriptions", "D", "--coco", "x", "--split", "val2017"],
            "reads descriptions, not COCO",
        ),
        (
            ["conversation", "--coco", "x", "--split", "s", "--descriptions", "D"],
            "--descriptions applies only to caption_rewrite",
        ),
        (
            ["caption_rewrite", "--from-run", "R", "--id-field", "f"],
            "--id-field/--text-field apply to --descriptions",
        ),
        (["caption_rewrite", "--descriptions", "missing.jsonl"], "missing.jsonl: no such file"),
        (["caption_rewrite", "--from-run", "."], "not a run directory"),
    ],
)
def test_option_errors(
    tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = write_jsonl(
        tmp_path / "d.jsonl", [{"image_id": 1, "caption": FLAWED[REAL_IDS[0]]}], ensure_ascii=False
    )
    args = [str(src) if a == "D" else str(tmp_path / a) if a in ("missing.jsonl", ".") else a for a in args]
    code, _, err = run_cli(["generate", *args, "--out", str(tmp_path / "run"), "--dry-run"], capsys)
    assert code == 2
    assert err.startswith("Error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "run" / "requests.jsonl").exists()


def test_bad_row_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(
        tmp_path / "d.jsonl",
        [{"image_id": 1, "caption": FLAWED[REAL_IDS[0]]}, {"image_id": 2}],
        ensure_ascii=False,
    )
    code, _, err = run_cli(
        [
            "generate",
            "caption_rewrite",
            "--descriptions",
            str(src),
            "--out",
            str(tmp_path / "run"),
            "--dry-run",
        ],
        capsys,
    )
    assert code == 2 and f"Error: {src}:2: no description" in err and "--text-field" in err


def test_limit_counts_descriptions_in_file_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"image_id": "1", "caption": FLAWED[REAL_IDS[0]]},
        {"image_id": "2", "caption": "Too short."},
        {"image_id": "3", "caption": "Also too short."},
        {"image_id": "4", "caption": FLAWED[REAL_IDS[1]]},
    ]
    src = write_jsonl(tmp_path / "d.jsonl", rows, ensure_ascii=False)
    code, out, err = run_cli(
        ["generate", "caption_rewrite", "--descriptions", str(src), "--out", str(tmp_path / "r"), "--dry-run",
         "--limit", "2"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "wrote 1 requests" in out
    assert "1 description(s) flagged too_short_input, not sent (2)" in err
