"""One writer per run directory: a second process on the same --out is refused, naming the holder's
pid, and sends nothing; the lock dies with its holder (kill -9 leaves no stale lock)."""

from __future__ import annotations

import signal
import subprocess
import time

from support.engine_helpers import cli, coco_args, good_reply, run_echo_cli
from support.fakeserver import FakeServer, Hang
from support.jsonl import read_jsonl


def _wait_for(cond, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_second_writer_is_refused_and_a_killed_holder_leaves_no_stale_lock(tmp_path, coco_mini):
    out = tmp_path / "run"
    with FakeServer(handler=lambda body: Hang(60)) as srv:
        args = ["generate", "echo_qa", *coco_args(coco_mini), "--out", out, "--model", "m"]
        args += ["--base-url", srv.url, "--concurrency", "2", "--quiet"]
        holder = subprocess.Popen(cli(*args))
        try:
            _wait_for(lambda: len(srv.log) >= 1, "the first process's first request")  # it holds the lock
            sent = len(srv.log)
            second = run_echo_cli(*args)
            assert second.returncode == 6
            assert f"is in use by another datagen process (pid {holder.pid})" in second.stderr
            assert "own --out" in second.stderr and "Traceback" not in second.stderr
            time.sleep(0.2)
            assert len(srv.log) == sent  # the second process sent nothing
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait()
        srv.handler = good_reply
        third = run_echo_cli(*args)
        assert third.returncode == 0, third.stderr
        ids = [r["sample_id"] for r in read_jsonl(out / "results.jsonl")]
        assert len(ids) == 80 and len(set(ids)) == 80
