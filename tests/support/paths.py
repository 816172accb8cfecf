"""Where things are: the repository root, the tests folder, and the shared real-data samples."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"


def find_shared_data() -> Path | None:
    """`shared/data` (real COCO-mini and CC3M samples): $DATAGEN_SHARED_DATA, else beside a parent of the repo.

    `../shared/data` (beside the clone, read-only in CI) holds the samples; we walk up from the
    repository root to find it, so worktrees and CI clones both work.
    """
    env = os.environ.get("DATAGEN_SHARED_DATA")
    if env and Path(env).is_dir():
        return Path(env)
    for parent in [REPO, *REPO.parents]:
        candidate = parent / "shared" / "data"
        if (candidate / "coco").is_dir():
            return candidate
    return None
