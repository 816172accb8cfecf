"""The caption_rewrite rule filters on realistic replies, and no false alarms on real COCO captions."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from datagen.tasks.rewrite import filters as rf
from datagen.tasks.rewrite.task import clean_reply

CLEAN = (
    "A man rides a motorcycle down a foggy road. The rider wears dark clothes, and the headlight of the "
    "bike glows through the mist. Trees line both sides of the road and fade into the gray background."
)
FLAWED = (
    "A man rides a motorcycle down a foggy road. A man rides a motorcycle down a foggy road. The rider "
    "wears dark clothes ## and the headlight glows. 这是一辆摩托车。 Trees line both sides of the road and"
)


@pytest.mark.parametrize(
    "reply",
    [
        "Here is the corrected paragraph:\n\n" + CLEAN,
        "Here's the revised text: " + CLEAN,
        "Sure! " + CLEAN,
        "Certainly, here you go. " + CLEAN,
        "Corrected paragraph: " + CLEAN,
        "The corrected version: " + CLEAN,
        "I have removed the repeated sentences. " + CLEAN,
        CLEAN + "\n\nNote: I removed the non-English sentence and the stray symbols.",
        CLEAN + " (Changes: removed a duplicate.)",
    ],
)
def test_preamble_rejects_talk_about_the_task(reply: str) -> None:
    assert rf.preamble(reply) is not None


@pytest.mark.parametrize(
    "reply",
    [
        "I'm sorry, but I can't help with that request.",
        "As an AI language model, I cannot see images.",
        "I apologize, the paragraph is too garbled to fix.",
        "I am unable to correct this text.",
    ],
)
def test_apology_rejects_refusals(reply: str) -> None:
    assert rf.apology(reply) is not None


def test_clean_paragraphs_pass_every_filter() -> None:
    for text in (
        CLEAN,
        "Here, a small kitchen with yellow walls is shown. Sure-footed goats climb the rocks behind it.",
        "Okapi and zebra graze together in a café garden near the river.",
        # used to be rejected: "Sure enough" read as a preamble; terse prose as not English (6%)
        "Sure enough, the cat has knocked the vase off the table.",
        "Two giraffes stand near tall trees. Sunlight filters through leaves, casting dappled shadows "
        "across dry grass.",
    ):
        for fn in (rf.preamble, rf.apology, rf.repeats, rf.not_english, rf.cut_off):
            assert fn(text) is None, (fn.__name__, text)
        assert rf.lost_content(text, text, 0.5) is None


def test_repeats_ignores_case_and_punctuation() -> None:
    assert rf.repeats("A dog sits on a couch. The room is dark. a dog sits on a couch!") == (
        "repeats the sentence 'a dog sits on a couch!'"
    )
    assert rf.repeats("It is red. It is red.") == "repeats the sentence 'It is red.'"
    assert rf.repeats(CLEAN) is None
    assert (
        rf.repeats("The headlight shines through the fog fog fog.")
        == "repeats words back to back: 'fog fog fog'"
    )
    assert rf.repeats("A stove is on the right side of the side of the room.") == (
        "repeats words back to back: 'side of the side of the'"
    )
    assert rf.repeats("What it had had was a very very old bike.") is None


def test_not_english_catches_scripts_and_other_languages() -> None:
    assert rf.not_english(CLEAN + " 这是一辆摩托车。") == "contains non-English text '这是'"
    assert rf.not_english("Мотоцикл едет по дороге.") is not None
    french = "Un homme conduit une moto sur une route brumeuse pendant que les arbres disparaissent dans le brouillard."
    assert "English function words" in (rf.not_english(french) or "")


def test_cut_off_needs_final_punctuation() -> None:
    assert (rf.cut_off(FLAWED) or "").endswith("Trees line both sides of the road and'")
    assert rf.cut_off(CLEAN + "  \n") is None
    assert rf.cut_off('He said "stop."') is None


def test_lost_content_measures_kept_content_words() -> None:
    # The source says the same sentence four times: a faithful rewrite keeps it once, and that is fine.
    source = " ".join(["A red bus drives down a busy city street past tall buildings."] * 4) + " " + CLEAN
    faithful = "A red bus drives down a busy city street past tall buildings. " + CLEAN
    assert rf.lost_content(faithful, source, 0.5) is None
    wanted = rf.content_words(source)
    short = "A man rode a motorcycle."
    kept = {wanted[s] for s in wanted.keys() & rf.content_words(short).keys()}
    assert kept == {"man", "motorcycle"}  # "a" is not content; "rode" is not "rides" (no real stemmer)
    reason = rf.lost_content(short, source, 0.5) or ""
    assert reason.startswith(
        f"kept {len(kept) / len(wanted):.0%} of the source's content words (minimum 50%); lost: "
    )
    assert "lost: red, bus, drives, busy, city and 21 more" in reason
    # As long as the source, but about something else: a length ratio passed it, overlap does not.
    unrelated = " ".join(["A green boat floats on a calm lake under a wide grey sky."] * 6)
    assert len(unrelated.split()) >= len(faithful.split())
    assert (rf.lost_content(unrelated, source, 0.5) or "").startswith("kept 0% of the source's content words")
    # Grammar fixed and repeats dropped, every content word kept: not a loss.
    assert rf.lost_content("The buses drive down the busy city's streets past tall horses.",
                           "bus drives down busy cities street past tall horse bus bus", 1.0) is None  # fmt: skip


def test_clean_reply_unwraps_quotes_and_fences() -> None:
    assert clean_reply(f'  "{CLEAN}"  ') == CLEAN
    assert clean_reply(f"```text\n{CLEAN}\n```") == CLEAN
    assert clean_reply(f"```\n{CLEAN}\n```") == CLEAN
    quoted_inside = '"Stop," the sign says. The street is "quiet".'
    assert clean_reply(quoted_inside) == quoted_inside


def test_no_false_alarms_on_real_coco_captions(coco_mini: Path) -> None:
    """Real human captions, joined per image into a paragraph, are clean English: no filter fires
    except `repeats` where annotators really wrote the same sentence twice."""
    data = json.loads((coco_mini / "annotations" / "captions_train2017.json").read_text())
    per_image: dict[int, list[str]] = defaultdict(list)
    for ann in data["annotations"]:
        cap = ann["caption"].strip()
        per_image[ann["image_id"]].append(cap if cap.endswith(".") else cap + ".")
    assert len(per_image) == 80
    fired = []
    for caps in per_image.values():
        paragraph = " ".join(caps)
        for fn in (rf.preamble, rf.apology, rf.not_english, rf.cut_off):
            if fn(paragraph):
                fired.append((fn.__name__, paragraph))
    assert fired == []
