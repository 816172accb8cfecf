"""The JSON replies of LLaVA's three tasks under `--structured` (see `tasks/structured.py`).

- conversation: `{"turns": [{"question", "answer"}, ...]}`, any number of turns (at least one);
- complex reasoning: `{"question", "answer"}`, exactly one pair by construction;
- detail description: `{"description"}`; the question is drawn from the instruction list as in
  text mode, since the model only writes the description.

Each converts both ways: pairs (from the text parser, for the few-shot answers) to JSON, and a
checked JSON reply to the same pairs the text parser would give.
"""

from __future__ import annotations

from typing import Any

from datagen.errors import ParseError
from datagen.tasks.base import Job, QAPairs
from datagen.tasks.structured import ReplyFormat, array, nonempty, obj, string

# Key under which a detail job's source carries the question drawn for it (set in build_jobs).
INSTRUCTION_KEY = "instruction"

_TURN = obj(
    {
        "question": string("what the person asks about the image"),
        "answer": string("the assistant's answer, as if it were looking at the image"),
    }
)


def _turns(data: dict[str, Any], job: Job) -> QAPairs:
    if not data["turns"]:
        raise ParseError("reply.turns is empty (expected at least one question and answer)")
    return [
        (nonempty(t["question"], f"turn {i} question"), nonempty(t["answer"], f"turn {i} answer"))
        for i, t in enumerate(data["turns"], start=1)
    ]


CONVERSATION = ReplyFormat(
    name="conversation",
    schema=obj({"turns": array(_TURN, "the conversation, one question and answer per turn, in order")}),
    to_json=lambda pairs: {"turns": [{"question": q, "answer": a} for q, a in pairs]},
    to_pairs=_turns,
)

COMPLEX_REASONING = ReplyFormat(
    name="complex_reasoning",
    schema=_TURN,
    to_json=lambda pairs: {"question": pairs[0][0], "answer": pairs[0][1]},
    to_pairs=lambda data, job: [(nonempty(data["question"], "question"), nonempty(data["answer"], "answer"))],
)


def _detail(data: dict[str, Any], job: Job) -> QAPairs:
    question = job.source.get(INSTRUCTION_KEY)
    if not question:
        raise ParseError(f"{job.sample_id}: job has no drawn instruction (build it with build_jobs)")
    return [(str(question), nonempty(data["description"], "description"))]


DETAIL_DESCRIPTION = ReplyFormat(
    name="detail_description",
    schema=obj({"description": string("the detailed description of the image, in plain prose")}),
    to_json=lambda pairs: {"description": pairs[0][1]},
    to_pairs=_detail,
)
