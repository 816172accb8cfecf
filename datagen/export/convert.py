"""One LLaVA record → one record of each trainer's format (no I/O, no image handling).

LLaVA marks the image with a literal `<image>` line at the start or end of the first question.
LLaMA-Factory keeps that token in the text (one per image); TRL and the_cauldron carry the image
as a separate content block / column, so the token and its line break are removed from the text
and, for TRL, the image block is put where the token was (before or after the question).
"""

from __future__ import annotations

from typing import Any, Literal

from datagen.records import IMAGE_TOKEN

ROLES = {"human": "user", "gpt": "assistant"}


def split_image_token(text: str) -> tuple[str, Literal["first", "last"] | None]:
    """`("question", where)` with the `<image>` token (and its newline) removed; where = None if absent."""
    if IMAGE_TOKEN not in text:
        return text, None
    head, _, tail = text.partition(IMAGE_TOKEN)
    where: Literal["first", "last"] = "first" if not head.strip() else "last"
    return (head + tail).strip(), where


def pairs(rec: dict[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) pairs of a validated record, the question still holding any `<image>`."""
    conv = rec["conversations"]
    return [(conv[i]["value"], conv[i + 1]["value"]) for i in range(0, len(conv) - 1, 2)]


def to_llama_factory(rec: dict[str, Any], image: str | None) -> dict[str, Any]:
    """Sharegpt-style `messages` + `images`; `<image>` stays in the text, once per listed image."""
    messages = [{"role": ROLES[t["from"]], "content": t["value"]} for t in rec["conversations"]]
    return {"messages": messages, "images": [image] if image is not None else []}


def to_trl(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """TRL vision SFT `messages`: content lists of {"type": "text", "text"} and {"type": "image"} blocks."""
    messages = []
    for t in rec["conversations"]:
        text, where = split_image_token(t["value"])
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if where == "first":
            content.insert(0, {"type": "image", "text": None})
        elif where == "last":
            content.append({"type": "image", "text": None})
        messages.append({"role": ROLES[t["from"]], "content": content})
    return messages


def to_cauldron(rec: dict[str, Any], source: str) -> list[dict[str, str]]:
    """the_cauldron `texts`: one {user, assistant, source} per round, image token removed."""
    return [{"user": split_image_token(q)[0], "assistant": a, "source": source} for q, a in pairs(rec)]
