"""CC3M selection pinned by hand-computed examples (phrase sets injected directly, no spaCy)."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from datagen.cc3m.nounphrases import normalise, phrase_set
from datagen.cc3m.select import select_pool, select_pool_reference

# Twelve captions' phrase sets. freq: dog 5 (rows 0,1,2,6,11), cat 3 (3,4,11), ball 2 (2,7),
# lamp 2 (8,9), sofa 2 (4,8); park, bird, beach, tree 1 each.
HAND = {
    0: ["dog", "park"],
    1: ["dog"],
    2: ["ball", "dog"],
    3: ["cat"],
    4: ["cat", "sofa"],
    5: ["bird"],
    6: ["beach", "dog"],
    7: ["ball"],
    8: ["lamp", "sofa"],
    9: ["lamp"],
    10: ["tree"],
    11: ["cat", "dog"],
}


def _fast(sets: dict[int, list[str]], **kw) -> list[int]:
    rows = np.array(sorted(sets), dtype=np.int64)
    phrases = pa.array([sets[r] for r in sorted(sets)], pa.list_(pa.string()))
    return select_pool(rows, phrases, **kw).pool.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 42])
def test_hand_example_sample_from_all(seed):
    # min_freq 2 keeps ball, lamp, sofa (2), cat (3), dog (5), visited in that (freq, phrase) order.
    # ball, lamp, sofa and cat add all their rows: {2,7} {8,9} {4,8} {3,4,11}. dog has 5 > 3 captions:
    # the RNG's first and only draw is rng.sample([0, 1, 2, 6, 11], 3). Rows 5 and 10 hold only
    # phrases seen once and can never be picked.
    expected = {2, 7, 8, 9, 4, 3, 11} | set(random.Random(seed).sample([0, 1, 2, 6, 11], 3))
    kw = dict(min_freq=2, max_per_phrase=3, seed=seed)
    assert _fast(HAND, **kw) == sorted(expected)
    assert select_pool_reference(HAND, **kw) == sorted(expected)


def test_hand_example_sample_from_remaining():
    # Before dog is visited the pool is {2,3,4,7,8,9,11}; dog's remaining captions are [0, 1, 6], not
    # more than 3, so all are added without touching the RNG: everything but rows 5 and 10.
    kw = dict(min_freq=2, max_per_phrase=3, sample_from="remaining")
    for seed in (0, 1, 2):
        assert _fast(HAND, seed=seed, **kw) == [0, 1, 2, 3, 4, 6, 7, 8, 9, 11]
        assert select_pool_reference(HAND, seed=seed, **kw) == [0, 1, 2, 3, 4, 6, 7, 8, 9, 11]


def test_min_freq_boundary_and_stats():
    sel = select_pool(
        np.array(sorted(HAND)), pa.array([HAND[r] for r in sorted(HAND)]), min_freq=3, max_per_phrase=100
    )
    # Only cat (3) and dog (5) reach 3; nothing is capped; pool = their rows.
    assert sel.pool.tolist() == [0, 1, 2, 3, 4, 6, 11]
    assert (sel.unique_phrases, sel.kept_phrases, sel.sampled_phrases) == (9, 2, 0)
    assert sel.hist_before == {1: 4, 2: 3, 3: 1, 5: 1}
    # Counted over the pooled rows only: dog 5, cat 3, ball 1 (row 2), sofa 1 (row 4), park 1, beach 1.
    assert sel.hist_after == {1: 4, 3: 1, 5: 1}
    assert sel.pool_phrases == 6


def test_visit_order_decides_rng_consumption():
    # Two capped phrases with equal freq: "x" is visited before "y" (ties broken by the phrase), so x
    # takes the RNG's first draw. Rows are deliberately listed so that row order and phrase order differ.
    sets = {0: ["y"], 1: ["y"], 2: ["y"], 3: ["x"], 4: ["x"], 5: ["x"]}
    for seed in range(10):
        rng = random.Random(seed)
        expected = sorted(rng.sample([3, 4, 5], 1) + rng.sample([0, 1, 2], 1))
        assert _fast(sets, min_freq=1, max_per_phrase=1, seed=seed) == expected
        assert select_pool_reference(sets, min_freq=1, max_per_phrase=1, seed=seed) == expected


def test_lower_freq_phrases_visited_first():
    # "rare" (freq 2) is visited before "common" (freq 3) even though it sorts after it.
    sets = {0: ["common"], 1: ["common"], 2: ["common", "zz rare"], 3: ["zz rare"]}
    rng = random.Random(5)
    first = rng.sample([2, 3], 1)
    second = rng.sample([0, 1, 2], 1)
    assert _fast(sets, min_freq=1, max_per_phrase=1, seed=5) == sorted(set(first + second))


def test_duplicate_phrases_in_a_set_count_once():
    sets = {0: ["a b", "a b"], 1: ["a b"], 2: ["c"]}
    sel = select_pool(np.array([0, 1, 2]), pa.array([sets[0], sets[1], sets[2]]), min_freq=2)
    assert sel.pool.tolist() == [0, 1]
    assert sel.hist_before == {1: 1, 2: 1}


def test_empty_input():
    sel = select_pool(np.array([], dtype=np.int64), pa.array([], pa.list_(pa.string())))
    assert sel.pool.tolist() == [] and sel.unique_phrases == 0


def test_non_ascii_phrases_sort_like_python():
    # Arrow's byte order must equal Python's str order for the (freq, p) tie-break, also beyond ASCII.
    words = ["zebra", "éclair", "Ωmega", "apple", "ürchin", "東京", "emoji 🙂"]
    sets = {i: [w] for i, w in enumerate(words)}
    for seed in range(5):
        assert _fast(sets, min_freq=1, max_per_phrase=1, seed=seed) == select_pool_reference(
            sets, min_freq=1, max_per_phrase=1, seed=seed
        )


@pytest.mark.parametrize(
    "chunk,expected",
    [
        ("The  Dog", "dog"),
        ("their new house", "new house"),
        ("An\told\nman", "old man"),
        ("its", ""),
        ("all the people", "all the people"),
        ("the the cat", "the cat"),
        ("Those", ""),
        ("HER  Majesty's   ship", "majesty's ship"),
        ("theatre", "theatre"),
    ],
)
def test_normalise(chunk, expected):
    assert normalise(chunk) == expected


def test_phrase_set_drops_empty_and_dedups():
    assert phrase_set(["The cat", "a cat", "its", "A  Tree"]) == ["cat", "tree"]


def test_row_order_of_the_input_does_not_matter():
    # The fast path assumes ascending rows (what the cache gives) and falls back to a two-key sort.
    order = [11, 3, 0, 7, 5, 9, 1, 10, 2, 8, 6, 4]
    rows = np.array(order, dtype=np.int64)
    phrases = pa.array([HAND[r] for r in order], pa.list_(pa.string()))
    for seed in range(4):
        kw = dict(min_freq=2, max_per_phrase=3, seed=seed)
        assert select_pool(rows, phrases, **kw).pool.tolist() == _fast(HAND, **kw)
