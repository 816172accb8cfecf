"""Validation hook: truncated / filtered / unparseable replies are re-asked, then logged, never silent."""

from __future__ import annotations

import json
from functools import partial

from support.engine_helpers import OPTS, EchoQA, engine_config, good_reply, jobs
from support.fakeserver import Reply
from support.jsonl import read_jsonl_if_exists

from datagen.engine.runner import run_jobs

cfg = partial(engine_config, concurrency=1)


def test_unparseable_reply_is_reasked_then_succeeds(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    fake_llm.script(Reply("sorry, no"))
    st = run_jobs(EchoQA(), jobs(1), OPTS, cfg(fake_llm.url), tmp_path)
    assert st.ok == 1 and st.reasked == 1 and len(fake_llm.log) == 2
    (rec,) = read_jsonl_if_exists(tmp_path / "results.jsonl")
    # usage covers both asks: what the sample cost
    assert rec["usage"]["completion_tokens"] == sum(1 + len(t) // 4 for t in ["sorry, no", good_reply_text()])


def good_reply_text():
    return good_reply({"messages": jobs(1)[0].messages})


def test_truncated_reply_is_reasked_up_to_max_attempts_then_a_parse_failure(fake_llm, tmp_path):
    fake_llm.handler = lambda body: Reply("Q: a\nA: long answer cut", finish_reason="length")
    st = run_jobs(EchoQA(), jobs(1), OPTS, cfg(fake_llm.url, max_attempts=3), tmp_path)
    assert st.failed["parse"] == 1 and len(fake_llm.log) == 3
    (f,) = read_jsonl_if_exists(tmp_path / "failures.jsonl")
    assert f["stage"] == "parse" and f["attempts"] == 3 and "length" in f["reason"]
    assert f["raw"] == "Q: a\nA: long answer cut" and f["id"] == "000000000001"
    assert not read_jsonl_if_exists(tmp_path / "results.jsonl")


def test_content_filter_counts_as_a_failed_attempt(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    fake_llm.script(Reply("", finish_reason="content_filter"))
    st = run_jobs(EchoQA(), jobs(1), OPTS, cfg(fake_llm.url), tmp_path)
    assert st.ok == 1 and st.reasked == 1


def test_parse_failure_after_all_attempts_keeps_raw_text(fake_llm, tmp_path):
    fake_llm.handler = lambda body: "no structure at all"
    st = run_jobs(EchoQA(), jobs(2), OPTS, cfg(fake_llm.url, max_attempts=2), tmp_path)
    assert st.failed["parse"] == 2 and len(fake_llm.log) == 4
    for f in read_jsonl_if_exists(tmp_path / "failures.jsonl"):
        assert f["stage"] == "parse" and f["attempts"] == 2 and f["raw"] == "no structure at all"
        assert f["reason"].startswith("expected 'Q: ...'") and f["task"] == "echo_qa"


def test_filter_rejection_is_not_reasked_and_counted_by_name(fake_llm, tmp_path):
    fake_llm.handler = lambda body: "Q: what?\nA: no"
    st = run_jobs(EchoQA(), jobs(3), OPTS, cfg(fake_llm.url), tmp_path)
    assert st.filtered == {"short": 3} and len(fake_llm.log) == 3
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["filters"] == {"short": 3} and meta["counts"]["failed"] == {"filter": 3}
    assert {f["filter"] for f in read_jsonl_if_exists(tmp_path / "failures.jsonl")} == {"short"}


def test_no_filter_disables_one_filter(fake_llm, tmp_path):
    fake_llm.handler = lambda body: "Q: what?\nA: no"
    opts = type(OPTS)(image_token="first", disabled_filters={"short"})
    st = run_jobs(EchoQA(), jobs(2), opts, cfg(fake_llm.url), tmp_path)
    assert st.ok == 2 and not st.filtered
