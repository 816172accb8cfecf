"""The record shapes every step exchanges, and the rules LLaVA's loader relies on.

- context record (from coco.py / context sources): `id`, `image_id`, `image`, `width`, `height`,
  `captions`, `boxes` = [{"category", "bbox": [x1, y1, x2, y2] normalised}].
- LLaVA record (what trainers read): `id`, `image`, `conversations` = [{"from": "human"|"gpt", "value"}].
  `<image>` appears exactly once, in the first human turn, as `"<image>\\n" + q` or `q + "\\n<image>"`.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Literal

from datagen.errors import InputError

IMAGE_TOKEN = "<image>"
ImageTokenPlacement = Literal["first", "last", "random"]


def coco_id(image_id: int | str) -> str:
    """COCO image id as LLaVA writes it: zero-padded to 12 digits."""
    return f"{int(image_id):012d}"


def placement_rng(seed: int, sample_id: str) -> random.Random:
    """A per-sample RNG, so a sample's random choices do not depend on run order or sharding."""
    digest = hashlib.sha256(f"{seed}:{sample_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def place_image_token(question: str, placement: ImageTokenPlacement, rng: random.Random) -> str:
    """Attach `<image>` to the first question: before it, after it, or either at random."""
    if placement == "random":
        placement = "first" if rng.random() < 0.5 else "last"
    return f"{IMAGE_TOKEN}\n{question}" if placement == "first" else f"{question}\n{IMAGE_TOKEN}"


def make_conversations(
    pairs: list[tuple[str, str]], placement: ImageTokenPlacement, rng: random.Random
) -> list[dict[str, str]]:
    """Question/answer pairs → LLaVA turns with `<image>` in the first human turn only."""
    turns: list[dict[str, str]] = []
    for i, (q, a) in enumerate(pairs):
        turns.append({"from": "human", "value": place_image_token(q, placement, rng) if i == 0 else q})
        turns.append({"from": "gpt", "value": a})
    return turns


def llava_record_problems(rec: Any) -> list[str]:
    """Every way `rec` breaks LLaVA's training-loader rules (empty list means valid)."""
    problems: list[str] = []
    if not isinstance(rec, dict):
        return ["record is not an object"]
    for key in ("id", "conversations"):
        if key not in rec:
            problems.append(f"missing '{key}'")
    if "image" in rec and not isinstance(rec["image"], str):
        problems.append("'image' is not a string")
    conv = rec.get("conversations")
    if not isinstance(conv, list) or not conv:
        problems.append("'conversations' is empty or not a list")
        return problems
    images_seen = 0
    for i, turn in enumerate(conv):
        if (
            not isinstance(turn, dict)
            or set(turn) - {"from", "value"}
            or "from" not in turn
            or "value" not in turn
        ):
            problems.append(f"turn {i} is not {{from, value}}")
            continue
        expected = "human" if i % 2 == 0 else "gpt"
        if turn["from"] != expected:
            problems.append(f"turn {i} is from '{turn['from']}', expected '{expected}'")
        if not isinstance(turn["value"], str) or not turn["value"].strip():
            problems.append(f"turn {i} has an empty value")
            continue
        count = turn["value"].count(IMAGE_TOKEN)
        images_seen += count
        if count and i != 0:
            problems.append(f"turn {i} contains {IMAGE_TOKEN}; only the first human turn may")
    if len(conv) % 2:
        problems.append("conversation ends on a human turn")
    if "image" in rec and images_seen != 1:
        problems.append(f"{IMAGE_TOKEN} appears {images_seen} times, expected once")
    return problems


def check_llava_record(rec: Any, where: str) -> None:
    """Raise a one-line `InputError` naming `where` if `rec` is not a valid LLaVA record."""
    problems = llava_record_problems(rec)
    if problems:
        raise InputError(f"{where}: not a valid LLaVA record: {'; '.join(problems)}")
