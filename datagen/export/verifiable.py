"""Which generated questions have an answer known exactly, and that answer: the RL export's input.

RL with verifiable rewards needs a ground truth a rule can check, so only these become RL problems:

- grounded_qa, every kind (the facts are read off COCO's human annotations, and each record stores
  them in `facts`): `count` (the exact number of non-crowd instances, 1-10), `exists` ("yes") and
  `absent` ("no"; COCO labels all 80 categories, so a category without a box is absent), `relation`
  (left/right/above/below only when the box centres are clearly apart; the answer to the question
  as asked: the side, yes/no, or the object on the asked side), `region` (the category in the box)
  and `locate` (the box, checked by IoU >= 0.5);
- vqa_answer, only with the VQA annotations file (`--vqa-annotations`): the annotators' answers are
  the ground truth (the model's own answer in the record is not), and only questions on which at
  least 3 of them agree, so that one answer earns full VQA accuracy.

Everything else (LLaVA conversations, descriptions, reasoning, rewrites, VQA without annotations)
has no checkable answer; those samples are counted and left out, never silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from datagen.export.boxes import facts_of
from datagen.export.convert import split_image_token
from datagen.tasks.grounded.phrasing import COORDS_NOTE
from datagen.tasks.vqa.accuracy import load_annotations
from datagen.tasks.vqa.answer import SHORT_ANSWER_HINT
from datagen.tasks.vqa.normalize import normalize_answer

GROUNDED_KINDS = ("count", "exists", "absent", "relation", "region", "locate")
MIN_AGREEING = 3  # VQA annotators who must give the same answer for it to count as the truth
BOX_HINT = "Reply with the box only, as [x1, y1, x2, y2]."


@dataclass
class Problem:
    """One RL prompt: a question about one image with its exact answer."""

    record: int  # index of the record it came from (its image)
    sample_id: str
    kind: str  # a grounded kind, or "vqa"
    question: str  # without `<image>`, with the reply-format hint
    ground_truth: str
    accept: list[str] = field(default_factory=list)  # other answers that are exactly right
    answers: list[str] = field(default_factory=list)  # VQA: every annotator's answer

    @property
    def data_source(self) -> str:
        return "datagen/vqa" if self.kind == "vqa" else f"datagen/grounded_qa/{self.kind}"


@dataclass
class Selection:
    problems: list[Problem] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)  # reason → samples

    def notes(self) -> list[str]:
        return [f"left out {n} sample(s): {why}" for why, n in self.left_out.items()]


def _grounded(i: int, rec: dict[str, Any], out: Selection) -> None:
    facts = facts_of(rec, "rlvr") or []
    conv = rec["conversations"]
    for j, fact in enumerate(facts):
        kind = str(fact.get("kind"))
        expected = str(fact.get("expected") or "")
        if kind not in GROUNDED_KINDS or not expected:
            out.left_out[f"grounded_qa question of kind {kind!r} without an exact answer"] += 1
            continue
        question, _ = split_image_token(conv[2 * j]["value"])
        accept: list[str] = []
        if kind in ("region", "locate"):  # the prompt always says what the numbers of a box mean
            question = question.replace(COORDS_NOTE, "") + COORDS_NOTE
        question += " " + BOX_HINT if kind == "locate" else f"\n{SHORT_ANSWER_HINT}"
        if kind == "region":
            accept = sorted({str(fact["subject"][0])} - {expected})  # COCO's name: "tv" for "TV"
        sid = f"{rec.get('sample_id') or rec['id']}#{j + 1}"
        out.problems.append(Problem(i, sid, kind, question, expected, accept))


def _vqa(i: int, rec: dict[str, Any], annotations: dict[int, dict[str, Any]] | None, out: Selection) -> None:
    if annotations is None:
        out.left_out["vqa_answer without --vqa-annotations (the model's answer is not a ground truth)"] += 1
        return
    ann = annotations.get(int(rec.get("question_id", -1)))
    if ann is None:
        out.left_out["vqa_answer question not in the annotations file"] += 1
        return
    counts = Counter(normalize_answer(a) for a in ann["answers"])
    best, n = counts.most_common(1)[0]
    if n < MIN_AGREEING or not best:
        out.left_out[f"vqa_answer question on which fewer than {MIN_AGREEING} annotators agree"] += 1
        return
    question, _ = split_image_token(rec["conversations"][0]["value"])
    sid = str(rec.get("sample_id") or rec["id"])
    out.problems.append(Problem(i, sid, "vqa", question, best, answers=list(ann["answers"])))


def select(records: list[dict[str, Any]], vqa_annotations: str | None = None) -> Selection:
    """Every verifiable question of `records`, in order, and what was left out and why."""
    annotations = load_annotations(vqa_annotations) if vqa_annotations else None
    out = Selection()
    for i, rec in enumerate(records):
        task = rec.get("task")
        if task == "grounded_qa":
            _grounded(i, rec, out)
        elif task == "vqa_answer":
            _vqa(i, rec, annotations, out)
        else:
            out.left_out[f"{task or 'untagged'} (no checkable answer)"] += 1
    return out
