"""`dense_caption` and `visual_conversation`: LLaVA's detail and conversation tasks asked of a
vision-language model that sees the image, with the captions (and boxes) as hints.

- `dense_caption`: a long, grounded description in the style ShareGPT4V collected from GPT-4V.
  It is a detail description in shape (the question is drawn from our own instruction list, the
  reply is prose, the same parser and JSON format), with two filters on by default that the
  text-only task leaves optional or lacks: `hallucination` (no COCO object the annotations do not
  have) and `hint_talk` (no talk about "the hints" the prompt calls them).
- `visual_conversation`: LLaVA's multi-turn conversation (same reply format, same parser, same
  filters), with a system message that tells the model it sees the photograph.

Both refuse a run without images (`needs_images`): their prompts speak of a picture.
"""

from __future__ import annotations

import re

from datagen.tasks.base import FilterFn, Job, QAPairs
from datagen.tasks.llava.task import ConversationTask, DetailDescriptionTask
from datagen.tasks.neardup import NEAR_DUPLICATE

HINT_TALK = "hint_talk"
# "the hints", "these hints", "hints provided"; not "a hint of red" or "the hint of a smile".
_HINT_RE = re.compile(
    r"\b(?:the|these|those|given|provided|your|my) hints?\b(?! of)"
    r"|\bhints? (?:given|provided|say|says|mention|mentions|list|lists|suggest|suggests)\b"
    r"|\b(?:listed|marked) objects\b|\bthe object list\b",
    re.I,
)


def hint_talk(pairs: QAPairs, job: Job) -> str | None:
    """Reject an answer that talks about the hints instead of the picture."""
    for i, (_q, answer) in enumerate(pairs, start=1):
        m = _HINT_RE.search(answer)
        if m:
            return f"turn {i} answer talks about the hints ('{m.group(0)}')"
    return None


class DenseCaptionTask(DetailDescriptionTask):
    name = "dense_caption"
    needs_images = True
    optional_filters: tuple[str, ...] = (NEAR_DUPLICATE,)  # hallucination runs unless --no-filter

    def filters(self) -> list[tuple[str, FilterFn]]:
        return [*super().filters(), (HINT_TALK, hint_talk)]


class VisualConversationTask(ConversationTask):
    name = "visual_conversation"
    needs_images = True
