"""Realistic flawed descriptions of the three real COCO val2017 images in coco-mini, and the clean
rewrites a good model returns, for the caption_rewrite tests (written for these tests, from the
images' own COCO captions)."""

from __future__ import annotations

FLAWED = {
    "000000126107": (
        "A large white seagull is flying low over a sandy beach. A large white seagull is flying low over "
        "a sandy beach. Its wings are spread wide ~~~ and its feet hang below its body. 海鸥在沙滩上飞。 "
        "In the distance a few people stand near a small boat at the edge of the water, and the sky is"
    ),
    "000000165518": (
        "A man is riding a motorcycle along a road on a foggy night. The headlight of the motorcycle "
        "shines through the fog fog fog. The rider wears dark clothes and a helmet. The rider wears dark "
        "clothes and a helmet. \\n\\n<unk> The road is wet and the trees beside it are hard to see."
    ),
    "000000229358": (
        "A man wearing a shirt and tie stands in a bathroom and looks at himself in the mirror above the "
        "sink. He holds a small object in one hand, perhaps a phone or a razor. A cup and a bottle sit on "
        "the counter next to the sink."
    ),
}
FIXED = {
    "000000126107": (
        "A large white seagull is flying low over a sandy beach. Its wings are spread wide, and its feet "
        "hang below its body. In the distance a few people stand near a small boat at the edge of the water."
    ),
    "000000165518": (
        "A man is riding a motorcycle along a road on a foggy night. The headlight of the motorcycle shines "
        "through the fog. The rider wears dark clothes and a helmet. The road is wet and the trees beside it "
        "are hard to see."
    ),
    # already clean: a good model returns it unchanged
    "000000229358": FLAWED["000000229358"],
}
REAL_IDS = list(FLAWED)
