"""The object-mention matcher shared by `datagen audit` and the `hallucination` filter: plurals,
synonyms, multi-word names, "hot dog" vs "dog", modifiers, negation and count claims."""

from __future__ import annotations

import pytest

from datagen.tasks.grounded.nouns import COCO_CATEGORIES
from datagen.tasks.objects.mentions import find_mentions, named_categories
from datagen.tasks.objects.synonyms import check_table, phrase_table


def cats(text: str) -> dict[str, list[str]]:
    return named_categories(text)


def test_every_coco_category_has_entries_and_nothing_else() -> None:
    check_table()
    assert {c for c, _ in phrase_table().values()} == set(COCO_CATEGORIES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Three giraffes and a zebra.", {"giraffe": ["giraffes"], "zebra": ["zebra"]}),
        ("A man, two women and several children.", {"person": ["man", "women", "children"]}),
        ("The puppy chews a cellphone.", {"dog": ["puppy"], "cell phone": ["cellphone"]}),
        ("He eats a hot dog.", {"hot dog": ["hot dog"]}),
        ("A hot-dog stand next to the dogs.", {"hot dog": ["hot dog"], "dog": ["dogs"]}),
        ("A teddy bear on the bed.", {"teddy bear": ["teddy bear"], "bed": ["bed"]}),
        (
            "Knives, forks and wine glasses.",
            {"knife": ["knives"], "fork": ["forks"], "wine glass": ["wine glasses"]},
        ),
        (
            "Sheep graze; mice hide under the sofa.",
            {"sheep": ["sheep"], "mouse": ["mice"], "couch": ["sofa"]},
        ),
        (
            "A traffic light over a fire hydrant.",
            {"traffic light": ["traffic light"], "fire hydrant": ["fire hydrant"]},
        ),
        ("People wait at the bus stop.", {"person": ["people"]}),
        ("A roll of toilet paper.", {}),
        (
            "A man in an orange shirt holds an orange and a remote.",
            {"person": ["man"], "orange": ["orange"], "remote": ["remote"]},
        ),
        ("A double-decker bus.", {"bus": ["double decker", "bus"]}),
        ("The dog's tail wags.", {"dog": ["dog"]}),
    ],
)
def test_words_map_to_categories(text: str, expected: dict[str, list[str]]) -> None:
    assert cats(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "There is no dog in the image.",
        "There are no dogs or cats.",
        "I don't see a dog.",
        "I can\u2019t see any dog here.",
        "The picture does not contain any dogs.",
        "No, I cannot see any dogs.",
        "The dog is not visible.",
        "The dogs are nowhere to be seen.",
        "A park without a single dog.",
        "Neither a dog nor a cat is present.",
    ],
)
def test_negated_mentions_are_not_claims(text: str) -> None:
    found = find_mentions(text)
    assert found and all(m.negated for m in found), found
    assert cats(text) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No, there is a dog on the sofa.", {"dog", "couch"}),  # the comma ends the negation
        ("There is no cat, but a dog sleeps.", {"dog"}),
        ("Not only a dog but also a horse.", {"dog", "horse"}),
        ("The dog does not bark.", {"dog"}),  # "not" after the mention, but not about being there
        ("No doubt the dog is happy.", {"dog"}),
    ],
)
def test_negation_scope_ends_where_the_clause_does(text: str, expected: set[str]) -> None:
    assert set(cats(text)) == expected


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Three giraffes stand by a tree.", 3),
        ("two small white dogs", 2),
        ("There are 12 sheep.", 12),
        ("at least two dogs", None),
        ("two or three dogs", None),
        ("one dog runs", None),
        ("two of the dogs", None),
        ("a dog", None),
    ],
)
def test_count_claims(text: str, count: int | None) -> None:
    (mention,) = find_mentions(text)
    assert mention.number == count
