"""`vqa_answer` (PICa-style): prompts built from real COCO-mini contexts, shots, reply parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.coco_contexts import contexts
from support.jsonl import read_jsonl, write_jsonl

from datagen.errors import InputError, ParseError, UsageError
from datagen.prompts.context import render_context
from datagen.prompts.templates import load_template
from datagen.records import llava_record_problems
from datagen.tasks.base import TaskOptions
from datagen.tasks.registry import get_task
from datagen.tasks.vqa.answer import SHORT_ANSWER_HINT, VQAOptions, short_answer

QUESTIONS = {
    "questions": [
        {"image_id": 229358, "question": "What is the man looking at?", "question_id": 2293580},
        {"image_id": 165518, "question": "What color is the umbrella?", "question_id": 1655180},
        {"image_id": 999999, "question": "Not in the split?", "question_id": 9999990},
    ]
}
EXAMPLES = [
    {"context": "A red bus.", "question": "What color is the bus?", "answer": "red", "image_id": 1},
    {"context": "A man shaving.", "question": "What is the man holding?", "answer": "razor", "image_id": 2},
    {"context": "Two dogs.", "question": "How many dogs are there?", "answer": "2", "image_id": 3},
    {
        "context": "Umbrellas.",
        "question": "What color is the umbrella?",
        "answer": "blue",
        "image_id": 165518,
    },
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    q, ex = tmp_path / "questions.json", tmp_path / "examples.jsonl"
    q.write_text(json.dumps(QUESTIONS))
    write_jsonl(ex, EXAMPLES)
    return q, ex


def test_jobs_with_picked_shots(coco_mini: Path, files: tuple[Path, Path]) -> None:
    q, ex = files
    task = get_task("vqa_answer")
    recs = contexts(coco_mini, "val")
    opts = TaskOptions(task_options=[VQAOptions(questions=str(q), examples=str(ex), shots=2)])
    planned = task.build_jobs(recs, opts)
    jobs = planned.jobs
    assert [j.sample_id for j in jobs] == [
        "vqa_answer:000000229358:2293580",
        "vqa_answer:000000165518:1655180",
    ]  # the unknown image is left out...
    assert planned.notes == [  # ...and reported
        "vqa_answer: 1 of 3 questions are about images not in the source (or beyond --limit) and were left out"
    ]
    man, umbrella = jobs
    template = load_template("vqa_answer")
    assert man.messages[0] == {"role": "system", "content": template.system}
    roles = [m["role"] for m in man.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    # most similar example first: "What is the man holding?" shares "what is the man"
    assert man.messages[1]["content"] == "A man shaving.\n\nQuestion: What is the man holding?"
    assert man.messages[2]["content"] == "razor"
    ctx = next(r for r in recs if r["image_id"] == 229358)
    assert man.messages[-1]["content"] == render_context(ctx, ["captions", "boxes"]) + (
        "\n\nQuestion: What is the man looking at?"
    )
    assert ctx["captions"][0] in man.messages[-1]["content"]
    # the pool's example about image 165518 itself is never shown for a question on that image
    shown = [m["content"] for m in umbrella.messages if m["role"] == "user"][:-1]
    assert all("Umbrellas." not in s for s in shown)
    assert man.template_hash == template.hash and man.max_tokens == template.max_tokens


def test_jobs_without_examples_use_the_template_pairs(coco_mini: Path, files: tuple[Path, Path]) -> None:
    q, _ = files
    task = get_task("vqa_answer")
    jobs = list(
        task.build_jobs(contexts(coco_mini, "val"), TaskOptions(task_options=[VQAOptions(questions=str(q))]))
    )
    template = load_template("vqa_answer")
    assert len(template.examples) >= 2
    assert jobs[0].messages[1:-1] == [
        m
        for caps, conv in template.examples
        for m in ({"role": "user", "content": caps}, {"role": "assistant", "content": conv})
    ]
    zero = list(
        task.build_jobs(
            contexts(coco_mini, "val"), TaskOptions(task_options=[VQAOptions(questions=str(q), shots=0)])
        )
    )
    assert [m["role"] for m in zero[0].messages] == ["system", "user"]


def test_shot_choice_is_seeded(coco_mini: Path, files: tuple[Path, Path], tmp_path: Path) -> None:
    q, _ = files
    pool = tmp_path / "tied.jsonl"
    # all four tie on "what color is the": only the seed orders them
    pool.write_text(
        "".join(
            json.dumps(
                {"context": f"c{i}", "question": f"What color is the {w}?", "answer": w, "image_id": i}
            )
            + "\n"
            for i, w in enumerate(["kite", "boat", "sofa", "vase"])
        )
    )
    task = get_task("vqa_answer")
    recs = contexts(coco_mini, "val")

    def shots(seed: int) -> list[str]:
        opts = TaskOptions(
            seed=seed, task_options=[VQAOptions(questions=str(q), examples=str(pool), shots=4)]
        )
        job = list(task.build_jobs(recs, opts))[1]
        return [m["content"] for m in job.messages if m["role"] == "assistant"]

    assert shots(1) == shots(1)
    assert len({tuple(shots(s)) for s in range(8)}) > 1
    assert sorted(shots(0)) == ["boat", "kite", "sofa", "vase"]


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("red", "red"),
        ("Answer: two.", "two"),
        ('  \n"yes"\nBecause the sky...', "yes"),
        ("The answer is: a kite", "a kite"),
        ("**Tennis**", "Tennis"),
        ("**Answer:** dog", "dog"),  # a bolded label used to leave "Answer:** dog"
        ("*Answer*: **two**.", "two"),
    ],
)
def test_short_answer(reply: str, answer: str) -> None:
    assert short_answer(reply) == answer


def test_empty_reply_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        short_answer(" \n ")


def test_record_and_filter(coco_mini: Path, files: tuple[Path, Path]) -> None:
    q, _ = files
    task = get_task("vqa_answer")
    opts = TaskOptions(task_options=[VQAOptions(questions=str(q))])
    job = list(task.build_jobs(contexts(coco_mini, "val"), opts))[0]
    pairs = task.parse("mirror", job)
    (name, check), *_ = task.filters()
    assert name == "short_answer" and check(pairs, job) is None
    assert check([("q", "this answer is far too long to be a short vqa answer")], job)
    rec = task.to_record(pairs, job, opts)
    assert llava_record_problems(rec) == []
    assert rec["question_id"] == 2293580 and rec["answer"] == "mirror" and rec["id"] == "000000229358"
    assert SHORT_ANSWER_HINT in rec["conversations"][0]["value"]


def test_bad_inputs(coco_mini: Path, files: tuple[Path, Path], tmp_path: Path) -> None:
    q, _ = files
    task = get_task("vqa_answer")
    recs = contexts(coco_mini, "val")
    with pytest.raises(UsageError, match="--questions"):
        list(task.build_jobs(recs, TaskOptions()))
    with pytest.raises(UsageError, match="--shots"):
        list(task.build_jobs(recs, TaskOptions(task_options=[VQAOptions(questions=str(q), shots=-1)])))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"questions": [{"image_id": 5, "question": "Why?", "question_id": 50}]}))
    with pytest.raises(InputError, match="none of its 1 questions"):
        list(task.build_jobs(recs, TaskOptions(task_options=[VQAOptions(questions=str(other))])))
    other.write_text(json.dumps({"questions": [{"image_id": 5, "question": "", "question_id": 50}]}))
    with pytest.raises(InputError, match=r"questions\[0\].*non-empty string"):
        list(task.build_jobs(recs, TaskOptions(task_options=[VQAOptions(questions=str(other))])))
    other.write_text(json.dumps({"questions": []}))  # used to give an empty run with exit 0
    with pytest.raises(InputError, match="other.json: no questions"):
        list(task.build_jobs(recs, TaskOptions(task_options=[VQAOptions(questions=str(other))])))
    other.write_text(json.dumps([1, 2]))
    with pytest.raises(InputError, match="expected"):
        list(task.build_jobs(recs, TaskOptions(task_options=[VQAOptions(questions=str(other))])))


def test_run_outputs_from_results(coco_mini: Path, files: tuple[Path, Path], tmp_path: Path) -> None:
    from datagen.common.jsonio import write_jsonl_atomic
    from datagen.tasks.vqa.files import VQA_RESULTS, write_run_outputs

    q, _ = files
    task = get_task("vqa_answer")
    opts = TaskOptions(task_options=[VQAOptions(questions=str(q))])
    rows = []
    for job, answer in zip(
        task.build_jobs(contexts(coco_mini, "val"), opts), ["mirror", "blue"], strict=True
    ):
        rec = task.to_record(task.parse(answer, job), job, opts)
        rows.append({**rec, "task": "vqa_answer", "sample_id": job.sample_id})
    rows.append({"id": "x", "task": "grounded_qa", "conversations": []})  # other tasks are ignored
    run = tmp_path / "run"
    write_jsonl_atomic(run / "results.jsonl", rows)
    assert write_run_outputs(run) == [run / VQA_RESULTS]
    assert json.loads((run / VQA_RESULTS).read_text()) == [
        {"question_id": 1655180, "answer": "blue"},
        {"question_id": 2293580, "answer": "mirror"},
    ]


def test_cli_dry_run_with_task_options(coco_mini: Path, files: tuple[Path, Path], tmp_path: Path) -> None:
    from support.cli import run_datagen

    q, ex = files
    out = tmp_path / "run"
    args = ["generate", "vqa_answer", "--coco", str(coco_mini), "--split", "val2017", "--out", str(out)]
    done = run_datagen(*args, "--questions", q, "--examples", ex, "--shots", "1", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "note: vqa_answer: 1 of 3 questions are about images not in the source" in done.stderr
    lines = read_jsonl(out / "requests.jsonl")
    assert [r["custom_id"] for r in lines] == [
        "vqa_answer:000000229358:2293580",
        "vqa_answer:000000165518:1655180",
    ]
    assert [m["role"] for m in lines[0]["body"]["messages"]] == ["system", "user", "assistant", "user"]
    done = run_datagen(*args, "--dry-run")
    assert done.returncode == 2 and done.stderr.startswith("Error: vqa_answer needs --questions FILE")
    done = run_datagen("generate", "grounded_qa", *args[2:], "--dry-run")
    assert (
        done.returncode == 2 and "grounded_qa needs no model, so there is nothing to --dry-run" in done.stderr
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--questions", "MISSING"], "no such file"),
        (["--questions", "QFILE", "--examples", "BROKEN"], "examples.jsonl:2: not a valid JSON line"),
        (["--questions", "BADQ"], "questions[0]: question_id must be an integer"),
    ],
)
def test_cli_bad_task_inputs(
    coco_mini: Path, files: tuple[Path, Path], tmp_path: Path, extra: list[str], message: str
) -> None:
    from support.cli import run_datagen

    q, ex = files
    broken = tmp_path / "examples.jsonl"
    broken.write_text(ex.read_text().splitlines()[0] + "\n{not json\n")
    badq = tmp_path / "badq.json"
    badq.write_text(json.dumps({"questions": [{"image_id": 1, "question": "Why?", "question_id": "x1"}]}))
    paths = {"MISSING": tmp_path / "missing.json", "QFILE": q, "BROKEN": broken, "BADQ": badq}
    out = tmp_path / "run"
    done = run_datagen(
        "generate", "vqa_answer", "--coco", coco_mini, "--split", "val2017", "--out", out, "--dry-run",
        *[str(paths.get(a, a)) for a in extra],
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("Error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (out / "requests.jsonl").exists()
