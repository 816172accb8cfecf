"""Word-level before/after comparison of a rewritten description, for `datagen diff`.

`word_ops` aligns the two texts word by word (difflib), so a reader sees exactly which repeated
sentences, stray symbols and foreign fragments the rewrite removed and what it added. Rendering is
either rich text (red struck-through deletions, green insertions) or, off a terminal, git's
word-diff markers `[-removed-]` / `{+added+}` so the output stays greppable.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from rich.text import Text

EQUAL, DELETE, INSERT = "equal", "delete", "insert"


@dataclass(frozen=True)
class DiffStats:
    words_before: int
    words_after: int
    removed: int
    added: int


def word_ops(before: str, after: str) -> list[tuple[str, list[str]]]:
    """Runs of (op, words): equal words, words only in `before` (delete), only in `after` (insert)."""
    a, b = before.split(), after.split()
    ops: list[tuple[str, list[str]]] = []
    # autojunk off: in long paragraphs common words like "the" must still anchor the alignment.
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append((EQUAL, a[i1:i2]))
            continue
        if i2 > i1:
            ops.append((DELETE, a[i1:i2]))
        if j2 > j1:
            ops.append((INSERT, b[j1:j2]))
    return _keep_first_copy(ops)


def _keep_first_copy(ops: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Show a removed repeat as the second copy, not the first: difflib may align either copy.

    `[-X-] X rest` and `X [-X-] rest` describe the same edit; the second reads as what it is.
    """
    out: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(ops):
        op, words = ops[i]
        nxt = ops[i + 1] if i + 1 < len(ops) else None
        if op != EQUAL and nxt and nxt[0] == EQUAL and nxt[1][: len(words)] == words:
            rest = nxt[1][len(words) :]
            _append(out, EQUAL, words)
            _append(out, op, words)
            if rest:
                _append(out, EQUAL, rest)
            i += 2
            continue
        _append(out, op, words)
        i += 1
    return out


def _append(out: list[tuple[str, list[str]]], op: str, words: list[str]) -> None:
    if out and out[-1][0] == op:
        out[-1] = (op, out[-1][1] + words)
    else:
        out.append((op, words))


def stats(ops: list[tuple[str, list[str]]]) -> DiffStats:
    n = {EQUAL: 0, DELETE: 0, INSERT: 0}
    for op, words in ops:
        n[op] += len(words)
    return DiffStats(n[EQUAL] + n[DELETE], n[EQUAL] + n[INSERT], n[DELETE], n[INSERT])


def render_plain(ops: list[tuple[str, list[str]]]) -> str:
    parts: list[str] = []
    for op, words in ops:
        text = " ".join(words)
        parts.append(text if op == EQUAL else f"[-{text}-]" if op == DELETE else f"{{+{text}+}}")
    return " ".join(parts)


def render_rich(ops: list[tuple[str, list[str]]]) -> Text:
    out = Text()
    for i, (op, words) in enumerate(ops):
        if i:
            out.append(" ")
        style = {EQUAL: "", DELETE: "bold red strike", INSERT: "bold green"}[op]
        out.append(" ".join(words), style=style)
    return out
