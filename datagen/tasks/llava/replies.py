"""Turn a model's reply into question/answer pairs: the step between the LLM call and the filters.

Three reply shapes (DESIGN.md):

- conversation: `Question:` / `Answer:` blocks separated by `===` lines, any number of turns;
- complex reasoning: the same block format with exactly one question and one answer;
- detail description: plain prose, paired with a question drawn (seeded per sample) from an
  instruction list, since the model only writes the description.

Models drift from the few-shot format, so the block parser is driven by the labels rather than the
separators: it accepts `Q:` / `A:`, `**Question:**` and other markdown emphasis, bullets, numbering
(`1. Question:`, `Question 2:`), headings, text on the label line or below it, missing or trailing
separators, and CRLF line ends. What it cannot pair up unambiguously raises `ParseError` with the
exact reason, so the engine can re-ask and finally log it in `failures.jsonl`.

Speed matters (158K replies must parse in a few seconds), so lines are pre-screened with a cheap
first-character test before the label regex runs.
"""

from __future__ import annotations

import re

from datagen.errors import ParseError

QAPairs = list[tuple[str, str]]

# A label line: optional bullet / numbering / heading / quote marks, optional emphasis, the label
# word (with an optional number), an optional closing emphasis, a colon, then maybe the text itself.
_LABEL_RE = re.compile(
    r"""^\s*
    (?:(?:[-*+\u2022]|\d{1,3}[.)]|\#{1,6}|>)\s+)*      # bullets, "1.", "2)", "##", "> "
    (?P<open>\*\*|__|\*|_)?\s*                          # **Question / *Q / __Answer
    (?P<label>question|answer|q|a)
    (?:\s*\#?\d{1,3})?                                  # Question 2 / Q2 / Q#2
    \s*(?:\*\*|__|\*|_)?\s*                             # Question** :
    [:\uff1a]                                           # ASCII or full-width colon
    \s*(?:\*\*|__|\*|_)?                                # :** after the colon
    (?P<rest>.*)$""",
    re.IGNORECASE | re.VERBOSE,
)
# A separator line: three or more '=' (LLaVA's format); markdown rules (---, ***, ___) too.
_SEP_RE = re.compile(r"^\s*(?:={3,}|-{3,}|\*{3,}|_{3,})\s*$")
# First non-space characters that can start a label or a separator; anything else is plain text.
_LABEL_STARTS = frozenset("QqAa-*+\u2022#>_=0123456789")
_TRAILING_EMPHASIS = re.compile(r"\s*(?:\*\*|__|\*|_)\s*$")
# Text before the first label is tolerated when it is a short lead-in ("Here is the conversation:").
MAX_PREAMBLE_LINES = 2


def _label_of(line: str) -> tuple[str, str] | None:
    """('q' | 'a', text after the label) if `line` is a label line, else None."""
    stripped = line.lstrip()
    if not stripped or stripped[0] not in _LABEL_STARTS:
        return None
    m = _LABEL_RE.match(stripped)
    if m is None:
        return None
    rest = m.group("rest").strip()
    if m.group("open"):
        # "**Question: What is it?**" -> drop the emphasis that closes the whole line.
        rest = _TRAILING_EMPHASIS.sub("", rest)
    return m.group("label")[0].lower(), rest


def _blocks(reply: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Split a reply into labelled blocks [(kind, text)] plus the unlabelled lines before the first."""
    text = reply.replace("\r\n", "\n").replace("\r", "\n")
    blocks: list[tuple[str, list[str]]] = []
    preamble: list[str] = []
    for line in text.split("\n"):
        first = line.lstrip()[:1]
        if first in ("=", "-", "*", "_") and _SEP_RE.match(line):
            continue  # separators only delimit; labels already start each block
        found = _label_of(line) if first else None
        if found is not None:
            kind, rest = found
            blocks.append((kind, [rest] if rest else []))
        elif blocks:
            blocks[-1][1].append(line.rstrip())
        elif line.strip():
            preamble.append(line.strip())
    return [(kind, "\n".join(lines).strip()) for kind, lines in blocks], preamble


# "Q: What is it? A: A cat." on one line: an answer label right after the question's end mark.
_INLINE_ANSWER_RE = re.compile(
    r"(?<=[?.!])\s+(?:\*\*|__)?(?:answer|a)(?:\s*\d{1,3})?\s*(?:\*\*|__)?\s*:(?:\*\*|__)?\s*", re.I
)


def _split_inline_answers(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Split a question block holding its own answer, but only where no answer block follows it
    (so an answer that happens to contain "A:" after a question mark is never cut)."""
    out: list[tuple[str, str]] = []
    for i, (kind, text) in enumerate(blocks):
        answered = i + 1 < len(blocks) and blocks[i + 1][0] == "a"
        if kind == "q" and not answered:
            m = _INLINE_ANSWER_RE.search(text)
            if m is not None:
                out += [("q", text[: m.start()].strip()), ("a", text[m.end() :].strip())]
                continue
        out.append((kind, text))
    return out


def parse_qa_blocks(reply: str) -> QAPairs:
    """Alternating `Question:` / `Answer:` blocks → [(question, answer), ...] (at least one pair)."""
    if not reply or not reply.strip():
        raise ParseError("empty reply")
    blocks, preamble = _blocks(reply)
    if not blocks:
        raise ParseError("no 'Question:'/'Answer:' labels found in the reply")
    blocks = _split_inline_answers(blocks)
    if len(preamble) > MAX_PREAMBLE_LINES:
        raise ParseError(
            f"{len(preamble)} lines of unlabelled text before the first label (starts {preamble[0][:40]!r})"
        )
    pairs: QAPairs = []
    for i in range(0, len(blocks), 2):
        kind, question = blocks[i]
        turn = i // 2 + 1
        if kind != "q":
            raise ParseError(f"turn {turn}: expected a 'Question:' block, found an 'Answer:' block")
        if i + 1 >= len(blocks):
            raise ParseError(f"turn {turn}: question has no answer (reply ends after it)")
        next_kind, answer = blocks[i + 1]
        if next_kind != "a":
            raise ParseError(f"turn {turn}: two 'Question:' blocks in a row")
        if not question:
            raise ParseError(f"turn {turn}: empty question")
        if not answer:
            raise ParseError(f"turn {turn}: empty answer")
        pairs.append((question, answer))
    return pairs


def parse_conversation(reply: str) -> QAPairs:
    """A multi-turn conversation reply → its (question, answer) pairs in order."""
    return parse_qa_blocks(reply)


def parse_complex_reasoning(reply: str) -> QAPairs:
    """A complex-reasoning reply → exactly one (question, answer) pair."""
    pairs = parse_qa_blocks(reply)
    if len(pairs) != 1:
        raise ParseError(f"expected exactly one question/answer pair, found {len(pairs)}")
    return pairs


# A detail reply sometimes starts with a label of its own ("Description:", "**Answer:**").
_DETAIL_LABEL_RE = re.compile(
    r"^\s*(?:\*\*|__|\#{1,6}\s*)?(?:detailed description|description|answer)\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*",
    re.IGNORECASE,
)


# A chatty first line announcing the answer ("Sure! Here is a detailed description:") is dropped.
_LEAD_IN_RE = re.compile(r"^(?:sure|certainly|of course|okay|ok|here is|here's)\b[^\n]{0,120}:[ \t]*\n", re.I)


def parse_detail(reply: str, question: str) -> QAPairs:
    """A detailed-description reply (prose) → one pair: (the drawn instruction, the description)."""
    text = reply.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = _LEAD_IN_RE.sub("", text, count=1).strip()
    text = _DETAIL_LABEL_RE.sub("", text, count=1).strip()
    if not text:
        raise ParseError("empty reply")
    if _label_of(text.split("\n", 1)[0]) is not None:
        raise ParseError("expected a prose description, got a 'Question:'/'Answer:' block")
    return [(question, text)]
