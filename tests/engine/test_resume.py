"""Resume and cache: done keys are skipped, failures retried, torn tails tolerated, params re-do only
what they affect."""

from __future__ import annotations

import json
from functools import partial

from support.engine_helpers import OPTS, EchoQA, engine_config, good_reply, jobs
from support.fakeserver import Reply, Status
from support.jsonl import read_jsonl

from datagen.engine.runner import run_jobs

cfg = partial(engine_config, concurrency=4)


def test_rerun_skips_done_and_sends_nothing(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    st = run_jobs(EchoQA(), jobs(12), OPTS, cfg(fake_llm.url), tmp_path)
    assert st.ok == 12 and len(fake_llm.log) == 12
    st2 = run_jobs(EchoQA(), jobs(12), OPTS, cfg(fake_llm.url), tmp_path)
    assert st2.skipped == 12 and st2.ok == 0
    assert len(fake_llm.log) == 12  # nothing sent again
    assert len(read_jsonl(tmp_path / "results.jsonl")) == 12
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["counts"]["done"] == 12 and len(meta["runs"]) == 2


def test_failures_are_retried_on_rerun_and_cleared(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    fake_llm.script(Status(400, "bad request"))  # not retried: one request failure
    st = run_jobs(EchoQA(), jobs(5), OPTS, cfg(fake_llm.url, concurrency=1), tmp_path)
    assert st.ok == 4 and st.failed["request"] == 1
    (fail,) = read_jsonl(tmp_path / "failures.jsonl")
    assert fail["stage"] == "request" and "HTTP 400" in fail["reason"] and fail["attempts"] == 1
    st2 = run_jobs(EchoQA(), jobs(5), OPTS, cfg(fake_llm.url), tmp_path)
    assert st2.skipped == 4 and st2.ok == 1
    assert read_jsonl(tmp_path / "failures.jsonl") == []
    ids = [r["sample_id"] for r in read_jsonl(tmp_path / "results.jsonl")]
    assert sorted(ids) == sorted(j.sample_id for j in jobs(5))


def test_torn_last_line_is_tolerated(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    run_jobs(EchoQA(), jobs(6), OPTS, cfg(fake_llm.url), tmp_path)
    res = tmp_path / "results.jsonl"
    data = res.read_bytes()
    last_start = data[:-1].rfind(b"\n") + 1
    res.write_bytes(data[: last_start + 40])  # crash in the middle of the last line
    st = run_jobs(EchoQA(), jobs(6), OPTS, cfg(fake_llm.url), tmp_path)
    assert st.skipped == 5 and st.ok == 1
    rows = read_jsonl(res)  # every line parses again
    assert len(rows) == 6 and len({r["sample_id"] for r in rows}) == 6


def test_changing_one_parameter_redoes_only_what_it_affects(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    run_jobs(EchoQA(), jobs(4), OPTS, cfg(fake_llm.url), tmp_path)
    # a new sample plus the old ones: only the new one is sent
    st = run_jobs(EchoQA(), jobs(5), OPTS, cfg(fake_llm.url), tmp_path)
    assert (st.skipped, st.ok, len(fake_llm.log)) == (4, 1, 5)
    # a different temperature changes every key: all five are asked again
    st = run_jobs(EchoQA(), jobs(5), OPTS, cfg(fake_llm.url, temperature=0.2), tmp_path)
    assert (st.skipped, st.ok, len(fake_llm.log)) == (0, 5, 10)


def test_filter_rejects_are_rejudged_not_repaid(fake_llm, tmp_path):
    fake_llm.script(Reply("Q: what?\nA: no"))  # the `short` filter rejects this
    fake_llm.handler = good_reply
    st = run_jobs(EchoQA(), jobs(3), OPTS, cfg(fake_llm.url, concurrency=1), tmp_path)
    assert st.filtered["short"] == 1 and st.ok == 2
    (fail,) = read_jsonl(tmp_path / "failures.jsonl")
    assert fail["stage"] == "filter" and fail["filter"] == "short" and fail["raw"] == "Q: what?\nA: no"
    sent = len(fake_llm.log)
    opts = type(OPTS)(image_token="first", disabled_filters={"short"})
    st2 = run_jobs(EchoQA(), jobs(3), opts, cfg(fake_llm.url), tmp_path)
    assert st2.ok == 1 and len(fake_llm.log) == sent  # recovered from the stored reply, no request
    assert read_jsonl(tmp_path / "failures.jsonl") == []
