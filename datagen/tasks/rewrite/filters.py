"""Rule filters for caption rewrites: decide whether a model's reply is a usable cleaned paragraph.

The `caption_rewrite` task runs these after parsing; each returns None (accept) or a short reason.
They are cheap, offline heuristics (no model, no network): MiniGPT-4 likewise filtered its rewrites
by hand-written rules. Each one targets a failure seen in practice: the model talks about the task
instead of doing it, apologises, throws most of the text away, leaves the repetition in, answers in
(or keeps) another language, or stops mid-sentence.
"""

from __future__ import annotations

import re
import unicodedata

# Openings that introduce or comment on the answer instead of being the answer.
_PREAMBLE = re.compile(
    r"^\s*(?:"
    # only as an interjection ("Sure!", "Certainly, ..."): "Sure enough, the cat ..." is prose
    r"(?:sure|certainly|of course|okay|ok|absolutely)\s*[,.!:]"
    r"|here(?:'s| is| are) (?:the|your|my|an?) (?:\w+ )?(?:corrected|revised|rewritten|cleaned|fixed|edited|updated"
    r"|paragraph|text|version)\b"
    r"|(?:the\s+)?(?:corrected|revised|rewritten|cleaned|fixed|edited)(?:\s+\w+){0,3}\s*:"
    r"|(?:output|result|answer|paragraph)\s*:"
    r"|i (?:have|'ve) (?:corrected|removed|fixed|rewritten|revised|cleaned|edited)\b"
    r"|below is\b"
    r")",
    re.IGNORECASE,
)
# Trailing or embedded commentary about the edit.
_COMMENTARY = re.compile(
    r"(?:^|\n|(?<=[.!?])\s)\s*[(\[]?\s*(?:note|notes|explanation|changes made|changes|edits)\s*:"
    r"|\bi (?:have|'ve) (?:removed|corrected|fixed|deleted|rewritten)\b"
    r"|\bthe (?:original|input) (?:paragraph|text)\b",
    re.IGNORECASE,
)
_APOLOGY = re.compile(
    r"\b(?:i'?m sorry|i am sorry|i apologi[sz]e|my apologies|as an ai\b|as a language model"
    r"|i (?:cannot|can't|can not|am unable to|'m unable to|am not able to)\b)",
    re.IGNORECASE,
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_FINAL_PUNCT = (".", "!", "?", '"', "'", ")", "\u201d", "\u2019", "\u2026")

# A compact list of very common English function words; English prose runs 35-55% of these.
# Spatial prepositions matter here: terse image descriptions lean on them ("near", "across").
_STOPWORD_TEXT = """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more most my
    no nor not of off on once only or other our out over own same she should so some such than that
    the their them then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your
    across along among around behind beside beyond inside near onto outside toward towards upon within"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def preamble(reply: str) -> str | None:
    """The reply introduces, titles or comments on the paragraph instead of being only the paragraph."""
    if _PREAMBLE.search(reply):
        first = reply.strip().splitlines()[0][:60]
        return f"starts with a preamble: {first!r}"
    m = _COMMENTARY.search(reply)
    if m:
        return f"comments on the edit: {m.group(0).strip()!r}"
    return None


def apology(reply: str) -> str | None:
    """The model apologises or refuses ("I'm sorry", "As an AI ...", "I cannot ...")."""
    m = _APOLOGY.search(reply)
    return f"apology or refusal: {m.group(0)!r}" if m else None


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_SPLIT.split(text.strip()) if s]


def _norm_sentence(s: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(s))


def _stem(w: str) -> str:
    """A rough stem, enough to match "buses" with "bus", "horses" with "horse", "city's" with "city"."""
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("es"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us")):
        w = w[:-1]
    return w[:-1] if len(w) > 3 and w.endswith("e") else w


def content_words(text: str) -> dict[str, str]:
    """The words that carry content (not English function words), by a rough stem, each with its
    first spelling: what a faithful rewrite keeps even when it fixes grammar and removes repeats."""
    out: dict[str, str] = {}
    for w in _WORD.findall(text.lower()):
        if w not in STOPWORDS:
            out.setdefault(_stem(w), w)
    return out


def lost_content(reply: str, source: str, min_ratio: float) -> str | None:
    """The reply keeps fewer than `min_ratio` of the source's content words: the share of the
    distinct content words of the source (function words and repeats not counted) that the reply
    still contains. A rewrite that only removes repetition keeps them all."""
    wanted = content_words(source)
    if not wanted:
        return None
    have = content_words(reply)
    lost = [w for stem, w in wanted.items() if stem not in have]  # in the order of the source
    ratio = 1 - len(lost) / len(wanted)
    if ratio < min_ratio:
        shown = ", ".join(lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        return f"kept {ratio:.0%} of the source's content words (minimum {min_ratio:.0%}); lost: {shown}"
    return None


def stutter(text: str) -> str | None:
    """Words repeated back to back: one word 3+ times ("fog fog fog"), or a 2-6 word phrase twice
    ("side of the side of the"). A doubled single word ("had had", "very very") is normal English."""
    words = [w.lower() for w in _WORD.findall(text)]
    for i in range(len(words)):
        if i + 2 < len(words) and words[i] == words[i + 1] == words[i + 2]:
            return " ".join(words[i : i + 3])
        for n in range(2, 7):
            if i + 2 * n <= len(words) and words[i : i + n] == words[i + n : i + 2 * n]:
                return " ".join(words[i : i + 2 * n])
    return None


def repeats(reply: str, min_words: int = 3) -> str | None:
    """A sentence of `min_words`+ words occurs twice (ignoring case and punctuation), or words stutter."""
    seen: set[str] = set()
    for s in sentences(reply):
        key = _norm_sentence(s)
        if len(key.split()) < min_words:
            continue
        if key in seen:
            return f"repeats the sentence {s[:60]!r}"
        seen.add(key)
    st = stutter(reply)
    return f"repeats words back to back: {st!r}" if st else None


def _non_latin_run(text: str, min_run: int = 2) -> str | None:
    """The first run of `min_run`+ letters from a non-Latin script (CJK, Cyrillic, Arabic, ...)."""
    run: list[str] = []
    for ch in text:
        if ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN"):
            run.append(ch)
            if len(run) >= min_run:
                return "".join(run)
        else:
            run = []
    return None


def not_english(reply: str, min_stopword_ratio: float = 0.15) -> str | None:
    """Letters from a non-Latin script, or too few English function words for English prose."""
    run = _non_latin_run(reply)
    if run:
        return f"contains non-English text {run!r}"
    words = [w.lower() for w in _WORD.findall(reply)]
    if len(words) >= 8:
        ratio = sum(w in STOPWORDS for w in words) / len(words)
        if ratio < min_stopword_ratio:
            return f"only {ratio:.0%} English function words (expected at least {min_stopword_ratio:.0%})"
    return None


def cut_off(reply: str) -> str | None:
    """The paragraph does not end with sentence punctuation: the model stopped mid-sentence."""
    text = reply.rstrip()
    if text and not text.endswith(_FINAL_PUNCT):
        return f"ends mid-sentence: {text[-40:]!r}"
    return None
