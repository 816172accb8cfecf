"""The JSON replies of the VQA tasks under `--structured` (see `tasks/structured.py`).

- vqa_answer: `{"answer"}`, a single word or short phrase, cleaned by the same `short_answer` as a
  text reply;
- img2llm_qa: `{"questions": [{"answer", "question"}, ...]}`, each answer copied from the numbered
  candidates; questions are paired with their candidates by the same rules as numbered text lines.
"""

from __future__ import annotations

import re
from typing import Any

from datagen.errors import ParseError
from datagen.tasks.base import Job, QAPairs
from datagen.tasks.structured import ReplyFormat, array, obj, string
from datagen.tasks.vqa.candidates import pair_questions

_PREFIX = re.compile(r"^\s*(?:the\s+)?(?:short\s+)?answer\s*(?:is)?\s*[:\-]\s*", re.IGNORECASE)


def short_answer(reply: str) -> str:
    """The answer from a reply: first non-empty line, without an "Answer:" label, quotes or final stop."""
    for line in reply.strip().splitlines():
        # Chat models often bold the label ("**Answer:** dog"); asterisks are never part of an answer.
        line = _PREFIX.sub("", line.replace("*", "").strip()).strip().strip("\"'`").strip()
        line = line.rstrip(".!").strip()
        if line:
            return line
    raise ParseError("empty reply: no answer")


VQA_FORMAT = ReplyFormat(
    name="vqa_answer",
    schema=obj({"answer": string("a single word or a short phrase")}),
    to_json=lambda pairs: {"answer": pairs[0][1]},
    to_pairs=lambda data, job: [(str(job.source["question"]), short_answer(data["answer"]))],
)


def _img2llm_pairs(data: dict[str, Any], job: Job) -> QAPairs:
    candidates: list[str] = job.source["answer_candidates"]
    number = {c.strip().lower(): i for i, c in enumerate(candidates, start=1)}
    numbered = [
        (number.get(str(q["answer"]).strip().lower(), 0), str(q["question"]).strip())
        for q in data["questions"]
    ]
    return pair_questions(numbered, candidates)


IMG2LLM_FORMAT = ReplyFormat(
    name="img2llm_qa",
    schema=obj(
        {
            "questions": array(
                obj(
                    {
                        "answer": string("one of the numbered answers, copied exactly"),
                        "question": string("a question about the image whose answer is that answer"),
                    }
                ),
                "one question per numbered answer",
            )
        }
    ),
    to_json=lambda pairs: {"questions": [{"answer": a, "question": q} for q, a in pairs]},
    to_pairs=_img2llm_pairs,
)
