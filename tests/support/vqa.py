"""The bundled VQA demo files (`data/vqa/`) read independently of datagen, for the VQA and demo tests."""

from __future__ import annotations

import json
from typing import Any

from support.paths import REPO

VQA_DATA = REPO / "data" / "vqa"


def majority_answers() -> dict[str, str]:
    """question text -> the answer most annotators gave (from the bundled demo files)."""
    qs = json.loads((VQA_DATA / "questions_val2017.json").read_text())["questions"]
    anns = {
        a["question_id"]: a
        for a in json.loads((VQA_DATA / "annotations_val2017.json").read_text())["annotations"]
    }
    return {q["question"]: anns[q["question_id"]]["multiple_choice_answer"] for q in qs}


def last_user(body: dict[str, Any]) -> str:
    """The content of the last user message of a chat-completions request body."""
    return [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
