"""A server that is not an OpenAI API is fatal, fast: after a few attempts in a row with no usable
answer ever, the run stops with one line naming what came back (before: 300 s, ~2,100 requests and
exit 0). `--timeout` bounds the whole request, so a server that drips its reply is cut off too."""

from __future__ import annotations

import time

import pytest
from support.engine_helpers import coco_args, good_reply, run_echo_cli
from support.fakeserver import BROKEN, Drip, FakeServer
from support.jsonl import read_jsonl


def _generate(coco_mini, out, url, *more):
    args = ["generate", "echo_qa", *coco_args(coco_mini), "--out", out, "--model", "m", "--base-url", url]
    return run_echo_cli(*args, "--quiet", "--concurrency", "4", *more)


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("html", "HTTP 200 text/html with a body that is not a chat completion: '<html>"),
        ("502", "HTTP 502 text/html"),
        ("empty-json", "HTTP 200 application/json with a body that is not a chat completion: '{}'"),
        ("close", "connection closed by the server before a reply"),
    ],
)
def test_not_an_api_stops_after_a_few_attempts(tmp_path, coco_mini, kind, said):
    with FakeServer(handler=lambda body: BROKEN[kind]) as srv:
        done = _generate(coco_mini, tmp_path / "run", srv.url)
    assert done.returncode == 4, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"Error: {srv.url}: {said}")
    assert "attempts in a row, none ever answered): this is not an OpenAI-compatible endpoint" in line
    assert len(srv.log) <= 4 + 4  # the limit, plus what was already in flight


def test_drip_is_bounded_by_the_whole_request_timeout(tmp_path, coco_mini):
    with FakeServer(handler=lambda body: Drip(0.2)) as srv:
        t0 = time.monotonic()
        done = _generate(coco_mini, tmp_path / "run", srv.url, "--timeout", "1")
        took = time.monotonic() - t0
    assert done.returncode == 4, done.stderr
    assert "no complete reply within --timeout 1 s (4 attempts in a row, none ever answered)" in done.stderr
    assert len(srv.log) <= 8
    assert took < 30  # the body alone would take ~60 s per request at this pace


def test_failure_labels_and_attempts_are_honest(tmp_path, coco_mini, fake_llm):
    """A dropped connection is not "timed out"; `attempts` counts every HTTP attempt."""
    out = tmp_path / "run"
    answered: list[str] = []

    def first_then_drop(body):  # one good answer, then every connection is dropped
        answered.append("x")
        return good_reply(body) if len(answered) == 1 else BROKEN["close"]

    fake_llm.handler = first_then_drop
    done = _generate(coco_mini, out, fake_llm.url, "--limit", "3", "--max-retries", "2", "--concurrency", "1")
    assert done.returncode == 0, done.stderr  # one sample of three done: not every sample failed
    fails = read_jsonl(out / "failures.jsonl")
    assert len(fails) == 2
    for f in fails:
        assert f["reason"] == "connection closed by the server before a reply"
        assert f["attempts"] == 3  # the first try and 2 retries, all sent


def test_a_server_that_answered_once_keeps_being_retried(tmp_path, coco_mini, fake_llm):
    fake_llm.handler = good_reply
    out = tmp_path / "run"
    calls = {"n": 0}

    def flaky(body):
        calls["n"] += 1
        return good_reply(body) if calls["n"] == 1 or calls["n"] % 3 == 0 else BROKEN["502"]

    fake_llm.handler = flaky
    done = _generate(coco_mini, out, fake_llm.url, "--concurrency", "1", "--limit", "6")
    assert done.returncode == 0, done.stderr
    assert len(read_jsonl(out / "results.jsonl")) == 6


def test_one_broken_replica_among_good_ones_does_not_stop_the_run(tmp_path, coco_mini):
    with (
        FakeServer(handler=lambda body: BROKEN["502"]) as bad,
        FakeServer(handler=good_reply, latency=2.5) as good,
    ):
        args = ["generate", "echo_qa", *coco_args(coco_mini), "--out", tmp_path / "run", "--model", "m"]
        args += [
            "--base-url",
            bad.url,
            "--base-url",
            good.url,
            "--quiet",
            "--concurrency",
            "4",
            "--limit",
            "6",
        ]
        done = run_echo_cli(*args)
    assert done.returncode == 0, done.stderr
    assert len(read_jsonl(tmp_path / "run" / "results.jsonl")) == 6
    assert len(bad.log) >= 4  # the broken one failed its limit early, before the slow one answered
