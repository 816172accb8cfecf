"""Start-up: a command imports what it needs when it needs it.

Each check runs the real CLI in a fresh interpreter (imports are per process) and lists which
heavy modules ended up loaded. A dry run writes request bodies and counts tokens: it never talks
HTTP, so the openai SDK and its transports stay out; a live run loads them when it sends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from support.paths import REPO

PROBE = r"""
import json, runpy, sys
sys.argv = ["datagen", *json.loads(sys.argv[1])]
try:
    runpy.run_module("datagen", run_name="__main__")
except SystemExit as e:
    code = e.code
else:
    code = 0
heavy = ["openai", "httpx2", "aiohttp", "tenacity", "numpy", "pycocotools", "tiktoken", "datasets", "torch"]
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def loaded_by(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_dry_run_never_imports_the_http_client(coco_mini, tmp_path):
    got = loaded_by(["generate", "conversation", "--coco", str(coco_mini), "--split", "train2017"]
                    + ["--out", str(tmp_path / "run"), "--dry-run"])  # fmt: skip
    assert got["code"] == 0
    assert (tmp_path / "run" / "requests.jsonl").is_file()
    for name in ("openai", "httpx2", "aiohttp", "tenacity"):
        assert name not in got["loaded"], got
    # COCO files are indexed by pycocotools (which brings numpy); nothing that sends requests loads.
    assert "pycocotools" in got["loaded"], got


def test_help_loads_nothing_heavy():
    got = loaded_by(["generate", "--help"])
    assert got["code"] == 0 and got["loaded"] == [], got
