"""The reward for the RL export's questions: how a model's reply is checked against the ground truth.

`datagen export rlvr` writes a `reward.py` beside its parquet file that imports this module, so veRL
(`custom_reward_function.path=OUT/reward.py`, name `compute_score`) and EasyR1
(`worker.reward.reward_function=OUT/reward.py:compute_score_easyr1`) score replies the same way:

- the answer is the text inside the last `<answer>...</answer>` (or `\\boxed{...}`) of the reply, else
  its last non-empty line;
- a box ground truth (`[x1, y1, x2, y2]`, fractions of the image size) scores 1 when the first box in
  the answer overlaps it with IoU >= 0.5, else 0;
- with the VQA annotators' answers (veRL's `extra_info["answers"]`) a reply earns the standard VQA
  accuracy, min(#annotators who gave it / 3, 1) averaged leave-one-out;
- otherwise the normalised answer (VQA normalisation: case, punctuation, articles, number words)
  must equal the ground truth or one of `extra_info["accept"]`.
"""

from __future__ import annotations

import re
from typing import Any

from datagen.tasks.vqa.accuracy import question_accuracy
from datagen.tasks.vqa.normalize import normalize_answer

IOU_THRESHOLD = 0.5
_NUM = r"\s*(-?\d+(?:\.\d+)?)\s*"
_BOX = re.compile(r"\[" + ",".join([_NUM] * 4) + r"\]")
_TAGGED = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")


def final_answer(reply: str) -> str:
    """The part of a reply that is its answer (see the module docstring)."""
    for pattern in (_TAGGED, _BOXED):
        found = pattern.findall(reply)
        if found:
            return str(found[-1]).strip()
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def parse_box(text: str) -> list[float] | None:
    m = _BOX.search(text)
    return [float(v) for v in m.groups()] if m else None


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def score(reply: str, ground_truth: str, extra_info: dict[str, Any] | None = None) -> float:
    """The reward of one reply, 0..1."""
    extra = extra_info or {}
    answer = final_answer(reply)
    truth_box = parse_box(ground_truth)
    if truth_box is not None:
        given = parse_box(answer)
        return 1.0 if given is not None and iou(given, truth_box) >= IOU_THRESHOLD else 0.0
    answers = extra.get("answers")
    if answers is not None and len(answers) > 0:
        return question_accuracy(answer, [str(a) for a in answers])
    accepted = {normalize_answer(ground_truth)}
    accepted.update(normalize_answer(str(a)) for a in extra.get("accept") or [])
    return 1.0 if normalize_answer(answer) in accepted else 0.0


def compute_score(
    data_source: str, solution_str: str, ground_truth: str, extra_info: dict[str, Any] | None = None
) -> float:
    """veRL's custom reward function signature."""
    return score(solution_str, ground_truth, extra_info)


def compute_score_easyr1(reward_input: dict[str, Any]) -> dict[str, float]:
    """EasyR1's sequential reward function signature (it passes only the `answer` column)."""
    accuracy = score(str(reward_input["response"]), str(reward_input["ground_truth"]))
    return {"overall": accuracy, "accuracy": accuracy}
