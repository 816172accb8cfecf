"""Batch input past one file's limits: split into as many batches as needed, each in run.json,
resumable after a failure or kill -9 at any point, no request paid twice."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from support.engine_helpers import OPTS, EchoQA, cli, coco_args, engine_config, good_reply, jobs, run_echo_cli
from support.fakeserver import FakeServer
from support.jsonl import read_jsonl_if_exists

from datagen.engine.batch import run_batch
from datagen.errors import RemoteError


def answered(srv) -> list[int]:  # type: ignore[no-untyped-def]
    """How many times each chat request was answered (uploads and batch calls left out)."""
    return sorted(n for k, n in srv.completed_counts().items() if k)


def parts_on_disk(run: Path) -> list[str]:
    return sorted(p.name for p in run.glob("requests*.jsonl"))


def test_split_by_request_count(fake_llm, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATAGEN_BATCH_MAX_REQUESTS", "6")
    fake_llm.handler = good_reply
    st = run_batch(EchoQA(), jobs(20), OPTS, engine_config(fake_llm.url), tmp_path, poll_first=0.01)
    assert st.ok == 20 and fake_llm.batches_created == 4
    meta = json.loads((tmp_path / "run.json").read_text())["batch"]
    assert [p["requests"] for p in meta["parts"]] == [6, 6, 6, 2] and meta["requests"] == 20
    assert meta["collected"] and all(p["collected"] and p["status"] == "completed" for p in meta["parts"])
    assert meta["id"] == meta["parts"][0]["id"] and meta["batches"] == 4
    files = ["requests.002.jsonl", "requests.003.jsonl", "requests.004.jsonl", "requests.jsonl"]
    assert parts_on_disk(tmp_path) == files
    ids = [json.loads(x)["custom_id"] for f in files for x in (tmp_path / f).read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 20
    assert answered(fake_llm) == [1] * 20
    # A re-run with nothing left to do creates no batch; one with new samples sends only those.
    run_batch(EchoQA(), jobs(20), OPTS, engine_config(fake_llm.url), tmp_path, poll_first=0.01)
    assert fake_llm.batches_created == 4
    run_batch(EchoQA(), jobs(22), OPTS, engine_config(fake_llm.url), tmp_path, poll_first=0.01)
    assert fake_llm.batches_created == 5 and parts_on_disk(tmp_path) == ["requests.jsonl"]
    assert len(read_jsonl_if_exists(tmp_path / "results.jsonl")) == 22


def test_split_by_bytes_keeps_every_file_under_the_limit(fake_llm, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    line = len(json.dumps({"custom_id": "x" * 32, "method": "POST", "url": "/v1/chat/completions"})) + 200
    monkeypatch.setenv("DATAGEN_BATCH_MAX_BYTES", str(3 * line))
    fake_llm.handler = good_reply
    st = run_batch(EchoQA(), jobs(10), OPTS, engine_config(fake_llm.url), tmp_path, poll_first=0.01)
    assert st.ok == 10 and fake_llm.batches_created >= 4
    for name in parts_on_disk(tmp_path):
        assert 0 < (tmp_path / name).stat().st_size <= 3 * line


def test_submission_cut_short_resumes_without_paying_twice(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATAGEN_BATCH_MAX_REQUESTS", "4")
    with FakeServer(handler=good_reply, uploads_allowed=2) as srv:
        with pytest.raises(RemoteError, match="uploading requests.003.jsonl failed"):
            run_batch(
                EchoQA(), jobs(14), OPTS, engine_config(srv.url, max_retries=0), tmp_path, poll_first=0.01
            )
        meta = json.loads((tmp_path / "run.json").read_text())["batch"]
        assert len(meta["parts"]) == 2 and not meta["submitted"] and srv.batches_created == 2
        srv.uploads_allowed = None
        st = run_batch(EchoQA(), jobs(14), OPTS, engine_config(srv.url), tmp_path, poll_first=0.01)
        assert st.ok == 14 and srv.batches_created == 4  # the two made, then the 6 requests none held
        assert answered(srv) == [1] * 14  # every request answered once
        meta = json.loads((tmp_path / "run.json").read_text())["batch"]
        assert [p["requests"] for p in meta["parts"]] == [4, 4, 4, 2] and meta["collected"]


def test_kill_while_polling_several_batches_then_resume(tmp_path, coco_mini) -> None:  # type: ignore[no-untyped-def]
    with FakeServer(handler=good_reply, batch_polls=10**9) as srv:
        args = ["generate", "echo_qa", *coco_args(coco_mini), "--limit", "10", "--out", tmp_path / "run"]
        args += ["--model", "m", "--base-url", srv.url, "--batch", "--quiet"]
        env = {**os.environ, "DATAGEN_BATCH_POLL": "0.05", "DATAGEN_BATCH_MAX_REQUESTS": "3"}
        proc = subprocess.Popen(cli(*args), env=env)
        meta_path = tmp_path / "run" / "run.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if meta_path.exists() and json.loads(meta_path.read_text()).get("batch", {}).get("submitted"):
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        assert srv.batches_created == 4
        srv.batch_polls = 0
        done = run_echo_cli(*args, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert srv.batches_created == 4  # polled the four it had, created none
        res = read_jsonl_if_exists(tmp_path / "run" / "results.jsonl")
        assert len(res) == 10 and len({r["sample_id"] for r in res}) == 10
