"""`datagen stats`: task mix vs LLaVA-158K, turns, length distributions and filter drops."""

from __future__ import annotations

import json

import pytest
from support.cli import run_datagen

from datagen.common.jsonio import write_jsonl_atomic
from datagen.records import make_conversations, placement_rng
from datagen.review.stats import LLAVA_158K_MIX, distribution


def result_row(image_id: int, task: str, pairs):
    sid = f"{task}:{image_id:012d}"
    return {
        "id": f"{image_id:012d}",
        "image": f"{image_id:012d}.jpg",
        "conversations": make_conversations(pairs, "random", placement_rng(0, sid)),
        "task": task,
        "sample_id": sid,
    }


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "run"
    rows = [
        result_row(
            1,
            "conversation",
            [
                ("What is on the table?", "Two cups and a plate."),
                ("Who sits there?", "A woman in a red coat."),
            ],
        ),
        result_row(2, "conversation", [("What animal is this?", "It is a brown dog lying on the grass.")]),
        result_row(
            1,
            "complex_reasoning",
            [("Why might she be waiting?", "She has two cups, so she probably expects a friend.")],
        ),
        result_row(3, "detail_description", [("Describe the image in detail.", " ".join(["word"] * 30))]),
    ]
    write_jsonl_atomic(d / "results.jsonl", rows)
    write_jsonl_atomic(
        d / "failures.jsonl",
        [
            {
                "sample_id": "conversation:000000000004",
                "stage": "filter",
                "filter": "leak",
                "reason": "turn 1 answer mentions captions",
            },
            {
                "sample_id": "conversation:000000000005",
                "stage": "filter",
                "filter": "leak",
                "reason": "turn 2 answer mentions bounding boxes",
            },
            {
                "sample_id": "detail_description:000000000006",
                "stage": "filter",
                "filter": "short_turn",
                "reason": "description is 5 words (< 25)",
            },
            {
                "sample_id": "complex_reasoning:000000000007",
                "stage": "parse",
                "reason": "expected exactly one question/answer pair, found 2",
            },
        ],
    )
    return d


def test_distribution_percentiles():
    assert distribution([]) == {"count": 0}
    assert distribution([5, 1, 3, 2, 4]) == {
        "count": 5,
        "min": 1,
        "p10": 1,
        "median": 3,
        "p90": 5,
        "max": 5,
        "mean": 3.0,
    }


def test_stats_json(run_dir):
    proc = run_datagen("stats", run_dir, "--json")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)
    assert s["samples"] == 4
    assert list(s["tasks"]) == ["conversation", "detail_description", "complex_reasoning"]
    conv = s["tasks"]["conversation"]
    assert conv["samples"] == 2 and conv["share"] == 0.5
    assert conv["llava_158k_samples"] == 58_000
    assert conv["llava_158k_share"] == round(58 / 158, 4)
    assert conv["turns_per_conversation"] == {"1": 1, "2": 1}
    assert conv["question_words"] == {
        "count": 3,
        "min": 3,
        "p10": 3,
        "median": 4,
        "p90": 5,
        "max": 5,
        "mean": 4.0,
    }
    assert conv["answer_words"]["max"] == 9  # "It is a brown dog lying on the grass."
    assert s["tasks"]["detail_description"]["answer_words"]["min"] == 30
    assert s["failures_by_stage"] == {"filter": 3, "parse": 1}
    assert s["filter_drops"] == {"leak": 2, "short_turn": 1}
    # results.jsonl given directly: its folder's failures.jsonl still counts
    s2 = json.loads(run_datagen("stats", run_dir / "results.jsonl", "--json").stdout)
    assert s2["filter_drops"] == s["filter_drops"] and s2["tasks"] == s["tasks"]


def test_run_json_counts_are_the_fallback(run_dir):
    meta = {"counts": {"failed": {"filter": 8, "request": 2}}, "filters": {"leak": 7, "duplicate": 1}}
    (run_dir / "run.json").write_text(json.dumps(meta))
    s = json.loads(run_datagen("stats", run_dir, "--json").stdout)
    assert s["filter_drops"] == {"leak": 2, "short_turn": 1}  # failures.jsonl: the current state
    (run_dir / "failures.jsonl").unlink()
    s = json.loads(run_datagen("stats", run_dir, "--json").stdout)
    assert s["filter_drops"] == {"leak": 7, "duplicate": 1}
    assert s["failures_by_stage"] == {"filter": 8, "request": 2}


def test_stats_table_and_llava_json_input(run_dir, tmp_path):
    out = tmp_path / "llava.json"
    assert run_datagen("export", "llava", run_dir, "--out", out).returncode == 0
    proc = run_datagen("stats", run_dir)
    assert proc.returncode == 0, proc.stderr
    for text in ("4 samples", "conversation", "58K", "36.7%", "48.7%", "filter: leak", "stage: parse"):
        assert text in proc.stdout
    s = json.loads(run_datagen("stats", out, "--json").stdout)
    assert s["samples"] == 4 and list(s["tasks"]) == ["untagged"]  # exported JSON carries no task
    assert s["filter_drops"] == {}
    assert sum(LLAVA_158K_MIX.values()) == 158_000


def test_stats_bad_input(tmp_path):
    proc = run_datagen("stats", tmp_path / "nope")
    assert proc.returncode == 2 and proc.stderr.startswith("Error: ") and "no such file" in proc.stderr


def test_stats_bad_lines_are_named(run_dir):
    with open(run_dir / "failures.jsonl", "a") as f:
        f.write("{not json\n")
        f.write('{"stage": "parse"}\n')
    proc = run_datagen("stats", run_dir)
    assert proc.returncode == 2
    assert (
        proc.stderr.startswith("Error: ")
        and f"{run_dir / 'failures.jsonl'}:5: not a valid JSON line" in proc.stderr
    )
    bad = run_dir / "results.jsonl"
    bad.write_text('{"id": "1", "image": "1.jpg", "conversations": []}\n')
    proc = run_datagen("stats", run_dir)
    assert proc.returncode == 2 and f"{bad}:1: not a valid LLaVA record" in proc.stderr


def test_stats_reports_duplicates_across_inputs(run_dir, tmp_path):
    """docs/llava.md: concatenate sharded runs, then check duplicates with `datagen stats`."""
    s = json.loads(run_datagen("stats", run_dir, "--json").stdout)
    assert s["duplicates"] == {"same_sample_id": 0, "same_text": 0}
    s = json.loads(run_datagen("stats", run_dir, run_dir, "--json").stdout)
    assert s["duplicates"] == {"same_sample_id": 4, "same_text": 4}
    out = tmp_path / "llava.json"  # no sample_id once exported: only the text can tell
    assert run_datagen("export", "llava", run_dir, "--out", out).returncode == 0
    s = json.loads(run_datagen("stats", run_dir, out, "--json").stdout)
    assert s["duplicates"] == {"same_sample_id": 0, "same_text": 0}  # run's tasks vs "untagged"
    s = json.loads(run_datagen("stats", out, out, "--json").stdout)
    assert s["duplicates"] == {"same_sample_id": 0, "same_text": 4}
    proc = run_datagen("stats", run_dir, run_dir)
    assert "Duplicates: 4 samples repeat an earlier sample_id" in " ".join(proc.stdout.split())
