"""kill -9 at the most harmful instants of a re-run (the test-only hook `DATAGEN_TEST_KILL_AT`,
datagen/common/faults.py): every sample stays in results.jsonl or failures.jsonl, files are the
old version or the new one, and the next run finishes the job. Deterministic: the process kills
itself at a named point, no timing involved."""

from __future__ import annotations

import json
import os
import signal

from support.engine_helpers import echo_qa_args, good_reply, run_echo_cli
from support.fakeserver import FakeServer
from support.jsonl import read_jsonl

from datagen.common.faults import KILL_ENV


def short_for_even(body: dict) -> str:
    """A good reply, except that even samples get an answer the `short` filter rejects."""
    user = body["messages"][-1]["content"]
    sid = user.split()[1]
    return f"Q: What is in {sid}?\nA: no" if int(sid) % 2 == 0 else good_reply(body)


def _killed_at(point: str) -> dict[str, str]:
    return {**os.environ, KILL_ENV: point}


def _lines_in(out) -> int:
    return sum(
        (out / n).read_bytes().count(b"\n") for n in ("results.jsonl", "failures.jsonl") if (out / n).exists()
    )


def _ids(path) -> list[str]:
    return [r["sample_id"] for r in read_jsonl(path)] if path.exists() else []


def test_kill_while_rejudging_keeps_every_filter_failure(tmp_path, coco_mini):
    """Before: the re-run emptied failures.jsonl first and re-added the lines one by one, so a kill
    in between lost every filtered sample (in neither file, re-paid next time)."""
    out = tmp_path / "run"
    with FakeServer(handler=short_for_even) as srv:
        first = run_echo_cli(*echo_qa_args(coco_mini, out, srv.url, "--quiet"))
        assert first.returncode == 0, first.stderr
        failures = read_jsonl(out / "failures.jsonl")
        assert len(failures) > 20 and {f["filter"] for f in failures} == {"short"}
        before = (out / "failures.jsonl").read_bytes()
        sent = len(srv.log)

        killed = run_echo_cli(
            *echo_qa_args(coco_mini, out, srv.url, "--quiet"), env=_killed_at("rejudge:after-one:3")
        )
        assert killed.returncode == -signal.SIGKILL
        ids = set(_ids(out / "results.jsonl")) | set(_ids(out / "failures.jsonl"))
        assert len(ids) == 80  # every sample is in one of the two files
        assert set(_ids(out / "failures.jsonl")) == {f["sample_id"] for f in failures}
        assert (out / "failures.jsonl").read_bytes().startswith(before)  # old lines untouched

        again = run_echo_cli(*echo_qa_args(coco_mini, out, srv.url, "--quiet"))
        assert again.returncode == 0, again.stderr
        assert len(srv.log) == sent  # filtered replies are judged again from disk, never re-sent
        assert sorted(_ids(out / "failures.jsonl")) == sorted(f["sample_id"] for f in failures)


def test_kill_before_compacting_then_rerun_has_one_line_per_sample(tmp_path, coco_mini):
    out = tmp_path / "run"
    with FakeServer(handler=short_for_even) as srv:
        args = echo_qa_args(coco_mini, out, srv.url, "--quiet")
        assert run_echo_cli(*args).returncode == 0
        n = len(read_jsonl(out / "failures.jsonl"))
        killed = run_echo_cli(*args, env=_killed_at("run:before-compact"))
        assert killed.returncode == -signal.SIGKILL
        assert len(read_jsonl(out / "failures.jsonl")) == 2 * n  # old and new line of each: nothing lost
        assert run_echo_cli(*args).returncode == 0
        assert len(read_jsonl(out / "failures.jsonl")) == n


def test_corrupt_middle_line_stops_before_anything_is_rewritten(tmp_path, coco_mini):
    out = tmp_path / "run"
    with FakeServer(handler=short_for_even) as srv:
        args = echo_qa_args(coco_mini, out, srv.url, "--quiet")
        assert run_echo_cli(*args).returncode == 0
        res = out / "results.jsonl"
        lines = res.read_bytes().splitlines(keepends=True)
        lines[5] = b'{"id": "x", "broken\n'
        res.write_bytes(b"".join(lines))
        before = {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".datagen.lock"}
        sent = len(srv.log)
        done = run_echo_cli(*args)
        assert done.returncode == 2
        assert f"Error: {res}:6: not a results line written by datagen" in done.stderr
        assert "Traceback" not in done.stderr
        after = {p.name: p.read_bytes() for p in out.iterdir() if p.name != ".datagen.lock"}
        assert after == before and len(srv.log) == sent


def test_kill_before_a_rename_leaves_the_old_file_and_a_named_temp_that_is_cleaned(tmp_path, coco_mini):
    out = tmp_path / "run"
    with FakeServer(handler=good_reply) as srv:
        args = echo_qa_args(coco_mini, out, srv.url, "--quiet")
        assert run_echo_cli(*args).returncode == 0
        meta_before = (out / "run.json").read_bytes()
        killed = run_echo_cli(*args, env=_killed_at("atomic-write:before-rename"))
        assert killed.returncode == -signal.SIGKILL
        assert (out / "run.json").read_bytes() == meta_before  # the old file, whole
        (temp,) = [p for p in out.iterdir() if ".datagen-partial-" in p.name]
        assert temp.name.startswith(".run.json.datagen-partial-")
        assert run_echo_cli(*args).returncode == 0
        assert not [p for p in out.iterdir() if ".datagen-partial-" in p.name]
        assert len(json.loads((out / "run.json").read_text())["runs"]) == 2


def test_billed_tokens_survive_kills(tmp_path, coco_mini):
    """run.json's tokens come from the lines on disk, not only from the killed process's last
    rewrite of run.json (before: undercounted after repeated kills)."""
    import subprocess
    import time

    from support.engine_helpers import cli

    out = tmp_path / "run"
    with FakeServer(handler=short_for_even, latency=0.02) as srv:
        args = echo_qa_args(coco_mini, out, srv.url, "--quiet")
        for stop_at in (10, 30):  # two kills mid-run, each before any run.json rewrite
            proc = subprocess.Popen(cli(*args, "--concurrency", "2"))
            deadline = time.monotonic() + 60
            while _lines_in(out) < stop_at:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        done = run_echo_cli(*args)
        assert done.returncode == 0, done.stderr
        billed = {k: sum(e.usage.get(f"{k}_tokens", 0) for e in srv.log) for k in ("prompt", "completion")}
        largest = max(e.usage.get("prompt_tokens", 0) + e.usage.get("completion_tokens", 0) for e in srv.log)
    tokens = json.loads((out / "run.json").read_text())["tokens"]
    # at most the replies in flight at each kill (2 per kill) were billed but never seen
    assert (
        0 <= billed["prompt"] + billed["completion"] - tokens["prompt"] - tokens["completion"] <= 4 * largest
    )
    assert tokens["prompt"] <= billed["prompt"] and tokens["completion"] <= billed["completion"]
