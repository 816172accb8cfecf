"""Find the COCO objects a text names: the matcher behind `datagen audit`'s CHAIR figures and the
`hallucination` generation filter (both call `find_mentions`, so they judge a text the same way).

A text is lowercased and split into word, number and punctuation tokens ("n't" becomes " not",
hyphens become spaces, so "hot-dog" is "hot dog" and "isn't" is "is not"). At each token that can
start a phrase of `synonyms.SYNONYMS`, the longest phrase that matches wins: "hot dog" is a hot
dog, never a dog, and "teddy bear" never a bear. A phrase followed by a word that makes it a modifier
("bus stop", "toilet paper") is not a mention, nor is an ambiguous word used as an adjective
("an orange shirt").

**Negation.** A mention is *negated*, and then neither a hallucination nor a correct mention, when
  - a negation cue (no, not, n't, cannot, without, never, neither, nor, none, nothing, nobody,
    nowhere, lack(s) of, absence of)
    comes before it in the same clause, at most 8 tokens back; a clause ends at . , ; : ! ? and at
    but, while, although, though, however, whereas, except, yet. "not only" and "no doubt" are not cues.
  - or it is followed by "is/are/was/were not (visible | present | seen | shown | there | in ...)",
    "... nowhere" or "... absent/missing".
So "there is no dog", "no dogs or cats", "I don't see a dog" and "the dog is not visible" negate the
dog; "No, there is a dog" (a comma ends the clause) and "the dog does not bark" do not. The rule
leans towards negating: a wrongly negated mention only goes uncounted, it is never flagged.

**Counts.** A number word or numeral of 2 or more just before a mention, with at most two describing
words between ("three giraffes", "two small white dogs"), is a count claim, unless a qualifier comes
before the number ("at least two", "more than three", "two or three", "about five"). "One" and "a"
are not count claims: "one dog is running" is said of one of several dogs as often as of the only one.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from datagen.tasks.objects.synonyms import AMBIGUOUS, FUNCTION_WORDS, MODIFIER_USES, phrase_table

_TOKEN_RE = re.compile(r"[a-z]+|\d+|[.,;:!?]")

_NEGATION_CUES = frozenset(
    {
        "no",
        "not",
        "cannot",
        "without",
        "never",
        "neither",
        "nor",
        "none",
        "nothing",
        "nobody",
        "nowhere",
        "lack",
        "lacks",
        "absence",
    }
)
_NOT_A_CUE_AFTER = {"not": {"only", "just", "merely"}, "no": {"doubt", "matter", "longer"}}
_CLAUSE_ENDS = frozenset(
    {
        ".",
        ",",
        ";",
        ":",
        "!",
        "?",
        "but",
        "while",
        "although",
        "though",
        "however",
        "whereas",
        "except",
        "yet",
    }
)
_LOOKBACK = 8
_BE = frozenset({"is", "are", "was", "were"})
_ABSENT_AFTER_NOT = frozenset(
    {"visible", "present", "seen", "shown", "there", "in", "depicted", "pictured", "included", "anywhere",
     "here", "found", "captured"}
)  # fmt: skip

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_QUALIFIERS = frozenset(
    {"least", "than", "over", "about", "around", "approximately", "nearly", "almost", "roughly", "some",
     "under", "to", "or", "maybe", "perhaps", "possibly", "estimated", "of", "every", "per"}
)  # fmt: skip
_DETERMINERS = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
        "their",
        "its",
        "my",
        "our",
        "your",
        "some",
        "any",
        "each",
    ]
)
_MAX_DESCRIBERS = 2
_AFTER_CUES = frozenset({"nowhere", "absent", "missing", "not"})
_COUNT_TOKENS = frozenset(w for w, v in _NUMBER_WORDS.items() if v >= 2) | frozenset(map(str, range(2, 1000)))

# phrase → (category, plural); by first word, the phrases it starts, longest first.
_PHRASES = phrase_table()
_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
for _phrase, (_cat, _plural) in _PHRASES.items():
    _words = tuple(_phrase.split())
    _BY_FIRST.setdefault(_words[0], []).append((_words, _cat, _plural))
for _options in _BY_FIRST.values():
    _options.sort(key=lambda o: -len(o[0]))
FIRST_WORDS: frozenset[str] = frozenset(_BY_FIRST)
_PHRASE_WORDS = frozenset(w for p in _PHRASES for w in p.split())


class Mention(NamedTuple):
    """One object named in a text (a named tuple: the audit makes millions of them)."""

    words: str  # the phrase as matched, lowercase ("puppies", "hot dog")
    category: str  # the COCO category it names ("dog", "hot dog")
    start: int  # token index of its first word
    negated: bool = False
    number: int | None = None  # a count claim before it ("three giraffes" → 3), else None


def tokenize(text: str) -> list[str]:
    """Lowercase word, number and punctuation tokens, as the matcher sees them."""
    t = text.lower()
    if "\u2019" in t:
        t = t.replace("\u2019", "'")
    if "n't" in t:
        t = t.replace("n't", " not")
    if "-" in t:
        t = t.replace("-", " ")
    return _TOKEN_RE.findall(t)


def _negated_before(tokens: list[str], start: int) -> bool:
    for j in range(start - 1, max(-1, start - 1 - _LOOKBACK), -1):
        tok = tokens[j]
        if tok in _CLAUSE_ENDS:
            return False
        if tok in _NEGATION_CUES:
            nxt = tokens[j + 1]
            if nxt in _NOT_A_CUE_AFTER.get(tok, ()):
                continue
            return True
    return False


def _negated_after(tokens: list[str], end: int) -> bool:
    """ "the dog is not visible", "the dogs are nowhere to be seen", "the cat is absent"."""
    n = len(tokens)
    if end >= n - 1 or tokens[end] not in _BE:
        return False
    nxt = tokens[end + 1]
    if nxt in ("nowhere", "absent", "missing"):
        return True
    return nxt == "not" and end + 2 < n and tokens[end + 2] in _ABSENT_AFTER_NOT


def _count_before(tokens: list[str], start: int) -> int | None:
    j = start - 1
    describers = 0
    while j >= 0:
        tok = tokens[j]
        value = _NUMBER_WORDS.get(tok)
        if value is None and tok.isdigit() and len(tok) <= 3:
            value = int(tok)
        if value is not None:
            if value < 2 or (j > 0 and tokens[j - 1] in _QUALIFIERS):
                return None
            return value
        if describers == _MAX_DESCRIBERS or not tok.isalpha() or tok in FUNCTION_WORDS:
            return None
        if tok in _PHRASE_WORDS or tok in _NEGATION_CUES or tok in _DETERMINERS:
            return None
        describers += 1
        j -= 1
    return None


def find_mentions(text: str) -> list[Mention]:
    """Every object mention in `text`, in order (negated ones included, marked `negated`)."""
    return mentions_in(tokenize(text))


def _positions(tokens: list[str], words: frozenset[str]) -> list[int]:
    """Where `words` occur in `tokens`, in order: `list.index` scans at C speed, where a Python loop
    over every token would be most of the matcher's time."""
    found: list[int] = []
    for w in words:
        i = -1
        try:
            while True:
                i = tokens.index(w, i + 1)
                found.append(i)
        except ValueError:
            pass
    found.sort()
    return found


def mentions_in(tokens: list[str]) -> list[Mention]:
    """`find_mentions` on a text already split by `tokenize` (the audit tokenizes each text once)."""
    present = set(tokens)
    starts = FIRST_WORDS & present  # C-speed tests first: most texts lack most of what is looked for
    if not starts:
        return []
    may_negate = not _NEGATION_CUES.isdisjoint(present)
    may_negate_after = not _AFTER_CUES.isdisjoint(present)
    may_count = not _COUNT_TOKENS.isdisjoint(present)
    out: list[Mention] = []
    n = len(tokens)
    skip_to = 0
    for i in _positions(tokens, starts):
        if i < skip_to:
            continue
        tok = tokens[i]
        for words, category, _plural in _BY_FIRST[tok]:
            k = len(words)
            if k > 1 and tuple(tokens[i : i + k]) != words:
                continue
            end = i + k
            skip_to = end
            nxt = tokens[end] if end < n else ""
            if nxt and nxt in MODIFIER_USES.get(words[-1], ()):
                break  # "bus stop": the bus only describes the stop
            if k == 1 and tok in AMBIGUOUS and nxt.isalpha() and nxt not in FUNCTION_WORDS:
                break  # "an orange shirt", "a remote village"
            negated = (may_negate and _negated_before(tokens, i)) or (
                may_negate_after and _negated_after(tokens, end)
            )
            count = _count_before(tokens, i) if may_count and not negated else None
            out.append(Mention(words[0] if k == 1 else " ".join(words), category, i, negated, count))
            break
    return out


def named_categories(text: str) -> dict[str, list[str]]:
    """Categories named (not negated) in `text` → the words that named them, in order, each once."""
    found: dict[str, list[str]] = {}
    for m in find_mentions(text):
        if not m.negated:
            words = found.setdefault(m.category, [])
            if m.words not in words:
                words.append(m.words)
    return found
