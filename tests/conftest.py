"""Shared fixtures: where the real sample data lives, and the loopback model server.

`../shared/data` (beside the clone, read-only in CI) holds the real COCO-mini and CC3M samples; we
walk up from the repository root to find it (`support.paths.find_shared_data`), so worktrees and CI
clones both work. Tests that only need a few images fall back to the attributed copy bundled in `data/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.paths import REPO, find_shared_data


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`shared/data` with the real COCO-mini and CC3M samples (skips only if truly absent)."""
    found = find_shared_data()
    if found is None:
        pytest.skip("shared/data (real COCO/CC3M samples) not found beside the repository")
    return found


@pytest.fixture(scope="session")
def coco_mini(shared_data: Path) -> Path:
    """Folder with `annotations/{captions,instances}_{train,val}2017.json` and `val2017/*.jpg`."""
    return shared_data / "coco" / "coco-mini"


@pytest.fixture(scope="session")
def cc3m_tsv(shared_data: Path) -> Path:
    return shared_data / "cc3m" / "Validation_GCC-1.1.0-Validation.tsv"


@pytest.fixture(scope="session")
def bundled_data() -> Path:
    return REPO / "data"


# ---- loopback OpenAI-compatible server (tests/support/fakeserver.py; API in its docstring) --------
@pytest.fixture
def fake_llm():
    """A started `FakeServer` on 127.0.0.1 (`.url` ends in /v1); stopped after the test."""
    from support.fakeserver import FakeServer

    srv = FakeServer().start()
    try:
        yield srv
    finally:
        srv.stop()
