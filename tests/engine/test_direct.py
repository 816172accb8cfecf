"""Tasks that need no model (`uses_llm = False`) go through the same store: results, filters, resume."""

from __future__ import annotations

import json

from support.jsonl import read_jsonl

from datagen.engine.runner import run_direct
from datagen.tasks.base import Task, TaskOptions


class CountBoxes(Task):
    name = "count_boxes"
    uses_llm = False

    def direct_pairs(self, source, opts):
        return [("How many objects are marked?", str(len(source["boxes"])))]

    def filters(self):
        return [("no_boxes", lambda pairs, job: "no boxes" if pairs[0][1] == "0" else None)]


def test_direct_task_writes_results_filters_and_resumes(tmp_path):
    sources = [
        {"id": "000000000001", "image": "1.jpg", "boxes": [{"category": "cat", "bbox": [0, 0, 1, 1]}]},
        {"id": "000000000002", "image": "2.jpg", "boxes": []},
    ]
    st = run_direct(CountBoxes(), sources, TaskOptions(image_token="first"), tmp_path)
    assert st.ok == 1 and st.filtered == {"no_boxes": 1}
    (rec,) = read_jsonl(tmp_path / "results.jsonl")
    assert rec["sample_id"] == "count_boxes:000000000001" and rec["conversations"][1]["value"] == "1"
    assert rec["conversations"][0]["value"].startswith("<image>\n")
    (fail,) = read_jsonl(tmp_path / "failures.jsonl")
    assert fail["stage"] == "filter" and fail["filter"] == "no_boxes"
    st2 = run_direct(CountBoxes(), sources, TaskOptions(image_token="first"), tmp_path)
    assert st2.skipped == 1 and st2.ok == 0
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 1
    assert len((tmp_path / "failures.jsonl").read_text().splitlines()) == 1  # replaced, not duplicated
    assert json.loads((tmp_path / "run.json").read_text())["mode"] == "direct"


def test_changed_task_options_redo_direct_samples(tmp_path):
    sources = [{"id": "000000000001", "image": "1.jpg", "boxes": [{"category": "cat", "bbox": [0, 0, 1, 1]}]}]
    run_direct(CountBoxes(), sources, TaskOptions(seed=1), tmp_path)
    again = run_direct(CountBoxes(), sources, TaskOptions(seed=1), tmp_path)
    assert again.skipped == 1
    other = run_direct(CountBoxes(), sources, TaskOptions(seed=2), tmp_path)  # a new seed: redone
    assert other.skipped == 0 and other.ok == 1


def test_parse_error_in_direct_pairs_is_a_recorded_failure(tmp_path):
    from datagen.errors import ParseError

    class Picky(CountBoxes):
        def direct_pairs(self, source, opts):
            raise ParseError("no usable boxes")

    st = run_direct(Picky(), [{"id": "000000000009", "image": "9.jpg", "boxes": []}], TaskOptions(), tmp_path)
    (f,) = read_jsonl(tmp_path / "failures.jsonl")
    assert st.failed == {"parse": 1} and f["stage"] == "parse" and f["image"] == "9.jpg"
