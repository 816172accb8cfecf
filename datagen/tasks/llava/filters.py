"""LLaVA's quality filters: the step after parsing that accepts or rejects a conversation, detail
description or reasoning sample before it becomes a record.

A filter is a plain function `(pairs, job) -> reason | None`: None accepts, a short reason rejects
(`datagen/tasks/filters.py` runs them: one loop for live, batch and model-free runs).
Its name (the key in `FILTERS`) is what `--no-filter NAME` disables, what `run.json` counts drops
under, and what `failures.jsonl` records with `stage: filter`. To add one, write the function and
add it to `FILTERS` (order = the order they run; the first rejection wins).

Exact-duplicate detection needs state across the whole run, so it is a `DuplicateTracker` object
(`datagen/tasks/dedupe.py`) whose `check` method has the same filter signature; `active_filters` adds it last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from datagen.records import IMAGE_TOKEN
from datagen.tasks.dedupe import DUPLICATE, DuplicateTracker
from datagen.tasks.filters import Filter

if TYPE_CHECKING:
    from datagen.tasks.base import Job, QAPairs


# Filters run on every sample (158K for a LLaVA-sized set) and Python regex search costs tens of
# microseconds per kilobyte, so each rule carries "trigger" groups: every group must have one of its
# lowercase substrings somewhere in the sample for the regex to be able to match at all. Those `in`
# tests run at C speed and skip the regex for almost every sample. Triggers MUST stay a necessary
# condition of their regex (multi-word phrases in the regexes use one literal space for this reason).
Rule = tuple[tuple[tuple[str, ...], ...], str, "re.Pattern[str]"]


# leak and refusal run one after the other on the same pairs: build the lowercased text once.
_blob_cache: list[Any] = [None, ""]


def _blob(pairs: QAPairs) -> str:
    """All of a sample's text, lowercased (questions too: extra text only makes triggers fire more)."""
    if _blob_cache[0] is not pairs:
        _blob_cache[0] = pairs
        _blob_cache[1] = "\n".join([t for qa in pairs for t in qa]).lower()
    return str(_blob_cache[1])


def _first_match(pairs: QAPairs, texts: list[tuple[int, str, str]], rules: list[Rule]) -> str | None:
    """`"turn N role what"` for the first (turn, role, text) a rule matches, or None."""
    blob = _blob(pairs)
    for groups, what, pattern in rules:
        # Plain loops, not all(any(...)): generator frames cost more than the `in` tests here.
        for group in groups:
            for trigger in group:
                if trigger in blob:
                    break
            else:
                break  # no trigger of this group in the sample: the regex cannot match
        else:
            for turn, role, text in texts:
                if pattern.search(text):
                    return f"turn {turn} {role} {what}"
    return None


# --- leak: the model saw text, not pixels; answers must not say so -----------------------------
_LEAK_RULES: list[Rule] = [
    ((("caption",),), "mentions captions", re.compile(r"\bcaption(?:s|ed)?\b", re.I)),
    (
        (
            ("given", "provided", "supplied", "mentioned", "listed", "based on"),
            ("description", "annotation", "information", "text", "detail", "data", "context"),
        ),
        "mentions the given descriptions",
        re.compile(
            r"\b(?:descriptions?|annotations?|information|text|details|data) "
            r"(?:(?:that )?(?:was|were|is|are|you have|I was|I have been) )?"
            r"(?:given|provided|supplied|mentioned|listed)\b"
            r"|\b(?:given|provided|supplied) (?:descriptions?|annotations?|text|information|context)\b"
            r"|\bbased on the (?:descriptions?|annotations?|text)\b",
            re.I,
        ),
    ),
    (
        (("bounding", "bbox"),),
        "mentions bounding boxes",
        re.compile(r"\bbounding[ -]box(?:es)?\b|\bbbox(?:es)?\b", re.I),
    ),
    (
        (("coordinate", "["),),
        "mentions coordinates",
        re.compile(
            r"\b(?:the|its|their|given|normali[sz]ed|box|pixel|these|those) coordinates?\b"
            r"|\bcoordinates? (?:of|for|\(|\[)"
            r"|\[\s*0?\.\d+\s*,\s*0?\.\d+\s*,",  # a box printed as [0.12, 0.34, ...]
            re.I,
        ),
    ),
    (
        (("see", "view", "look at"), ("not", "n't", "n\u2019t", "unable"), ("image", "picture", "photo")),
        "says it cannot see the image",
        re.compile(
            r"\b(?:I|we) (?:cannot|can not|can't|can\u2019t|am unable to|do not|don't|don\u2019t) "
            r"(?:actually )?(?:see|view|look at) (?:the|this|an|any) (?:image|picture|photo)",
            re.I,
        ),
    ),
]


def leak(pairs: QAPairs, job: Job) -> str | None:
    """Reject turns that reveal the text-only setup (captions, boxes, coordinates, "cannot see")."""
    ours = job.task in ("detail_description", "dense_caption")  # the question is ours, from a list
    texts = []
    for i, (q, a) in enumerate(pairs, start=1):
        if not ours:
            texts.append((i, "question", q))
        texts.append((i, "answer", a))
    return _first_match(pairs, texts, _LEAK_RULES)


# --- refusal: the model declined instead of answering --------------------------------------------
_REFUSAL_RULES: list[Rule] = [
    (
        (
            (
                "sorry",
                "apologi",
                "unfortunately, i",
                "as an ai",
                "i can",  # i cannot / can't / can’t
                "i am ",  # i am unable / not able
                "i won't",
            ),
        ),
        "is a refusal",
        re.compile(
            r"^\s*(?:I'?m sorry|I am sorry|sorry,|I apologi[sz]e|unfortunately, I)\b"
            r"|\bas an AI(?: language)? model\b"
            r"|\bI (?:cannot|can't|can\u2019t|am unable to|am not able to|won't) "
            r"(?:help|assist|provide|answer|comply|fulfil|fulfill)\b",
            re.I,
        ),
    )
]


def refusal(pairs: QAPairs, job: Job) -> str | None:
    """Reject answers that refuse or apologise instead of answering."""
    texts = [(i, "answer", a) for i, (_q, a) in enumerate(pairs, start=1)]
    return _first_match(pairs, texts, _REFUSAL_RULES)


# --- short_turn: empty or too short to be useful ---------------------------------------------------
MIN_QUESTION_CHARS = 8
MIN_ANSWER_CHARS = 8
MIN_DETAIL_WORDS = 25  # a "detailed" description shorter than this is not one


def short_turn(pairs: QAPairs, job: Job) -> str | None:
    """Reject empty turns, very short questions/answers, and detail descriptions of a few words."""
    if not pairs:
        return "no turns"
    for i, (q, a) in enumerate(pairs, start=1):
        qs, as_ = q.strip(), a.strip()
        if not qs or not as_:
            return f"turn {i} {'question' if not qs else 'answer'} is empty"
        if len(qs) < MIN_QUESTION_CHARS:
            return f"turn {i} question is {len(qs)} characters (< {MIN_QUESTION_CHARS})"
        if len(as_) < MIN_ANSWER_CHARS:
            return f"turn {i} answer is {len(as_)} characters (< {MIN_ANSWER_CHARS})"
    if job.task == "detail_description":
        words = len(pairs[0][1].split())
        if words < MIN_DETAIL_WORDS:
            return f"description is {words} words (< {MIN_DETAIL_WORDS})"
    return None


# --- non_alternating: turns merged or swapped ------------------------------------------------------
_ROLE_LINE_RE = re.compile(
    r"^\s*(?:\*\*)?(?:question|answer|human|user|assistant|gpt)\s*(?:\*\*)?\s*:", re.I | re.M
)


def non_alternating(pairs: QAPairs, job: Job) -> str | None:
    """Reject samples whose turns do not strictly alternate one question, one answer.

    The parser already pairs blocks; what slips through is two turns fused into one (a role label
    inside a turn), an answer that just repeats its question, or a stray `<image>` token.
    """
    for i, (q, a) in enumerate(pairs, start=1):
        for role, text in (("question", q), ("answer", a)):
            if ":" in text and _ROLE_LINE_RE.search(text):  # cheap test first: labels need a colon
                return f"turn {i} {role} contains another turn's label"
            if IMAGE_TOKEN in text:
                return f"turn {i} {role} contains {IMAGE_TOKEN}"
        # Only normalise when the lengths are close: answers are usually much longer than questions.
        if abs(len(q) - len(a)) <= max(8, len(q) // 4) and _norm(q) == _norm(a):
            return f"turn {i} answer repeats the question"
    return None


# --- repeated_question: the same question asked twice in one conversation ------------------------
_NORM_RE = re.compile(r"[^\w]+")


def _norm(text: str) -> str:
    return _NORM_RE.sub(" ", text.lower()).strip()


def repeated_question(pairs: QAPairs, job: Job) -> str | None:
    """Reject a conversation that asks the same question (ignoring case/punctuation) twice."""
    if len(pairs) < 2:
        return None
    seen: dict[str, int] = {}
    for i, (q, _a) in enumerate(pairs, start=1):
        key = _norm(q)
        if key in seen:
            return f"turn {i} repeats the question of turn {seen[key]}"
        seen[key] = i
    return None


# Per-sample filters in the order they run. `duplicate` (run-level) runs after all of them.
FILTERS: dict[str, Filter] = {
    "non_alternating": non_alternating,
    "short_turn": short_turn,
    "refusal": refusal,
    "leak": leak,
    "repeated_question": repeated_question,
}
FILTER_NAMES: list[str] = [*FILTERS, DUPLICATE]


def active_filters(
    disabled: Iterable[str] = (), tracker: DuplicateTracker | None = None
) -> list[tuple[str, Filter]]:
    """The named filters to run, minus `disabled`; the duplicate check last when a tracker is given."""
    off = set(disabled)
    chosen: list[tuple[str, Filter]] = [(n, f) for n, f in FILTERS.items() if n not in off]
    if tracker is not None and DUPLICATE not in off:
        chosen.append((DUPLICATE, tracker.check))
    return chosen
