"""kill -9 mid-run, run again: every sample exactly once, nothing finished is paid for twice."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from support.engine_helpers import cli, coco_args, good_reply, make_job, run_echo_cli
from support.fakeserver import FakeServer, messages_key
from support.jsonl import read_jsonl


def test_sigkill_mid_run_then_resume(tmp_path, coco_mini):
    out = tmp_path / "run"
    results = out / "results.jsonl"
    with FakeServer(handler=good_reply, latency=0.03) as srv:
        args = ["generate", "echo_qa", *coco_args(coco_mini), "--out", out, "--model", "m"]
        args += ["--base-url", srv.url, "--concurrency", "4", "--quiet"]
        proc = subprocess.Popen(cli(*args))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if results.exists() and results.read_bytes().count(b"\n") >= 25:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = [json.loads(x) for x in results.read_text().splitlines() if x.endswith("}")]
        assert 25 <= len(first) < 80, "the kill should land mid-run"

        done = run_echo_cli(*args)
        assert done.returncode == 0, done.stderr
        final = read_jsonl(results)
        ids = [r["sample_id"] for r in final]
        assert len(ids) == 80 and len(set(ids)) == 80  # every sample exactly once
        counts = srv.completed_counts()
        for r in first:  # finished before the kill: answered exactly once, never again
            job = make_job(int(r["id"]))
            assert counts[messages_key(job.messages)] == 1
        # only requests in flight at the kill (at most --concurrency) were answered twice
        assert sum(c - 1 for c in counts.values()) <= 4


def test_ctrl_c_mid_run_says_so_and_resumes(tmp_path, coco_mini):
    """Ctrl-C: one line saying what was kept and how to resume, exit 130, run.json not 'finished'."""
    out = tmp_path / "run"
    results = out / "results.jsonl"
    with FakeServer(handler=good_reply, latency=0.05) as srv:
        args = ["generate", "echo_qa", *coco_args(coco_mini), "--out", out, "--model", "m"]
        args += ["--base-url", srv.url, "--concurrency", "2", "--quiet"]
        proc = subprocess.Popen(cli(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if results.exists() and results.read_bytes().count(b"\n") >= 10:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        assert "Interrupted" in err and "Re-run the same command to resume" in err
        assert "Traceback" not in err
        kept = read_jsonl(results)
        assert 10 <= len(kept) < 80
        runs = json.loads((out / "run.json").read_text())["runs"]
        assert runs[-1]["finished"] is False and runs[-1]["succeeded"] == len(kept)

        done = run_echo_cli(*args)
        assert done.returncode == 0, done.stderr
        ids = [json.loads(x)["sample_id"] for x in results.read_text().splitlines()]
        assert len(ids) == 80 and len(set(ids)) == 80
        assert json.loads((out / "run.json").read_text())["runs"][-1]["finished"] is True
