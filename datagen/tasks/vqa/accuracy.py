"""Standard VQA accuracy for a results file (`[{"question_id", "answer"}]`) against VQA v2 / OK-VQA
annotations (`{"annotations": [{"question_id", "answer_type", "question_type", "answers": [...]}]}`).

A predicted answer is worth min(#annotators who gave it / 3, 1). As in the official evaluation, this
is averaged over every subset of the annotators that leaves one out (10 choose 9 for VQA v2's 10
answers): for each annotator, count matches among the other nine, score min(matches / 3, 1), and take
the mean. So an answer given by 1, 2 or 3 of 10 annotators scores 0.3, 0.6 or 0.9, and by 4 or more
scores 1.0. Answers are compared after `normalize_answer` (see `datagen/tasks/vqa/normalize.py`).

Difference from the official script: it normalises answers only for questions whose annotators
disagree; we always normalise, so "Yes." matches a unanimous "yes". The official script also requires
a result for every annotated question; we score the questions in `--questions` (or, without it, the
ones in the results file) and count a question with no result as 0, reporting how many were missing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datagen.common.jsonio import read_json
from datagen.errors import InputError
from datagen.tasks.vqa.files import as_int, load_questions
from datagen.tasks.vqa.normalize import normalize_answer


def question_accuracy(prediction: str, answers: list[str]) -> float:
    """Accuracy of one prediction against the annotators' answers (leave-one-out average)."""
    pred = normalize_answer(prediction)
    gts = [normalize_answer(a) for a in answers]
    if len(gts) < 2:  # no subsets to average over: score against all answers
        return min(sum(g == pred for g in gts) / 3, 1.0)
    matches = sum(g == pred for g in gts)
    total = 0.0
    for g in gts:
        others = matches - (g == pred)
        total += min(others / 3, 1.0)
    return total / len(gts)


@dataclass
class VQAScore:
    overall: float  # percent, 0..100
    per_answer_type: dict[str, float]
    per_question_type: dict[str, float]
    per_question: dict[int, float] = field(repr=False)  # 0..1
    answered: int = 0
    missing: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "perAnswerType": self.per_answer_type,
            "perQuestionType": self.per_question_type,
            "answered": self.answered,
            "missing": self.missing,
            "perQuestion": {str(k): round(v, 4) for k, v in self.per_question.items()},
        }


def _as_qid(value: Any, where: str) -> int:
    return as_int(value, "question_id", where)


def load_annotations(path: str | Path) -> dict[int, dict[str, Any]]:
    data = read_json(path)
    anns = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(anns, list):
        raise InputError(f'{path}: expected {{"annotations": [...]}} (VQA v2 / OK-VQA annotations file)')
    out: dict[int, dict[str, Any]] = {}
    for i, ann in enumerate(anns):
        where = f"{path}: annotations[{i}]"
        if not isinstance(ann, dict):
            raise InputError(f"{where}: not an object")
        qid = _as_qid(ann.get("question_id"), where)
        if qid in out:
            raise InputError(f"{where}: question {qid} is annotated twice")
        answers = ann.get("answers")
        if not isinstance(answers, list) or not answers:
            raise InputError(f"{where} (question {qid}): 'answers' must be a non-empty list")
        texts = []
        for a in answers:
            text = a.get("answer") if isinstance(a, dict) else a
            if not isinstance(text, str):
                raise InputError(f"{where} (question {qid}): every answer needs a string 'answer'")
            texts.append(text)
        out[qid] = {
            "answers": texts,
            "answer_type": str(ann.get("answer_type", "unknown")),
            "question_type": str(ann.get("question_type", "unknown")),
        }
    return out


def load_results(path: str | Path) -> dict[int, str]:
    data = read_json(path)
    if not isinstance(data, list):
        raise InputError(f'{path}: expected a JSON array of {{"question_id", "answer"}}')
    out: dict[int, str] = {}
    for i, row in enumerate(data):
        where = f"{path}[{i}]"
        if not isinstance(row, dict):
            raise InputError(f"{where}: not an object")
        qid = _as_qid(row.get("question_id"), where)
        if not isinstance(row.get("answer"), str):
            raise InputError(f"{where} (question {qid}): 'answer' must be a string")
        if qid in out:
            raise InputError(
                f"{where}: question {qid} is answered twice", hint="keep one answer per question"
            )
        out[qid] = row["answer"]
    return out


def load_question_ids(path: str | Path) -> list[int]:
    return [q["question_id"] for q in load_questions(path)]


def _pct(values: list[float]) -> float:
    return round(100 * sum(values) / len(values), 2) if values else 0.0


def score(
    results: dict[int, str],
    annotations: dict[int, dict[str, Any]],
    question_ids: list[int] | None = None,
    *,
    files: tuple[str | Path, str | Path, str | Path | None] = ("results", "annotations", None),
) -> VQAScore:
    """Score `results` on `question_ids` (default: the answered ones); unanswered ones count as 0.

    `files` (results, annotations, questions paths) only serve to name the files in errors."""
    res_name, ann_name, q_name = files
    for i, qid in enumerate(results):  # dict order is the results file's order (no duplicates)
        if qid not in annotations:
            raise InputError(
                f"{res_name}[{i}]: question {qid} is not in {ann_name}",
                hint="are the results and annotations from the same split?",
            )
    ids = list(results) if question_ids is None else question_ids
    if not ids:
        raise InputError("nothing to score: the results (or --questions) file has no questions")
    missing_ann = [q for q in ids if q not in annotations]
    if missing_ann:
        raise InputError(
            f"{q_name or res_name}: question {missing_ann[0]} (and {len(missing_ann) - 1} more) "
            f"is not in {ann_name}",
            hint="are the questions and annotations from the same split?",
        )
    per_q: dict[int, float] = {}
    by_atype: dict[str, list[float]] = defaultdict(list)
    by_qtype: dict[str, list[float]] = defaultdict(list)
    for qid in ids:
        ann = annotations[qid]
        acc = question_accuracy(results[qid], ann["answers"]) if qid in results else 0.0
        per_q[qid] = acc
        by_atype[ann["answer_type"]].append(acc)
        by_qtype[ann["question_type"]].append(acc)
    answered = sum(q in results for q in ids)
    return VQAScore(
        overall=_pct(list(per_q.values())),
        per_answer_type={k: _pct(v) for k, v in sorted(by_atype.items())},
        per_question_type={k: _pct(v) for k, v in sorted(by_qtype.items())},
        per_question=per_q,
        answered=answered,
        missing=len(ids) - answered,
    )
