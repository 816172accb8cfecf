"""Runs with images survive `kill -9`: the rerun sends only what was not finished, the same bytes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support import images as fx
from support.coco_contexts import contexts
from support.fakeserver import FakeServer, messages_key
from support.jsonl import read_jsonl


def conversation_reply(body: dict[str, Any]) -> str:
    tag = messages_key(body.get("messages"))[:10]
    return f"Question:\nWhat is in picture {tag}?\n===\nAnswer:\nPicture {tag} shows a scene."


def test_sigkill_with_images_then_resume(tmp_path: Path, coco_mini: Path) -> None:
    records = contexts(coco_mini, "train")
    real = sorted((coco_mini / "val2017").glob("*.jpg"))
    root = tmp_path / "images"
    for i, rec in enumerate(records):
        fx.photo(root / rec["image"], (rec["width"], rec["height"]), real[i % len(real)])
    out = tmp_path / "run"
    results = out / "results.jsonl"
    with FakeServer(handler=conversation_reply, latency=0.03) as srv:
        args = ["generate", "conversation", "--coco", coco_mini, "--split", "train2017", "--out", out]
        args += ["--image-input", "base64", "--images", root, "--image-max-side", 256]
        args += ["--base-url", srv.url, "--model", "m", "--concurrency", "4", "--quiet"]
        cmd = [sys.executable, "-m", "datagen", *map(str, args)]
        proc = subprocess.Popen(cmd)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if results.exists() and results.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = [json.loads(x) for x in results.read_text().splitlines() if x.endswith("}")]
        assert 20 <= len(first) < len(records), "the kill should land mid-run"
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        ids = [r["sample_id"] for r in read_jsonl(results)]
        assert len(ids) == len(records) == len(set(ids))  # every sample exactly once
        counts = srv.completed_counts()  # keyed by the messages, image bytes included
        assert len(counts) == len(records)  # re-encoding gave the very same bytes
        assert sum(c - 1 for c in counts.values()) <= 4  # only what was in flight at the kill
        assert all(len(e.images) == 1 for e in srv.log if e.status == 200)
