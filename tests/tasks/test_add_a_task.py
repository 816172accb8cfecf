"""docs/architecture.md's "add a task" recipe, done for real: a task module, a registry entry and a
template folder are all it takes; generate, the engine and the run directory need no change.

The task refuses some inputs before any call, reads typed options from an existing flag, and writes
a side file after the run, so every hook of the life cycle is exercised end to end."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from support.cli import run_cli
from support.jsonl import read_jsonl, write_jsonl

from datagen.cli import command
from datagen.prompts.templates import load_template
from datagen.rundir.store import RunStore
from datagen.tasks import registry
from datagen.tasks.base import Job, JobSet, Rejected, Task


@dataclass
class ShoutOptions:
    META_KEY = "shout"
    max_questions: int | None = None  # fills from the existing --max-questions flag


class ShoutTask(Task):
    """Asks the model to repeat a caption in capitals."""

    name = "shout"
    options_type = ShoutOptions
    precall_filters = ("one_word",)

    def build_jobs(self, sources, opts):  # type: ignore[override]
        tpl = load_template(self.name, opts.templates_dir)
        out = JobSet(notes=[f"shout: up to {opts.of(ShoutOptions).max_questions} per image"])
        for rec in sources:
            sid = f"{self.name}:{rec['id']}"
            if len(rec["captions"][0].split()) < 2:
                out.rejected.append(Rejected(sid, self.name, rec, "one_word", "one word is not worth a call"))
                continue
            out.jobs.append(Job(sid, self.name, tpl.messages(rec["captions"][0]), rec, tpl.hash))
        return out

    def parse(self, reply, job):  # type: ignore[override]
        return [("Shout the caption.", reply.strip())]

    def filters(self):  # type: ignore[override]
        return [("not_upper", lambda pairs, job: None if pairs[0][1].isupper() else "not in capitals")]

    def after_run(self, run: RunStore):  # type: ignore[override]
        rows = run.results_by_task().get(self.name, [])
        return [run.write_side_json("shouts.json", [r["conversations"][1]["value"] for r in rows])]


@pytest.fixture
def shout_registered(monkeypatch):
    """ShoutTask in the registry for one test. The CLI app is built once per process (its help lists
    the tasks), so it is rebuilt with the task and again without it afterwards."""
    monkeypatch.setitem(registry.TASKS, "shout", ShoutTask)
    command.cache_clear()
    yield
    command.cache_clear()


def test_a_new_task_runs_through_generate(tmp_path, fake_llm, capsys, shout_registered):
    templates = tmp_path / "templates" / "shout"
    templates.mkdir(parents=True)
    (templates / "system_message.txt").write_text("Repeat the caption in capital letters.")
    (templates / "000_caps.txt").write_text("a dog")
    (templates / "000_conv.txt").write_text("A DOG")
    rows = [
        {
            "id": "1",
            "image": "1.jpg",
            "width": 640,
            "height": 480,
            "captions": ["a cat on a mat"],
            "boxes": [],
        },
        {"id": "2", "image": "2.jpg", "width": 640, "height": 480, "captions": ["cat"], "boxes": []},
        {"id": "3", "image": "3.jpg", "width": 640, "height": 480, "captions": ["two birds"], "boxes": []},
    ]
    src = write_jsonl(tmp_path / "ctx.jsonl", rows)
    fake_llm.handler = lambda body: body["messages"][-1]["content"].upper() if "cat" in str(body) else "quiet"
    run = tmp_path / "run"
    args = ["generate", "shout", "--input", str(src), "--out", str(run), "--base-url", fake_llm.url,
            "--templates-dir", str(tmp_path / "templates"), "--max-questions", "2", "--quiet"]  # fmt: skip
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert "note: shout: up to 2 per image" in err
    assert "1 shout input(s) flagged one_word, not sent (2); listed in failures.jsonl" in err
    assert [r["id"] for r in read_jsonl(run / "results.jsonl")] == ["1"]
    failures = {f["id"]: f for f in read_jsonl(run / "failures.jsonl")}
    assert (failures["2"]["stage"], failures["2"]["filter"], failures["2"]["attempts"]) == (
        "filter",
        "one_word",
        0,
    )
    assert (failures["3"]["stage"], failures["3"]["filter"]) == ("filter", "not_upper")
    meta = json.loads((run / "run.json").read_text())
    assert meta["counts"]["flagged_before_call"] == 1 and meta["filters"] == {
        "one_word": 1,
        "not_upper": 1,
    }
    assert meta["config"]["shout"] == {"max_questions": 2}
    assert json.loads((run / "shouts.json").read_text()) == ["A CAT ON A MAT"]
    assert f"wrote {run / 'shouts.json'}" in out
    assert len(fake_llm.log) == 2  # the refused input was never sent

    # A re-run replaces the refusal line instead of adding a second one, and sends nothing new.
    assert run_cli(args, capsys)[0] == 0
    assert [f["id"] for f in read_jsonl(run / "failures.jsonl")].count("2") == 1
    assert len(fake_llm.log) == 2


def test_a_flag_no_chosen_task_reads_is_an_error(tmp_path, capsys):
    src = write_jsonl(
        tmp_path / "ctx.jsonl",
        [{"id": "1", "image": "1.jpg", "width": 64, "height": 48, "captions": ["x"], "boxes": []}],
    )
    code, _, err = run_cli(
        [
            "generate",
            "conversation",
            "--input",
            str(src),
            "--out",
            str(tmp_path / "r"),
            "--dry-run",
            "--margin",
            "0.2",
        ],
        capsys,
    )
    assert code == 2 and err.startswith("Error: --margin applies only to grounded_qa")
    assert not (tmp_path / "r").exists()
