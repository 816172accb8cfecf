"""`hallucination` and `near_duplicate` at generation time: live runs against the loopback server,
counted in run.json and logged in failures.jsonl like every filter; their defaults per task."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import assert_one_line_error, run_cli, run_datagen
from support.jsonl import read_jsonl, read_jsonl_if_exists

from datagen.tasks.objects.hallucination import hallucination
from datagen.tasks.registry import get_task


def _context(body: dict) -> str:
    return str(body["messages"][-1]["content"]).lower()


def _by_image(body: dict) -> str:
    ctx = _context(body)
    if "motorcycle" in ctx:  # 165518: a person on a motorcycle, no dog
        return "Question:\nWhat runs beside the motorcycle?\n===\nAnswer:\nA dog runs beside the motorcycle."
    if "mirror" in ctx:  # 229358: a man, a sink, a toothbrush; the dog is negated
        return "Question:\nWhat is by the sink?\n===\nAnswer:\nThere is no dog; the man holds a toothbrush by the sink."
    return "Question:\nWhat flies?\n===\nAnswer:\nA seagull flies over the beach."


def _generate(out: Path, url: str, *extra: str) -> Path:
    done = run_datagen("generate", "conversation", "--coco", "data/coco", "--split", "val2017",
                       "--out", out, "--base-url", url, "--quiet", *extra)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def test_hallucination_filter_is_opt_in_for_llava_tasks(fake_llm, tmp_path: Path) -> None:
    fake_llm.handler = _by_image
    plain = _generate(tmp_path / "plain", fake_llm.url)
    assert len(read_jsonl(plain / "results.jsonl")) == 3

    run = _generate(tmp_path / "checked", fake_llm.url, "--filter", "hallucination")
    assert len(read_jsonl(run / "results.jsonl")) == 2
    (failure,) = read_jsonl(run / "failures.jsonl")
    assert failure["id"] == "000000165518" and failure["filter"] == "hallucination"
    assert failure["reason"] == "turn 1 answer names dog ('dog'), which the image's annotations do not have"
    meta = json.loads((run / "run.json").read_text())
    assert meta["filters"] == {"hallucination": 1}
    assert meta["config"]["enabled_filters"] == ["hallucination"]


def test_near_duplicate_filter_rejects_near_identical_answers(fake_llm, tmp_path: Path) -> None:
    words = {"motorcycle": "grey", "mirror": "white", "bird": "pale"}

    def reply(body: dict) -> str:
        colour = next(c for k, c in words.items() if k in _context(body))
        return (
            "Question:\nWhat is the weather like in this scene?\n===\nAnswer:\nThe sky is overcast and "
            f"{colour}, the light is soft and even, and the whole scene looks calm, quiet and a little cold. "
            "Nobody seems to be in a hurry, and the air probably smells of rain that has just stopped falling."
        )

    fake_llm.handler = reply
    plain = _generate(tmp_path / "plain", fake_llm.url)
    assert len(read_jsonl(plain / "results.jsonl")) == 3  # not exact duplicates: `duplicate` keeps all
    run = _generate(tmp_path / "nd", fake_llm.url, "--filter", "near_duplicate")
    assert len(read_jsonl(run / "results.jsonl")) == 1
    failures = read_jsonl(run / "failures.jsonl")
    assert [f["filter"] for f in failures] == ["near_duplicate", "near_duplicate"]
    assert all("near duplicate of sample conversation:" in f["reason"] for f in failures)
    # a resumed run remembers what it kept: the two stay rejected, nothing new is written
    again = _generate(run, fake_llm.url, "--filter", "near_duplicate")
    assert len(read_jsonl(again / "results.jsonl")) == 1


def test_filter_names_are_checked(capsys) -> None:
    base = [
        "generate",
        "conversation",
        "--coco",
        "data/coco",
        "--split",
        "val2017",
        "--out",
        "x",
        "--dry-run",
    ]
    code, _, err = run_cli([*base, "--filter", "bogus"], capsys)
    assert_one_line_error(code, err, "--filter: unknown filter 'bogus'")
    code, _, err = run_cli([*base, "--filter", "leak", "--no-filter", "leak"], capsys)
    assert_one_line_error(code, err, "contradict")


def test_grounded_answers_never_hallucinate_on_real_coco(coco_mini: Path, tmp_path: Path) -> None:
    """grounded_qa runs the filter by default; its "No, there are no X" answers must pass it."""
    assert "hallucination" not in get_task("grounded_qa").optional_filters
    out = tmp_path / "g"
    done = run_datagen("generate", "grounded_qa", "--coco", coco_mini, "--split", "train2017",
                       "--max-questions", "30", "--out", out)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(read_jsonl(out / "results.jsonl")) == 80 and read_jsonl_if_exists(out / "failures.jsonl") == []


def test_hallucination_needs_annotated_boxes() -> None:
    """A record whose boxes came from a detector (or has none) cannot be judged: accepted."""
    from datagen.tasks.base import Job

    pairs = [("What is there?", "A dog.")]
    det = {"boxes": [{"category": "cat", "bbox": [0.1, 0.1, 0.5, 0.5], "source": "detr.jsonl"}]}
    coco = {"boxes": [{"category": "cat", "bbox": [0.1, 0.1, 0.5, 0.5], "source": "coco"}]}
    assert hallucination(pairs, Job("s", "conversation", [], det)) is None
    assert hallucination(pairs, Job("s", "conversation", [], {"boxes": []})) is None
    assert "names dog" in (hallucination(pairs, Job("s", "conversation", [], coco)) or "")
