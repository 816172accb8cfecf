"""Replies that look like a real model's, for the loopback server (support/fakeserver.py).

`ModelLike(drift=0.3)` is a server handler that answers every datagen task the way a chat model
would: it reads the request's few-shot answers to see which reply shape is wanted (question/answer
blocks, one pair, prose, numbered questions, a short answer, a judge's verdict) and writes one about
the final user message (its captions, description, candidates or sample). A `response_format`
request gets JSON valid against the request's own schema. A text reply drifts from the few-shot
format in `drift` of the requests, the way models do (`DRIFTS`): some drifts our parsers take in
their stride (a lead-in line, `**Question:**` markdown, `Q:`/`A:`, missing `===`, a closing remark),
others they cannot (chat-role labels, a long preamble, a second pair where one was asked for, ...),
and those are asked again. Which drift was used is counted in `kinds`; every choice comes from a
seeded generator advanced per request, so a re-ask gets a fresh draw, as with a sampling model.

`structured_reply(body)` and `break_json(body, kind)` are what the server's default reply and its
`BadJSON` / `MissingField` actions use.
"""

from __future__ import annotations

import collections
import hashlib
import json
import random
import re
from typing import Any

ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
_BOX_LINE = re.compile(r"^[\w ]+: \[[\d., ]+\]$")
_NUMBERED = re.compile(r"^\s*(\d+)\.\s*(.+)$")
DRIFTS = {
    # shape: [(kind, does our text parser still read it?)]
    "qa": [("lead_in", True), ("markdown", True), ("short_labels", True), ("no_separators", True),
           ("closing_remark", True), ("chat_roles", False), ("long_preamble", False)],
    "single": [("lead_in", True), ("markdown", True), ("short_labels", True), ("no_separators", True),
               ("closing_remark", True), ("chat_roles", False), ("extra_pair", False)],
    "prose": [("lead_in", True), ("label", True), ("closing_remark", True), ("qa_blocks", False)],
    "numbered": [("lead_in", True), ("markdown", True), ("bullets", False)],
    "short": [("label", True), ("markdown", True)],
    "verdict": [("lead_in", True), ("markdown", True), ("out_of_ten", True), ("prose", False)],
    "pairwise": [("lead_in", True), ("markdown", True), ("prose", False)],
}  # fmt: skip
SURVIVES = {(shape, kind): ok for shape, kinds in DRIFTS.items() for kind, ok in kinds}


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def last_user(body: dict[str, Any]) -> str:
    msgs = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    content = msgs[-1].get("content", "") if msgs else ""
    if isinstance(content, list):  # image inputs: the text parts
        content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def _example(body: dict[str, Any]) -> str:
    for m in body.get("messages") or []:
        if m.get("role") == "assistant":
            return str(m.get("content", ""))
    return ""


def _sentences(body: dict[str, Any]) -> list[str]:
    """The sentences of the final user message that describe the picture (no box lines, no lists)."""
    out: list[str] = []
    for line in last_user(body).splitlines():
        line = line.strip()
        if not line or _BOX_LINE.match(line) or _NUMBERED.match(line) or line.endswith(":"):
            continue
        if line.lower().startswith(("question:", "answers:", "sample", "score")):
            continue
        for part in re.split(r"(?<=[.!?])\s+", line.replace("###", " ")):
            part = part.strip().rstrip(".") + "."
            if len(part) > 12 and part.lower() not in {s.lower() for s in out}:
                out.append(part[0].upper() + part[1:])
    return out or ["The picture shows an everyday scene."]


def candidates(body: dict[str, Any]) -> list[str]:
    _, found, block = last_user(body).rpartition("Answers:\n")
    return [m.group(2).strip() for m in map(_NUMBERED.match, block.splitlines()) if m] if found else []


# ---- content, shape by shape ------------------------------------------------------------------
def turns(body: dict[str, Any], n: int) -> list[tuple[str, str]]:
    s = _sentences(body)
    qa = [
        ("What is happening in this picture?", s[0]),
        ("What else can be seen here?", " ".join(s[1:3]) or s[0]),
        ("What might the people nearby be thinking about this scene?",
         "They would most likely take it as an ordinary moment: " + s[-1][0].lower() + s[-1][1:]),
    ]  # fmt: skip
    return qa[:n]


def reasoning(body: dict[str, Any]) -> tuple[str, str]:
    s = _sentences(body)
    return (
        "Why might the scene look the way it does?",
        f"{s[0]} Taken together with the rest of the scene, this suggests an ordinary moment of daily "
        "life, and nothing in it looks staged or out of place.",
    )


def prose(body: dict[str, Any]) -> str:
    text = " ".join(_sentences(body))
    if len(text.split()) < 30:
        text += " The scene looks calm and ordinary, and every part of it fits the setting well."
    return text


def short(body: dict[str, Any]) -> str:
    q = last_user(body).rpartition("Question:")[2].strip().lower()
    if q.startswith("how many"):
        return "2"
    if q.startswith(("is ", "are ", "does ", "do ", "can ")):
        return "yes"
    if "color" in q or "colour" in q:
        return "white"
    words = re.findall(r"[a-z]+", _sentences(body)[0].lower())
    return words[-1] if words else "nothing"


def numbered(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(answer, question) for each candidate; the questions never contain their answer."""
    return [
        (c, f"What is the {ORDINALS[i % len(ORDINALS)]} thing worth asking about in this scene?")
        for i, c in enumerate(candidates(body))
    ]


def scores(body: dict[str, Any]) -> dict[str, int]:
    """A judge's scores, fixed by the judged text (so tests know them): 4..9."""
    base = 4 + _digest(last_user(body)) % 6
    return {"accuracy": base, "helpfulness": min(10, base + 1), "grounding": base, "score": base}


def pair_scores(body: dict[str, Any]) -> tuple[int, int]:
    """Scores for "Sample 1" and "Sample 2": each fixed by that sample's text alone (4..9), so a
    swapped request gives the same sample the same score."""
    text = last_user(body)
    one = text.partition("Sample 1")[2].partition("Sample 2")[0]
    two = text.partition("Sample 2")[2]
    return 4 + _digest(one.strip()) % 6, 4 + _digest(two.strip()) % 6


REASON = "The answers agree with what the picture shows and stay on the objects that are in it."


# ---- text replies --------------------------------------------------------------------------------
def shape_of(body: dict[str, Any]) -> str:
    ex = _example(body)
    if "Score 1:" in ex:
        return "pairwise"
    if re.search(r"^Score:", ex, re.M):
        return "verdict"
    labels = len(re.findall(r"^\s*Question:", ex, re.M))
    if labels:
        return "single" if labels == 1 else "qa"
    if _NUMBERED.match(ex):
        return "numbered"
    if ex and len(ex.split()) <= 3:
        return "short"
    return "prose"


def _qa_text(pairs: list[tuple[str, str]], kind: str | None) -> str:
    q_label, a_label, sep = "Question:\n", "Answer:\n", "\n===\n"
    if kind == "markdown":
        q_label, a_label = "**Question:** ", "**Answer:** "
    elif kind == "short_labels":
        q_label, a_label, sep = "Q: ", "A: ", "\n"
    elif kind == "chat_roles":
        q_label, a_label, sep = "User: ", "Assistant: ", "\n"
    elif kind == "no_separators":
        sep = "\n\n"
    text = sep.join(f"{q_label}{q}{sep}{a_label}{a}" for q, a in pairs)
    if kind == "lead_in":
        text = "Sure! Here is a conversation about the picture:\n\n" + text
    elif kind == "long_preamble":
        text = (
            "Sure, I can help with that.\nBelow are some questions a curious person might ask.\n"
            "Each one is followed by an answer.\n\n" + text
        )
    elif kind == "closing_remark":
        text += "\n\nI hope these help! Let me know if you would like more questions."
    return text


def text_reply(body: dict[str, Any], kind: str | None = None) -> str:
    """The reply in the request's few-shot format, drifted by `kind` (None: no drift)."""
    shape = shape_of(body)
    if shape in ("qa", "single"):
        pairs = turns(body, 3) if shape == "qa" else [reasoning(body)]
        if kind == "extra_pair":
            pairs = [*pairs, ("Is it day or night?", "It looks like the middle of the day.")]
        return _qa_text(pairs, kind)
    if shape == "prose":
        text = prose(body)
        if kind == "qa_blocks":
            return f"Question:\nWhat does the picture show?\n===\nAnswer:\n{text}"
        if kind == "label":
            return "**Description:** " + text
        if kind == "lead_in":
            return "Sure! Here is a detailed description of the picture:\n" + text
        return text + ("\n\nLet me know if you need anything else." if kind == "closing_remark" else "")
    if shape == "numbered":
        lines = [f"{i}. {q}" for i, (_a, q) in enumerate(numbered(body), start=1)]
        if kind == "markdown":
            lines = [f"**{i}.** {q}" for i, (_a, q) in enumerate(numbered(body), start=1)]
        elif kind == "bullets":
            lines = [f"- {q}" for _a, q in numbered(body)]
        return ("Here are the questions:\n" if kind == "lead_in" else "") + "\n".join(lines)
    if shape == "short":
        answer = short(body)
        return {"label": f"Answer: {answer}", "markdown": f"**{answer}**"}.get(kind or "", answer)
    if shape == "pairwise":
        one, two = pair_scores(body)
        if kind == "prose":
            return f"The first sample deserves {one} and the second {two}. {REASON}"
        lines = [f"Score 1: {one}", f"Score 2: {two}", f"Reason: {REASON}"]
    else:
        s = scores(body)
        if kind == "prose":
            return f"I would rate this sample {s['score']} out of 10. {REASON}"
        lines = [f"{k.capitalize()}: {v}" for k, v in s.items()] + [f"Reason: {REASON}"]
        if kind == "out_of_ten":
            lines = [re.sub(r": (\d+)$", r": \1/10", line) for line in lines]
    if kind == "markdown":
        lines = [re.sub(r"^([\w ]+):", r"**\1:**", line) for line in lines]
    return ("Here is my verdict.\n" if kind == "lead_in" else "") + "\n".join(lines)


# ---- JSON replies ----------------------------------------------------------------------------------
def _schema(body: dict[str, Any]) -> dict[str, Any]:
    rf = body.get("response_format") or {}
    return (rf.get("json_schema") or {}).get("schema") or {}


def instance(schema: dict[str, Any], body: dict[str, Any]) -> Any:
    """A value valid against `schema`, with content about the request (by the fields' names)."""
    kind = schema.get("type")
    props = schema.get("properties") or {}
    if kind == "object":
        names = set(props)
        if names == {"turns"}:
            return {"turns": [{"question": q, "answer": a} for q, a in turns(body, 3)]}
        if names == {"question", "answer"}:
            q, a = reasoning(body)
            return {"question": q, "answer": a}
        if names == {"description"}:
            return {"description": prose(body)}
        if names == {"answer"}:
            return {"answer": short(body)}
        if names == {"questions"}:
            return {"questions": [{"answer": a, "question": q} for a, q in numbered(body)]}
        if {"score_1", "score_2"} <= names:
            one, two = pair_scores(body)
            return {"score_1": one, "score_2": two, "reason": REASON}
        if "score" in names:
            return {**{k: v for k, v in scores(body).items() if k in names}, "reason": REASON}
        return {name: instance(sub, body) for name, sub in props.items()}
    if kind == "array":
        return [instance(schema.get("items") or {}, body)]
    if kind == "integer":
        return 5
    if kind == "boolean":
        return True
    return prose(body)


def structured_reply(body: dict[str, Any]) -> str:
    return json.dumps(instance(_schema(body), body))


def break_json(body: dict[str, Any], kind: str, field: str | None = None) -> str:
    """A reply to a response_format request that is not what was asked: cut-off JSON ("bad_json")
    or valid JSON without `field` (default: the schema's first required field, "missing_field")."""
    text = structured_reply(body)
    if kind == "bad_json":
        return text[: max(1, len(text) // 2)]
    data = json.loads(text)
    name = field or (_schema(body).get("required") or list(data))[0]
    data.pop(name, None)
    return json.dumps(data)


class ModelLike:
    """A server handler answering like a chat model: JSON for response_format requests, the
    few-shot text format otherwise, drifting in `drift` of the text replies; `bad_json` /
    `missing_field` of the JSON replies come back broken."""

    def __init__(
        self, drift: float = 0.0, *, seed: int = 0, bad_json: float = 0.0, missing_field: float = 0.0
    ):
        self.drift, self.bad_json, self.missing_field = drift, bad_json, missing_field
        self.rng = random.Random(seed)
        self.kinds: collections.Counter[str] = collections.Counter()  # "<shape>:<drift>" or "<shape>:clean"

    def __call__(self, body: dict[str, Any]) -> str:
        roll = self.rng.random()
        if body.get("response_format"):
            if roll < self.bad_json:
                self.kinds["json:bad_json"] += 1
                return break_json(body, "bad_json")
            if roll < self.bad_json + self.missing_field:
                self.kinds["json:missing_field"] += 1
                return break_json(body, "missing_field")
            self.kinds["json:clean"] += 1
            return structured_reply(body)
        shape = shape_of(body)
        kind = None
        if roll < self.drift:
            kind = self.rng.choice(DRIFTS[shape])[0]
        self.kinds[f"{shape}:{kind or 'clean'}"] += 1
        return text_reply(body, kind)

    def unreadable(self) -> int:
        """Text replies given so far with a drift our parsers cannot read (each one a re-ask)."""
        total = 0
        for key, n in self.kinds.items():
            shape, _, kind = key.partition(":")
            total += n if not SURVIVES.get((shape, kind), True) else 0
        return total
