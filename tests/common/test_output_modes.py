"""Outputs get the permissions a plain open()/mkdir() would give them, not mkstemp/mkdtemp's 0600/0700.

A review page or exported dataset that only its creator can read breaks serving it from a web
server or sharing it with a cluster group; the temp-file-then-rename writers must not leak the
temp file's private mode into the final output.
"""

from __future__ import annotations

import os
import stat

import pytest
from support.cli import run_cli
from support.export_fixtures import coco_run


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_review_page_and_exports_are_not_private(tmp_path, coco_mini, capsys, umask_022):
    run = coco_run(coco_mini, tmp_path / "run")
    images = str(coco_mini / "val2017")
    page = tmp_path / "review.html"
    code, _, err = run_cli(["review", str(run), "--images", images, "--out", str(page)], capsys)
    assert code == 0, err
    assert _mode(page) == 0o644
    for fmt in ("parquet", "arrow"):
        out = tmp_path / f"hf_{fmt}"
        code, _, err = run_cli(["export", "hf", str(run), "--format", fmt, "--out", str(out)], capsys)
        assert code == 0, err
        assert _mode(out) == 0o755
    out = tmp_path / "mg"
    args = ["adapt", "minigpt4", str(run), "--task", "detail_description", "--images", images]
    code, _, err = run_cli([*args, "--out", str(out)], capsys)
    assert code == 0, err
    assert _mode(out) == 0o755
