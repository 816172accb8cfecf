"""MinHash signatures for near-duplicates: computed in batches with numpy, equal to datasketch's own
affine32 MinHash of the same shingles, and estimating Jaccard similarity as MinHash should."""

from __future__ import annotations

import random

import numpy as np
import pytest

from datagen.errors import UsageError
from datagen.tasks.neardup import MinHashSpec, Signer, similarity
from datagen.tasks.objects.mentions import tokenize

datasketch = pytest.importorskip("datasketch")


def test_batch_signatures_equal_datasketch() -> None:
    signer = Signer(MinHashSpec(num_perm=64))
    rng = random.Random(3)
    words = [
        "a",
        "man",
        "dog",
        "rides",
        "on",
        "the",
        "beach",
        "red",
        "blue",
        "sky",
        "over",
        "near",
        "with",
        "and",
    ]
    texts = [" ".join(rng.choice(words) for _ in range(rng.randrange(1, 60))) for _ in range(40)] + ["hi"]
    shingles = [signer.shingle_hashes(signer.ids(tokenize(t))) for t in texts]
    ours = signer.signatures(shingles)
    for row, sh in zip(ours, shingles, strict=True):
        m = datasketch.MinHash(num_perm=64, seed=1, scheme="affine32", hashfunc=lambda x: x)
        m.update_batch([int(v) for v in sh])
        assert np.array_equal(m.hashvalues, row)


def test_similarity_tracks_jaccard() -> None:
    signer = Signer(MinHashSpec(shingle=1, num_perm=256))
    a = [f"w{i}" for i in range(200)]
    b = a[:150] + [f"x{i}" for i in range(50)]  # Jaccard 150 / 250 = 0.6
    sa, sb = (signer.signatures([signer.shingle_hashes(signer.ids(t))])[0] for t in (a, b))
    assert abs(similarity(sa, sb) - 0.6) < 0.08


def test_bad_settings() -> None:
    with pytest.raises(UsageError, match="threshold"):
        MinHashSpec(threshold=0).check()
    with pytest.raises(UsageError, match="shingle"):
        MinHashSpec(shingle=0).check()
