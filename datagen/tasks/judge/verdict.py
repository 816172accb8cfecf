"""What a judge reads and what it answers: the prompt for one sample (or two), and the verdict parsers.

The user turn shows what is known about the image (its captions and boxes, so a text-only judge
can check the answers, as LLaVA-Bench and GAVIE did), then the sample's turns as `Human:` /
`Assistant:` lines. A verdict is labelled lines, `Accuracy: 8` ... `Score: 8` then `Reason: ...`
(pairwise: `Score 1:`, `Score 2:`, `Reason:`), or with `--structured` the same fields as JSON.
Both parsers yield the same pairs, `[("score", "8"), ..., ("reason", "...")]`, which `task.py`
turns into a results line. The text parser takes the usual drift in its stride (markdown emphasis,
`8/10`, `8 out of 10`, a lead-in line, a reason running over several lines); a verdict without a
score from 1 to 10, or without a reason, is a `ParseError` and is asked again.
"""

from __future__ import annotations

import re
from typing import Any

from datagen.errors import ParseError
from datagen.prompts.context import render_context
from datagen.records import IMAGE_TOKEN
from datagen.tasks.base import QAPairs
from datagen.tasks.structured import ReplyFormat, integer, obj, string

SUB_SCORES = ("accuracy", "helpfulness", "grounding")
_LINE_RE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?\s*(?P<label>accuracy|helpfulness|grounding|score(?:\s*[12])?|reason)"
    r"\s*(?:\*\*|__)?\s*[:\uff1a]\s*(?:\*\*|__)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"^\**\s*(\d{1,2})(?:\s*(?:/\s*10|out of 10))?\s*\**\s*[.,]?\s*(?P<more>.*)$", re.I)


def _turns(rec: dict[str, Any]) -> str:
    lines = []
    for t in rec.get("conversations") or []:
        who = "Human" if t.get("from") == "human" else "Assistant"
        text = str(t.get("value", "")).replace(IMAGE_TOKEN, "").strip()
        lines.append(f"{who}: {text}")
    return "\n".join(lines)


def known_about(context: dict[str, Any], fields: list[str]) -> str:
    return "What is known about the image:\n" + render_context(context, fields)


def sample_prompt(row: dict[str, Any], fields: list[str]) -> str:
    """The final user turn for judging one sample."""
    task = row.get("judged_task") or "unknown"
    return f"{known_about(row['context'], fields)}\n\nSample to review (task: {task}):\n{_turns(row)}"


def pair_prompt(row: dict[str, Any], fields: list[str]) -> str:
    """The final user turn for comparing two samples; `swapped` puts B first."""
    first, second = (row["b"], row["a"]) if row["swapped"] else (row["a"], row["b"])
    return (
        f"{known_about(row['context'], fields)}\n\nSample 1:\n{_turns(first)}\n\nSample 2:\n{_turns(second)}"
    )


def _score(text: str, label: str) -> tuple[str, str]:
    m = _NUMBER_RE.match(text.strip())
    if m is None or not 1 <= int(m.group(1)) <= 10:
        raise ParseError(f"{label}: expected a whole number from 1 to 10, got {text.strip()[:30]!r}")
    return m.group(1), m.group("more").strip()


def _labelled(reply: str) -> dict[str, str]:
    """label → text of each labelled line (a reason keeps the lines that follow it)."""
    found: dict[str, str] = {}
    current = None
    for line in reply.replace("\r\n", "\n").split("\n"):
        m = _LINE_RE.match(line)
        if m is not None:
            current = re.sub(r"\s+", " ", m.group("label").lower())
            if current not in found:
                found[current] = m.group("rest").strip()
            continue
        if current == "reason" and line.strip():
            found["reason"] = (found["reason"] + " " + line.strip()).strip()
    return found


def _reason(found: dict[str, str]) -> str:
    reason = found.get("reason", "").strip().strip("*").strip()
    if not reason:
        raise ParseError("the verdict has no 'Reason:' line")
    return reason


def parse_verdict(reply: str) -> QAPairs:
    """`Accuracy/Helpfulness/Grounding/Score/Reason` lines → pairs (sub-scores optional, score required)."""
    found = _labelled(reply)
    if "score" not in found:
        raise ParseError("the verdict has no 'Score:' line")
    pairs = [("score", _score(found["score"], "Score")[0])]
    for name in SUB_SCORES:
        if name in found:
            pairs.append((name, _score(found[name], name.capitalize())[0]))
    return [*pairs, ("reason", _reason(found))]


def parse_pair_verdict(reply: str) -> QAPairs:
    """`Score 1 / Score 2 / Reason` lines → pairs."""
    found = _labelled(reply)
    for label in ("score 1", "score 2"):
        if label not in found:
            raise ParseError(f"the verdict has no '{label.capitalize()}:' line")
    return [
        ("score_1", _score(found["score 1"], "Score 1")[0]),
        ("score_2", _score(found["score 2"], "Score 2")[0]),
        ("reason", _reason(found)),
    ]


def _checked(data: dict[str, Any], names: list[str]) -> QAPairs:
    pairs = [(n, _score(str(data[n]), n)[0]) for n in names]
    reason = str(data["reason"]).strip()
    if not reason:
        raise ParseError("reply.reason is empty")
    return [*pairs, ("reason", reason)]


VERDICT = ReplyFormat(
    name="judge_verdict",
    schema=obj(
        {
            "accuracy": integer("1-10: everything stated agrees with the descriptions and boxes"),
            "helpfulness": integer("1-10: the answers address the questions with useful detail"),
            "grounding": integer("1-10: talks about the picture, never about captions or coordinates"),
            "score": integer("1-10: overall value as training data"),
            "reason": string("one or two sentences saying what decided the score"),
        }
    ),
    to_json=lambda pairs: {k: (v if k == "reason" else int(v)) for k, v in pairs},
    to_pairs=lambda data, job: _checked(data, ["score", *SUB_SCORES]),
)

PAIR_VERDICT = ReplyFormat(
    name="judge_pairwise",
    schema=obj(
        {
            "score_1": integer("1-10: Sample 1 as training data"),
            "score_2": integer("1-10: Sample 2 as training data"),
            "reason": string("one or two sentences comparing the two"),
        }
    ),
    to_json=lambda pairs: {k: (v if k == "reason" else int(v)) for k, v in pairs},
    to_pairs=lambda data, job: _checked(data, ["score_1", "score_2"]),
)


def verdict_fields(pairs: QAPairs) -> dict[str, Any]:
    """Parsed pairs → the results line's fields (scores as integers)."""
    return {k: (v if k == "reason" else int(v)) for k, v in pairs}
