"""`datagen diff`: word-level before/after of caption rewrites, plain markers off a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from support.cli import run_cli
from support.jsonl import write_jsonl

from datagen.tasks.rewrite.diff import render_plain, render_rich, stats, word_ops

BEFORE = "A man rides a motorcycle. A man rides a motorcycle. The road is is foggy ## and dark."
AFTER = "A man rides a motorcycle. The road is foggy and dark."


def test_word_ops_and_plain_markers() -> None:
    ops = word_ops(BEFORE, AFTER)
    assert (
        render_plain(ops)
        == "A man rides a motorcycle. [-A man rides a motorcycle.-] The road is [-is-] foggy [-##-] and dark."
    )
    assert stats(ops) == stats(word_ops(BEFORE, AFTER))
    st = stats(ops)
    assert (st.words_before, st.words_after, st.removed, st.added) == (18, 11, 7, 0)
    replaced = render_plain(word_ops("The cat sat.", "The dog sat."))
    assert replaced == "The [-cat-] {+dog+} sat."
    assert render_plain(word_ops("Same text.", "Same text.")) == "Same text."


def test_rich_rendering_styles_deletions_and_insertions() -> None:
    text = render_rich(word_ops("The cat sat.", "The dog sat."))
    assert text.plain == "The cat dog sat."
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles == {"cat": "bold red strike", "dog": "bold green"}
    console = Console(force_terminal=True, color_system="standard", width=80)
    with console.capture() as cap:
        console.print(text)
    assert "\x1b[" in cap.get()  # real ANSI styling in a terminal


def _rewrite(id_: str, before: str, after: str) -> dict:
    return {
        "id": id_,
        "image": f"{id_}.jpg",
        "task": "caption_rewrite",
        "sample_id": f"caption_rewrite:{id_}",
        "conversations": [
            {"from": "human", "value": "<image>\nDescribe it."},
            {"from": "gpt", "value": after},
        ],
        "source_text": before,
    }


def test_diff_command_plain_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    rows = [
        _rewrite("000000165518", BEFORE, AFTER),
        _rewrite("000000126107", "A bird flies.", "A bird flies."),
    ]
    write_jsonl(run / "results.jsonl", rows)
    code, out, _ = run_cli(["diff", str(run)], capsys)
    assert code == 0
    assert out == (
        "== 000000165518 (000000165518.jpg): 18 -> 11 words, -7 +0\n"
        "A man rides a motorcycle. [-A man rides a motorcycle.-] The road is [-is-] foggy [-##-] and dark.\n"
        "\n"
        "== 000000126107 (000000126107.jpg): 3 -> 3 words, -0 +0\n"
        "A bird flies.\n"
    )
    code, out, _ = run_cli(["diff", str(run), "caption_rewrite:000000126107"], capsys)
    assert code == 0 and out.startswith("== 000000126107") and "165518" not in out
    code, out, _ = run_cli(["diff", str(run), "--limit", "1"], capsys)
    assert out.count("== ") == 1


def test_diff_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    code, _, err = run_cli(["diff", str(run)], capsys)
    assert code == 2 and "not a run directory" in err
    detail = _rewrite("1", "x", "y")
    del detail["source_text"]
    (run / "results.jsonl").write_text(json.dumps(detail) + "\n")
    code, _, err = run_cli(["diff", str(run)], capsys)
    assert code == 2 and "no rewritten samples" in err
    (run / "results.jsonl").write_text(json.dumps(_rewrite("1", "x", "y")) + "\n")
    code, _, err = run_cli(["diff", str(run), "42"], capsys)
    assert code == 2 and "no rewritten sample with id '42'" in err
