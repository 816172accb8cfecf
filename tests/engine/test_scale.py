"""Throughput features: rate limits against a server window, several endpoints, --shard."""

from __future__ import annotations

import time

import pytest
from support.engine_helpers import OPTS, EchoQA, engine_config, good_reply, jobs
from support.fakeserver import FakeServer, Status
from support.jsonl import read_jsonl
from support.ratewindows import STYLES

from datagen.common.shard import in_shard
from datagen.engine.runner import run_jobs


def test_rpm_keeps_under_the_server_window(tmp_path):
    # --rpm at 90% of the server's 20 requests/s: a limiter that paces evenly never meets the window,
    # whatever the machine's load (at exactly 100%, scheduling jitter alone can cost a 429).
    with FakeServer(handler=good_reply, rate_limit=(20, 1.0)) as srv:
        t0 = time.monotonic()
        st = run_jobs(EchoQA(), jobs(50), OPTS, engine_config(srv.url, concurrency=16, rpm=1080), tmp_path)
        elapsed = time.monotonic() - t0
        assert st.ok == 50
        assert srv.count(429) == 0
        assert elapsed >= 2.5  # paced: 50 requests at 18/s cannot finish sooner (throughput: see bench/)


@pytest.mark.parametrize("style", STYLES)
def test_limit_learnt_from_ratelimit_headers(tmp_path, style):
    # No --rpm: the x-ratelimit-remaining/reset headers alone set the pace, here of a 1 s window
    # (10 s and 60 s windows: tests/llm/test_ratelimit_windows.py, on a virtual clock).
    with FakeServer(
        handler=good_reply, rate_limit=(20, 1.0), ratelimit_headers=True, ratelimit_style=style
    ) as srv:
        st = run_jobs(EchoQA(), jobs(120), OPTS, engine_config(srv.url, concurrency=32), tmp_path)
        assert st.ok == 120
        assert srv.count(429) <= 1  # (<= 1%: timing noise on a loaded machine may cost one)
        # Three full windows in the middle of the run, when it is sending as fast as allowed:
        sustained = srv.answered_within(4.0) - srv.answered_within(1.0)
        assert sustained >= 0.9 * 60, sustained


def test_429_pauses_every_sender(tmp_path):
    with FakeServer(handler=good_reply) as srv:
        srv.script(Status(429, retry_after=0.5))
        t0 = time.monotonic()
        st = run_jobs(EchoQA(), jobs(8), OPTS, engine_config(srv.url, concurrency=1), tmp_path)
        assert st.ok == 8 and st.status_429 == 1 and time.monotonic() - t0 >= 0.5


def test_requests_spread_over_endpoints(tmp_path):
    with FakeServer(handler=good_reply, latency=0.02) as a, FakeServer(handler=good_reply, latency=0.02) as b:
        st = run_jobs(EchoQA(), jobs(40), OPTS, engine_config(a.url, b.url, concurrency=8), tmp_path)
        assert st.ok == 40
        assert len(a.log) >= 10 and len(b.log) >= 10 and len(a.log) + len(b.log) == 40


def test_failing_endpoint_is_backed_off(tmp_path):
    with FakeServer(handler=good_reply, latency=0.01) as good, FakeServer() as bad:
        bad.handler = lambda body: Status(500)
        st = run_jobs(EchoQA(), jobs(60), OPTS, engine_config(good.url, bad.url, concurrency=4), tmp_path)
        assert st.ok == 60 and st.failed == {}
        assert len(bad.log) < 20 < len(good.log)


def test_shards_partition_the_samples(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    ids = []
    for k in range(3):
        st = run_jobs(EchoQA(), jobs(30), OPTS, engine_config(fake_llm.url, shard=(k, 3)), tmp_path / f"s{k}")
        rows = read_jsonl(tmp_path / f"s{k}" / "results.jsonl")
        assert st.total == len(rows) > 0
        ids += [r["sample_id"] for r in rows]
    assert sorted(ids) == sorted(j.sample_id for j in jobs(30))  # disjoint and complete
    assert sum(in_shard("echo_qa:000000000007", (k, 3)) for k in range(3)) == 1
