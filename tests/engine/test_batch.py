"""The Batch API path against the loopback server's /v1/files and /v1/batches."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from support.engine_helpers import OPTS, EchoQA, cli, coco_args, engine_config, good_reply, jobs, run_echo_cli
from support.fakeserver import FakeServer, Reply, Status
from support.jsonl import read_jsonl_if_exists

from datagen.engine.batch import run_batch
from datagen.errors import RemoteError


def test_batch_round_trip_into_results_and_failures(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    fake_llm.batch_polls = 3
    fake_llm.script(Reply("not the format"), Status(500, "boom"), Reply("cut", finish_reason="length"))
    st = run_batch(EchoQA(), jobs(8), OPTS, engine_config(fake_llm.url), tmp_path, poll_first=0.01)
    assert fake_llm.batches_created == 1
    assert st.ok == 5 and st.failed == {"parse": 2, "request": 1}
    res = read_jsonl_if_exists(tmp_path / "results.jsonl")
    assert len(res) == 5 and all(r["usage"]["completion_tokens"] > 0 for r in res)
    stages = sorted((f["stage"], f["reason"][:8]) for f in read_jsonl_if_exists(tmp_path / "failures.jsonl"))
    assert stages == [("parse", "expected"), ("parse", "finish_r"), ("request", "HTTP 500")]
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["mode"] == "batch" and meta["batch"]["id"] == "batch_000001" and meta["batch"]["collected"]
    reqs = read_jsonl_if_exists(tmp_path / "requests.jsonl")
    assert len(reqs) == 8 and reqs[0]["url"] == "/v1/chat/completions" and reqs[0]["body"]["model"] == "m"
    # a re-run sends only the three failures, in a second batch
    st2 = run_batch(EchoQA(), jobs(8), OPTS, engine_config(fake_llm.url), tmp_path, poll_first=0.01)
    assert fake_llm.batches_created == 2 and st2.skipped == 5 and st2.ok == 3
    assert read_jsonl_if_exists(tmp_path / "failures.jsonl") == []
    assert len(read_jsonl_if_exists(tmp_path / "requests.jsonl")) == 3


def test_rerun_resumes_polling_instead_of_paying_again(tmp_path, coco_mini):
    """Kill -9 the CLI while it polls; the re-run polls the same batch and creates no other."""
    with FakeServer(handler=good_reply, batch_polls=10**9) as srv:  # never finishes at first
        args = ["generate", "echo_qa", *coco_args(coco_mini), "--limit", "6", "--out", tmp_path / "run"]
        args += ["--model", "m", "--base-url", srv.url, "--batch", "--quiet"]
        env = {**os.environ, "DATAGEN_BATCH_POLL": "0.05"}
        proc = subprocess.Popen(cli(*args), env=env)
        deadline = time.monotonic() + 30
        meta_path = tmp_path / "run" / "run.json"
        while time.monotonic() < deadline:
            if meta_path.exists() and json.loads(meta_path.read_text()).get("batch", {}).get("id"):
                break
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        meta = json.loads(meta_path.read_text())
        assert meta["batch"]["id"] == "batch_000001" and not meta["batch"]["collected"]
        srv.batch_polls = 0  # the batch is done now
        done = run_echo_cli(*args, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert srv.batches_created == 1  # polled the same batch, did not pay for another
        res = read_jsonl_if_exists(tmp_path / "run" / "results.jsonl")
        assert len(res) == 6 and len({r["sample_id"] for r in res}) == 6


def test_batch_with_bad_key_is_a_clear_error(tmp_path):
    with FakeServer(api_key="sk-good-one", handler=good_reply) as srv:
        with pytest.raises(RemoteError, match="401"):
            run_batch(
                EchoQA(),
                jobs(2),
                OPTS,
                engine_config(srv.url, api_key="sk-wrong-key"),
                tmp_path,
                poll_first=0.01,
            )
        assert srv.batches_created == 0


def test_dry_run_file_equals_what_batch_uploads(tmp_path, coco_mini):
    """--dry-run writes the same request lines a --batch run would upload (one body builder)."""
    from datagen.engine.config import EngineConfig, GenerationParams, request_body
    from datagen.engine.dryrun import batch_line
    from datagen.engine.jobs import build_jobs
    from datagen.sources.load import SourceSpec, load_contexts
    from datagen.tasks.base import TaskOptions

    records, _ = load_contexts(SourceSpec(coco=coco_mini, split="val2017"))
    jobs = build_jobs(["conversation"], TaskOptions(), lambda: records)
    cfg = EngineConfig(model="m", base_urls=["http://127.0.0.1:1/v1"], temperature=0.3, seed=5, max_tokens=77)
    params = GenerationParams(model="m", temperature=0.3, max_tokens=77, seed=5)
    for job in jobs:
        assert batch_line(job.sample_id, request_body(job, params))["body"] == request_body(job, cfg)
