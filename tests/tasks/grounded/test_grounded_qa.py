"""Grounded QA on real COCO-mini annotations: every answer is re-derived here from the raw JSON."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from support.coco_contexts import contexts, raw_instances

from datagen.errors import UsageError
from datagen.records import llava_record_problems
from datagen.tasks.base import TaskOptions
from datagen.tasks.grounded.nouns import COCO_CATEGORIES, NOUNS, noun
from datagen.tasks.grounded.questions import format_box
from datagen.tasks.grounded.task import GroundedOptions
from datagen.tasks.registry import get_task

TOL = 0.002  # normalised boxes are rounded to 3 decimals; centres may move by up to 0.001


def _raw(coco_mini: Path, split: str) -> dict[str, Any]:
    return raw_instances(coco_mini, split)


def _truth(raw: dict[str, Any]) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """image id -> category name -> raw annotations (pixel boxes), straight from the JSON."""
    cats = {c["id"]: c["name"] for c in raw["categories"]}
    sizes = {i["id"]: (i["width"], i["height"]) for i in raw["images"]}
    truth: dict[int, dict[str, list[dict[str, Any]]]] = {i: defaultdict(list) for i in sizes}
    for ann in raw["annotations"]:
        w, h = sizes[ann["image_id"]]
        x, y, bw, bh = ann["bbox"]
        truth[ann["image_id"]][cats[ann["category_id"]]].append(
            {
                "crowd": bool(ann["iscrowd"]),
                "cx": (x + bw / 2) / w,
                "cy": (y + bh / 2) / h,
                "px": (x, y, bw, bh, w, h),
            }
        )
    return truth


def _norm_box(px: tuple[float, ...]) -> list[float]:
    x, y, bw, bh, w, h = px
    return [round(x / w, 3), round(y / h, 3), round((x + bw) / w, 3), round((y + bh) / h, 3)]


@pytest.mark.parametrize("split", ["train", "val"])
def test_every_answer_matches_the_raw_annotations(coco_mini: Path, split: str) -> None:
    raw = _raw(coco_mini, split)
    truth = _truth(raw)
    task = get_task("grounded_qa")
    opts = TaskOptions(seed=3, task_options=[GroundedOptions(max_questions=12, margin=0.1)])
    kinds_seen: dict[str, int] = defaultdict(int)
    for rec in contexts(coco_mini, split):
        anns = truth[rec["image_id"]]
        qas = task.questions(rec, opts)
        assert qas, rec["id"]
        assert len({qa.question for qa in qas}) == len(qas)
        for qa in qas:
            kinds_seen[qa.kind] += 1
            cat = qa.subject[0]
            plain = [a for a in anns.get(cat, []) if not a["crowd"]]
            if qa.kind == "count":
                assert qa.value == len(plain) and 1 <= qa.value <= 10
                assert not any(a["crowd"] for a in anns[cat])
                assert NOUNS[cat].plural in qa.question
                assert re.search(rf"\b{qa.value}\b", qa.answer)
            elif qa.kind == "exists":
                assert anns.get(cat) and qa.answer.startswith("Yes")
            elif qa.kind == "absent":
                assert cat in COCO_CATEGORIES and not anns.get(cat)
                assert qa.answer.startswith("No")
            elif qa.kind == "relation":
                other = qa.subject[1]
                (a,), (b,) = anns[cat], anns[other]  # both single-instance
                assert not a["crowd"] and not b["crowd"]
                delta = {
                    "left": b["cx"] - a["cx"],
                    "right": a["cx"] - b["cx"],
                    "above": b["cy"] - a["cy"],
                    "below": a["cy"] - b["cy"],
                }[qa.value]
                assert delta > 0.1 - TOL, (rec["id"], qa)
                side = {"left": "to the left of", "right": "to the right of"}.get(qa.value, qa.value)
                fact = f"the {noun(cat).singular} is {side} the {noun(other).singular}."
                assert fact.lower() in qa.answer.lower()
            elif qa.kind == "region":
                assert qa.value == cat
                assert any(format_box(_norm_box(a["px"])) in qa.question for a in plain)
                assert noun(cat).with_article.lower() in qa.answer.lower()
            elif qa.kind == "locate":
                assert len(anns[cat]) == 1 and not anns[cat][0]["crowd"]
                assert qa.value == _norm_box(anns[cat][0]["px"])
                assert format_box(qa.value) in qa.answer
                assert noun(cat).singular in qa.question
    assert set(kinds_seen) == {"count", "exists", "absent", "relation", "region", "locate"}, kinds_seen


def test_crowd_only_category_is_present_but_never_counted(coco_mini: Path) -> None:
    rec = {
        "id": "000000000001",
        "image": "x.jpg",
        "boxes": [
            {"category": "person", "bbox": [0.0, 0.0, 1.0, 1.0], "crowd": True},
            {"category": "person", "bbox": [0.1, 0.1, 0.2, 0.5]},
            {"category": "dog", "bbox": [0.5, 0.5, 0.9, 0.9]},
        ],
    }
    task = get_task("grounded_qa")
    qas = task.questions(rec, TaskOptions(task_options=[GroundedOptions(max_questions=50)]))
    assert not [qa for qa in qas if qa.kind == "count" and qa.subject == ("person",)]
    assert [qa for qa in qas if qa.kind == "count" and qa.subject == ("dog",)][0].value == 1
    assert [qa for qa in qas if qa.kind == "exists" and qa.subject == ("person",)]
    # person is not single-instance (crowd), so never located nor used in a relation
    assert not [qa for qa in qas if qa.kind in ("locate", "relation") and "person" in qa.subject]
    assert not [
        qa
        for qa in qas
        if qa.kind == "region" and qa.subject == ("person",) and "[0.0, 0.0, 1.0, 1.0]" in qa.question
    ]


def test_relations_respect_the_margin() -> None:
    rec = {
        "id": "000000000002",
        "image": "x.jpg",
        "boxes": [
            {"category": "cat", "bbox": [0.1, 0.4, 0.3, 0.6]},  # centre (0.2, 0.5)
            {"category": "dog", "bbox": [0.2, 0.45, 0.4, 0.65]},  # centre (0.3, 0.55)
        ],
    }
    task = get_task("grounded_qa")
    for seed in range(20):
        qas = task.questions(
            rec, TaskOptions(seed=seed, task_options=[GroundedOptions(max_questions=50, margin=0.15)])
        )
        assert not [qa for qa in qas if qa.kind == "relation"]
    qas = task.questions(
        rec, TaskOptions(seed=1, task_options=[GroundedOptions(max_questions=50, margin=0.05)])
    )
    (rel,) = [qa for qa in qas if qa.kind == "relation"]
    expected = {("cat", "dog"): "left", ("dog", "cat"): "right"}[rel.subject]
    assert rel.value == expected


def test_deterministic_by_seed_and_independent_of_order(coco_mini: Path) -> None:
    recs = contexts(coco_mini, "train")[:20]
    task = get_task("grounded_qa")
    opts = TaskOptions(seed=7)
    forward = [task.direct_pairs(r, opts) for r in recs]
    backward = [task.direct_pairs(r, opts) for r in reversed(recs)][::-1]
    assert forward == backward
    other = [task.direct_pairs(r, TaskOptions(seed=8)) for r in recs]
    assert other != forward
    assert all(len(p) <= 6 for p in forward)


def test_records_are_valid_llava(coco_mini: Path) -> None:
    task = get_task("grounded_qa")
    opts = TaskOptions(seed=0)
    recs = contexts(coco_mini, "val")
    jobs = list(task.build_jobs(recs, opts))
    assert [j.sample_id for j in jobs] == [f"grounded_qa:{r['id']}" for r in recs]
    for job in jobs:
        rec = task.to_record(task.direct_pairs(job.source, opts), job, opts)
        assert llava_record_problems(rec) == []
        assert rec["id"] == job.source["id"] and rec["image"] == job.source["image"]


def test_no_boxes_is_rejected_not_an_empty_record() -> None:
    task = get_task("grounded_qa")
    src = {"id": "000000000003", "image": "x.jpg", "boxes": []}
    pairs = task.direct_pairs(src, TaskOptions())
    assert pairs == []
    name, check = task.filters()[0]
    job = task.build_jobs([src], TaskOptions()).jobs[0]
    assert name == "no_questions" and "no annotation-checkable question" in (check(pairs, job) or "")


def test_bad_options_are_usage_errors() -> None:
    task = get_task("grounded_qa")
    with pytest.raises(UsageError, match="--margin"):
        list(task.build_jobs([], TaskOptions(task_options=[GroundedOptions(margin=2)])))
    with pytest.raises(UsageError, match="--max-questions"):
        list(task.build_jobs([], TaskOptions(task_options=[GroundedOptions(max_questions=0)])))


def test_noun_table_covers_all_coco_categories(coco_mini: Path) -> None:
    names = [c["name"] for c in _raw(coco_mini, "val")["categories"]]
    assert list(COCO_CATEGORIES) == names and len(names) == 80
    expect = {
        "person": ("person", "people"),
        "sheep": ("sheep", "sheep"),
        "knife": ("knife", "knives"),
        "bus": ("bus", "buses"),
        "wine glass": ("wine glass", "wine glasses"),
        "mouse": ("computer mouse", "computer mice"),
        "skis": ("pair of skis", "pairs of skis"),
        "scissors": ("pair of scissors", "pairs of scissors"),
    }
    for cat, (one, many) in expect.items():
        assert (NOUNS[cat].singular, NOUNS[cat].plural) == (one, many)
    assert NOUNS["umbrella"].with_article == "an umbrella"
    assert NOUNS["person"].counted(1) == "1 person" and NOUNS["person"].counted(3) == "3 people"
    # a label outside COCO (e.g. from a detector) still gets a sensible plural
    assert noun("glass").plural == "glasses" and noun("puppy").plural == "puppies"


def test_detector_boxes_are_never_used() -> None:
    task = get_task("grounded_qa")
    opts = TaskOptions(task_options=[GroundedOptions(max_questions=50)])
    det = {"category": "dog", "bbox": [0.5, 0.5, 0.9, 0.9], "source": "detr.jsonl", "score": 0.9}
    mixed = {
        "id": "000000000004",
        "image": "x.jpg",
        "boxes": [{"category": "dog", "bbox": [0.1, 0.1, 0.3, 0.3], "source": "coco"}, det],
    }
    qas = task.questions(mixed, opts)
    assert [qa.value for qa in qas if qa.kind == "count"] == [1]  # the detection is not counted
    assert not [qa for qa in qas if "[0.5, 0.5, 0.9, 0.9]" in qa.question + qa.answer]
    only_det = {"id": "000000000005", "image": "x.jpg", "boxes": [det]}
    assert task.direct_pairs(only_det, opts) == []
    _, check = task.filters()[0]
    job = task.build_jobs([only_det], opts).jobs[0]
    assert "boxes from detr.jsonl are not used" in (check([], job) or "")


@pytest.mark.parametrize("category", COCO_CATEGORIES)
def test_every_category_reads_correctly(category: str) -> None:
    """Each of the 80 categories, alone in an image with one instance and with three."""
    n = NOUNS[category]
    one = {
        "id": "000000000009",
        "image": "x.jpg",
        "boxes": [{"category": category, "bbox": [0.1, 0.1, 0.5, 0.5]}],
    }
    three = {**one, "boxes": one["boxes"] * 1 + [{"category": category, "bbox": [0.6, 0.6, 0.9, 0.9]}] * 2}
    task = get_task("grounded_qa")
    for rec, count in ((one, 1), (three, 3)):
        for seed in range(6):
            for qa in task.questions(
                rec, TaskOptions(seed=seed, task_options=[GroundedOptions(max_questions=50)])
            ):
                text = f"{qa.question} {qa.answer}"
                low = text.lower()
                assert "  " not in text and not re.search(r"\ba [aeiou]|\ban [^aeiou]", low), text
                if qa.kind == "count":
                    assert n.plural in qa.question and qa.value == count
                    assert n.counted(count) in qa.answer or qa.answer == f"{count}."
                if qa.kind in ("exists", "region") and qa.subject == (category,):
                    assert n.with_article.lower() in low or n.plural.lower() in low, text
    assert n.with_article.split()[0] == ("an" if n.singular[0] in "aeiou" else "a")
