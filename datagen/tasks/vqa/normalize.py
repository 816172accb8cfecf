"""Answer normalisation for VQA scoring, following the rules of the official VQA evaluation.

Before a predicted answer is compared with the annotators' answers, both are cleaned the same way:
newlines and tabs become spaces; punctuation is dropped or turned into a space; a full stop is dropped
unless a digit follows it (so "2.5" survives); words are lower-cased; number words "zero".."ten"
(and "none") become digits; the articles "a", "an", "the" are removed; and common contractions written
without an apostrophe ("dont", "isnt") get it back ("don't", "isn't").
"""

from __future__ import annotations

import re

# Punctuation the official evaluation strips (the apostrophe, colon and full stop are handled apart).
_PUNCT = (
    ";",
    "/",
    "[",
    "]",
    '"',
    "{",
    "}",
    "(",
    ")",
    "=",
    "+",
    "\\",
    "_",
    "-",
    ">",
    "<",
    "@",
    "`",
    ",",
    "?",
    "!",
)
_DIGIT_COMMA_DIGIT = re.compile(r"(\d)(,)(\d)")
_PERIOD_NOT_BEFORE_DIGIT = re.compile(r"\.(?!\d)")

_NUMBER_WORDS = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_ARTICLES = {"a", "an", "the"}

# Contractions people type without the apostrophe. Forms that become ordinary words once the
# apostrophe is gone ("its", "well", "were", "id", "ill", "hell", "shell", "wed") are left out on
# purpose, so a genuine "well" is never rewritten.
_CONTRACTED = [
    "ain't", "aren't", "can't", "could've", "couldn't", "didn't", "doesn't", "don't", "hadn't",
    "hasn't", "haven't", "he'd", "he'll", "he's", "how'd", "how'll", "how's", "i'm", "i've",
    "isn't", "it'd", "it'll", "let's", "ma'am", "might've", "mightn't", "must've", "mustn't",
    "needn't", "o'clock", "shan't", "she'd", "she's", "should've", "shouldn't", "that'd", "that's",
    "there'd", "there're", "there's", "they'd", "they'll", "they're", "they've", "wasn't", "we'll",
    "we're", "we've", "weren't", "what'll", "what're", "what's", "what've", "when's", "where'd",
    "where's", "where've", "who'd", "who'll", "who's", "who've", "why'll", "why're", "why's",
    "won't", "would've", "wouldn't", "y'all", "you'd", "you'll", "you're", "you've",
]  # fmt: skip
_CONTRACTIONS = {c.replace("'", ""): c for c in _CONTRACTED}


def _punctuation(text: str) -> str:
    has_digit_comma = _DIGIT_COMMA_DIGIT.search(text) is not None
    out = text
    for p in _PUNCT:
        # Punctuation next to a space (or in text holding "1,000"-style numbers) is simply dropped;
        # otherwise it separated two words ("black/white") and becomes a space.
        if f"{p} " in text or f" {p}" in text or has_digit_comma:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return _PERIOD_NOT_BEFORE_DIGIT.sub("", out)


def _words(text: str) -> str:
    words = []
    for w in text.lower().split():
        w = _NUMBER_WORDS.get(w, w)
        if w in _ARTICLES:
            continue
        words.append(_CONTRACTIONS.get(w, w))
    return " ".join(words)


def normalize_answer(answer: str) -> str:
    """The canonical form two answers are compared in."""
    text = answer.replace("\n", " ").replace("\t", " ").strip()
    return _words(_punctuation(text))
