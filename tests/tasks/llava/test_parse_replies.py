"""Reply parsers: the three LLaVA reply shapes, the drift models show, and every malformed shape."""

from __future__ import annotations

from collections import Counter

import pytest
from support.paths import REPO

from datagen.errors import InputError, ParseError
from datagen.prompts.instructions import load_instructions, pick_instruction
from datagen.tasks.llava.replies import parse_complex_reasoning, parse_conversation, parse_detail

CANONICAL = """Question:
What is the man holding?
===
Answer:
The man is holding a red umbrella above his head.
===
Question:
Where is he standing?
===
Answer:
He is standing on a wet sidewalk next to a row of parked cars.

The street looks busy."""

EXPECTED = [
    ("What is the man holding?", "The man is holding a red umbrella above his head."),
    (
        "Where is he standing?",
        "He is standing on a wet sidewalk next to a row of parked cars.\n\nThe street looks busy.",
    ),
]


def test_canonical_conversation():
    assert parse_conversation(CANONICAL) == EXPECTED


@pytest.mark.parametrize(
    "variant",
    [
        CANONICAL.replace("\n", "\r\n"),  # CRLF
        CANONICAL + "\n===\n",  # trailing separator
        CANONICAL.replace("===", "  =====  "),  # longer separators, extra spaces
        CANONICAL.replace("Question:", "Q:").replace("Answer:", "A:"),
        CANONICAL.replace("Question:", "**Question:**").replace("Answer:", "**Answer:**"),
        CANONICAL.replace("Question:", "**Question**:").replace("Answer:", "__Answer__ :"),
        CANONICAL.replace("Question:", "- Question :").replace("Answer:", "- Answer :"),
        CANONICAL.replace("Question:", "### Question:").replace("Answer:", "### Answer:"),
        CANONICAL.replace("===\n", ""),  # no separators at all
        "Here is the conversation:\n\n" + CANONICAL,  # short lead-in
    ],
)
def test_format_drift_is_tolerated(variant):
    assert parse_conversation(variant) == EXPECTED


def test_text_on_label_line_numbering_and_bold_lines():
    reply = (
        "1. **Q1: What is the man holding?**\n"
        "   A1: The man is holding a red umbrella above his head.\n"
        "===\n"
        "2. Question 2: Where is he standing?\n"
        "Answer 2: He is standing on a wet sidewalk next to a row of parked cars.\n"
        "\n"
        "The street looks busy.\n"
        "---\n"
    )
    assert parse_conversation(reply) == EXPECTED


def test_question_and_answer_on_one_line():
    reply = (
        "1. Q: What is the man holding? A: The man is holding a red umbrella above his head.\n"
        "2. **Q:** Where is he standing? **A:** He is standing on a wet sidewalk next to a row of parked cars.\n"
        "\n"
        "The street looks busy.\n"
    )
    assert parse_conversation(reply) == EXPECTED
    # an answer that itself contains "A:" after a question mark is not cut
    reply = "Question:\nWhat does the sign say?\n===\nAnswer:\nIt asks: Open? A: Yes, the shop is open."
    assert parse_conversation(reply)[0][1] == "It asks: Open? A: Yes, the shop is open."


def test_lists_inside_answers_survive():
    reply = "Question:\nWhat is on the table?\n===\nAnswer:\nThere are:\n- two cups\n- a plate of food\n1. first\n"
    assert parse_conversation(reply) == [
        ("What is on the table?", "There are:\n- two cups\n- a plate of food\n1. first")
    ]


@pytest.mark.parametrize(
    "reply, reason",
    [
        ("", "empty reply"),
        ("   \n\n", "empty reply"),
        ("The image shows a man with an umbrella.", "no 'Question:'/'Answer:' labels"),
        ("Answer:\nYes.\n===\nQuestion:\nWhy?", "turn 1: expected a 'Question:' block"),
        ("Question:\nWhat?\n===\nQuestion:\nWhy?\n===\nAnswer:\nOk.", "turn 1: two 'Question:' blocks"),
        (
            "Question:\nWhat is it?\n===\nAnswer:\nA cat.\n===\nQuestion:\nWhere?",
            "turn 2: question has no answer",
        ),
        ("Question:\n\n===\nAnswer:\nA cat.", "turn 1: empty question"),
        ("Question:\nWhat is it?\n===\nAnswer:\n===\n", "turn 1: empty answer"),
        ("Line one.\nLine two.\nLine three.\nQuestion: a?\nAnswer: b.", "3 lines of unlabelled text"),
    ],
)
def test_malformed_conversations_raise_precise_reasons(reply, reason):
    with pytest.raises(ParseError) as err:
        parse_conversation(reply)
    assert reason in str(err.value)


def test_complex_reasoning_exactly_one_pair():
    reply = (
        "Question:\nWhy might the people in the image be carrying umbrellas?\n===\n"
        "Answer:\nThe pavement is wet and the sky is overcast, so it is likely raining."
    )
    assert parse_complex_reasoning(reply) == [
        (
            "Why might the people in the image be carrying umbrellas?",
            "The pavement is wet and the sky is overcast, so it is likely raining.",
        )
    ]
    with pytest.raises(ParseError, match="exactly one question/answer pair, found 2"):
        parse_complex_reasoning(CANONICAL)


def test_detail_pairs_prose_with_question():
    prose = "A man walks along a rainy street holding a red umbrella.\n\nCars line the curb."
    assert parse_detail(prose + "\r\n", "Describe it.") == [("Describe it.", prose)]
    assert parse_detail("**Description:** " + prose, "Q") == [("Q", prose)]
    assert parse_detail("Sure! Here is a detailed description:\n\n" + prose, "Q") == [("Q", prose)]
    # a description that merely starts with "Sure" is kept whole
    assert parse_detail("Sure enough, the street is wet.", "Q") == [("Q", "Sure enough, the street is wet.")]
    with pytest.raises(ParseError, match="empty reply"):
        parse_detail("  \n ", "Q")
    with pytest.raises(ParseError, match="prose description"):
        parse_detail("Question: what?\nAnswer: that.", "Q")


def test_bundled_instruction_list_and_seeded_pick(tmp_path):
    items = load_instructions(REPO / "templates" / "detail_description" / "instructions.txt")
    assert len(items) >= 10 and len(set(items)) == len(items)
    assert all(not i.startswith("#") for i in items)
    picks = [pick_instruction(items, 3, f"{i:012d}:detail_description") for i in range(300)]
    assert picks == [pick_instruction(items, 3, f"{i:012d}:detail_description") for i in range(300)]
    assert len(Counter(picks)) == len(items)  # every phrasing gets used
    assert picks != [pick_instruction(items, 4, f"{i:012d}:detail_description") for i in range(300)]

    custom = tmp_path / "mine.txt"
    custom.write_text("\ufeffDescribe the image.\n\n# comment\nTell me everything.\r\n", encoding="utf-8")
    assert load_instructions(custom) == ["Describe the image.", "Tell me everything."]


@pytest.mark.parametrize("content", [None, "", "# only a comment\n\n", b"\xff\xfe bad"])
def test_bad_instruction_lists(tmp_path, content):
    p = tmp_path / "list.txt"
    if isinstance(content, bytes):
        p.write_bytes(content)
    elif content is not None:
        p.write_text(content)
    with pytest.raises(InputError) as err:
        load_instructions(p)
    assert str(p) in str(err.value)
