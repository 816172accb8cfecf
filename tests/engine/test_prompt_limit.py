"""Pathological inputs: a prompt over --max-prompt-tokens is not sent; it is a failure line
(filter max_prompt_tokens), counted, and a re-run with a higher limit sends it."""

from __future__ import annotations

import json
from functools import partial

from support.engine_helpers import OPTS, EchoQA, engine_config, good_reply, jobs, make_job
from support.jsonl import read_jsonl

from datagen.engine.config import DEFAULT_MAX_PROMPT_TOKENS
from datagen.engine.runner import run_jobs

cfg = partial(engine_config, concurrency=2)
HUGE = "a cat on a red sofa " * 250_000  # 5 MB of caption, about a million tokens


def test_huge_prompt_is_not_sent_and_is_counted(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    work = [*jobs(3), make_job(99, HUGE)]
    st = run_jobs(EchoQA(), work, OPTS, cfg(fake_llm.url), tmp_path)
    assert st.ok == 3 and st.filtered["max_prompt_tokens"] == 1
    assert len(fake_llm.log) == 3  # before: a million-token request went out
    (fail,) = read_jsonl(tmp_path / "failures.jsonl")
    assert fail["sample_id"] == "echo_qa:000000000099" and fail["filter"] == "max_prompt_tokens"
    assert f"more than --max-prompt-tokens {DEFAULT_MAX_PROMPT_TOKENS:,}" in fail["reason"]
    assert fail["attempts"] == 0 and fail["raw"] is None
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["filters"]["max_prompt_tokens"] == 1

    st = run_jobs(EchoQA(), work, OPTS, cfg(fake_llm.url, max_prompt_tokens=0), tmp_path)  # 0: no limit
    assert st.ok == 1 and st.skipped == 3 and len(fake_llm.log) == 4
    assert read_jsonl(tmp_path / "failures.jsonl") == []


def test_prompts_under_the_limit_are_never_counted_or_held_back(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    st = run_jobs(EchoQA(), jobs(5), OPTS, cfg(fake_llm.url, max_prompt_tokens=50), tmp_path)
    assert st.ok == 5 and not st.filtered
