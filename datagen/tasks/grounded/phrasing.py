"""Wording for grounded QA: several phrasings per question kind, picked with the caller's RNG.

The facts come from `datagen/tasks/grounded/questions.py`; this module only turns a fact into a question and an
answer sentence. Varied wording keeps a model trained on the data from keying on one template.
Left/right/above/below are always as seen in the image (the viewer's left), and the questions say so.
"""

from __future__ import annotations

import random

from datagen.tasks.grounded.nouns import Noun

Pair = tuple[str, str]
Asked = tuple[str, str, str]  # question, answer sentence, the exact short answer to the question as asked

_COUNT_Q = [
    "How many {plural} are there in the image?",
    "How many {plural} can you see in this picture?",
    "Count the {plural} in the image. How many are there?",
    "What is the number of {plural} visible here?",
    "How many {plural} does this photo show?",
]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def ask_count(n: Noun, count: int, rng: random.Random) -> Pair:
    q = rng.choice(_COUNT_Q).format(plural=n.plural)
    verb = "is" if count == 1 else "are"
    a = rng.choice(
        [
            f"There {verb} {n.counted(count)} in the image.",
            f"{count}.",
            f"I can see {n.counted(count)}.",
            f"The picture shows {n.counted(count)}.",
        ]
    )
    return q, a


_EXISTS_Q = [
    "Is there {a} in the image?",
    "Are there any {plural} in this picture?",
    "Can you see {a} anywhere in the image?",
    "Does this image contain {a}?",
    "Is {a} visible in the photo?",
]


def ask_exists(n: Noun, several: bool, rng: random.Random) -> Pair:
    q = rng.choice(_EXISTS_Q).format(a=n.with_article, plural=n.plural)
    what = n.plural if several else n.with_article
    verb = "are" if several else "is"
    a = rng.choice(
        [
            f"Yes, there {verb} {what} in the image.",
            "Yes.",
            f"Yes, the picture contains {what}.",
            f"Yes, I can see {what}.",
        ]
    )
    return q, a


def ask_absent(n: Noun, rng: random.Random) -> Pair:
    q = rng.choice(_EXISTS_Q).format(a=n.with_article, plural=n.plural)
    a = rng.choice(
        [
            f"No, there are no {n.plural} in the image.",
            "No.",
            f"No, the picture does not contain any {n.plural}.",
            f"No, I cannot see any {n.plural}.",
        ]
    )
    return q, a


_SIDE = {"left": "to the left of", "right": "to the right of", "above": "above", "below": "below"}


def ask_relation(first: Noun, second: Noun, true: str, opposite: str, rng: random.Random) -> Asked:
    """`true` is where `first` is relative to `second` ("left", "right", "above" or "below").

    The third item is the short answer the question asks for: the side word (either/or), "yes"/"no"
    (yes/no) or the object on the asked side ("which one"), which RL exports check replies against."""
    a_, b_ = f"the {first.singular}", f"the {second.singular}"
    fact = f"{_cap(a_)} is {_SIDE[true]} {b_}."
    horizontal = true in ("left", "right")
    style = rng.randrange(3)
    if style == 0:  # either/or
        choices = "to the left or to the right of" if horizontal else "above or below"
        return f"In the image, is {a_} {choices} {b_}?", fact, true
    if style == 1:  # yes/no, asking about the true side or the opposite one
        asked = true if rng.random() < 0.5 else opposite
        q = f"As seen in the picture, is {a_} {_SIDE[asked]} {b_}?"
        return (q, f"Yes. {fact}", "yes") if asked == true else (q, f"No. {fact}", "no")
    # "which one" question, answered with the object that is on the asked side
    side = rng.choice([true, opposite])
    on_side = a_ if side == true else b_
    word = {"left": "further left", "right": "further right", "above": "higher up", "below": "lower down"}
    return (
        f"Which is {word[side]} in the image, {a_} or {b_}?",
        f"{_cap(on_side)} is {word[side]}. {fact}",
        (first if side == true else second).singular,
    )


_REGION_Q = [
    "What is the object in the region {box}?",
    "Which kind of object is inside the box {box}?",
    "Name the object located at {box}.",
    "What can be seen in the area {box} of the image?",
]
COORDS_NOTE = " (Coordinates are [x1, y1, x2, y2] as fractions of the image width and height.)"


def ask_region(n: Noun, box: str, rng: random.Random) -> Pair:
    q = rng.choice(_REGION_Q).format(box=box)
    if rng.random() < 0.5:
        q += COORDS_NOTE
    a = rng.choice(
        [f"It is {n.with_article}.", f"{_cap(n.with_article)}.", f"That region shows {n.with_article}."]
    )
    return q, a


_LOCATE_Q = [
    "Where is the {s} in the image? Give its bounding box.",
    "Give the bounding box of the {s}.",
    "Locate the {s} and answer with its box coordinates.",
    "What are the bounding box coordinates of the {s}?",
]


def ask_locate(n: Noun, box: str, rng: random.Random) -> Pair:
    q = rng.choice(_LOCATE_Q).format(s=n.singular)
    if rng.random() < 0.5:
        q += COORDS_NOTE
    a = rng.choice([box, f"The {n.singular} is at {box}.", f"Its bounding box is {box}."])
    return q, a
