"""Client behaviour against the loopback server: what is retried, what is not, what stops a run."""

from __future__ import annotations

import json
import socket
import time
from functools import partial

import pytest
from support.engine_helpers import OPTS, EchoQA, engine_config, good_reply, jobs
from support.fakeserver import Drop, FakeServer, Hang, Malformed, Status
from support.jsonl import read_jsonl_if_exists

from datagen.engine.runner import run_jobs
from datagen.errors import RemoteError

cfg = partial(engine_config, concurrency=1)  # one request in flight unless a test asks for more


@pytest.mark.parametrize(
    "action",
    [
        Status(429, retry_after=0.3),
        Status(429, retry_after_ms=300),
        Status(500),
        Status(503),
        Drop(),
        Malformed(),
    ],
    ids=["429-retry-after", "429-retry-after-ms", "500", "503", "dropped-connection", "malformed-json"],
)
def test_transient_errors_are_retried(fake_llm, tmp_path, action):
    fake_llm.handler = good_reply
    fake_llm.script(action)
    t0 = time.monotonic()
    st = run_jobs(EchoQA(), jobs(1), OPTS, cfg(fake_llm.url), tmp_path)
    assert st.ok == 1 and st.retries == 1
    assert len(fake_llm.log) == 2
    if isinstance(action, Status) and action.code == 429:
        assert time.monotonic() - t0 >= 0.3  # the server's retry-after was honoured
        assert st.status_429 == 1


def test_hang_past_timeout_is_retried(fake_llm, tmp_path):
    fake_llm.handler = good_reply
    fake_llm.script(Hang(1.5))
    st = run_jobs(EchoQA(), jobs(1), OPTS, cfg(fake_llm.url, timeout=0.5), tmp_path)
    assert st.ok == 1 and st.retries == 1


@pytest.mark.parametrize("code", [400, 422])
def test_client_errors_are_not_retried(fake_llm, tmp_path, code):
    fake_llm.handler = good_reply
    st0 = run_jobs(EchoQA(), jobs(1), OPTS, cfg(fake_llm.url), tmp_path)  # endpoint has answered once
    assert st0.ok == 1
    fake_llm.script(Status(code, "nope"))
    st = run_jobs(EchoQA(), jobs(2), OPTS, cfg(fake_llm.url), tmp_path)
    assert st.failed["request"] == 1 and len(fake_llm.log) == 2
    (f,) = read_jsonl_if_exists(tmp_path / "failures.jsonl")
    assert f["stage"] == "request" and f"HTTP {code}" in f["reason"] and f["attempts"] == 1


def test_retries_give_up_after_max_retries(fake_llm, tmp_path):
    fake_llm.handler = lambda body: Status(500)
    st = run_jobs(EchoQA(), jobs(1), OPTS, cfg(fake_llm.url, max_retries=2), tmp_path)
    assert st.failed["request"] == 1 and len(fake_llm.log) == 3
    assert "HTTP 500" in read_jsonl_if_exists(tmp_path / "failures.jsonl")[0]["reason"]


def test_bad_key_stops_run_in_seconds_without_leaking_it(tmp_path, monkeypatch):
    secret = "sk-very-secret-key-123456"
    with FakeServer(api_key="sk-right-key", handler=good_reply) as srv:
        t0 = time.monotonic()
        with pytest.raises(RemoteError) as e:
            run_jobs(EchoQA(), jobs(200), OPTS, cfg(srv.url, api_key=secret, concurrency=8), tmp_path)
        assert time.monotonic() - t0 < 5
        assert len(srv.log) <= 8  # only the first wave of requests went out
    msg = str(e.value)
    assert "401" in msg and srv.url in msg and "'m'" in msg and secret not in msg
    for f in tmp_path.iterdir():
        assert secret not in f.read_text()
    assert not read_jsonl_if_exists(tmp_path / "results.jsonl")


def test_wrong_model_is_fatal(tmp_path):
    with FakeServer(models={"real-model"}) as srv:
        with pytest.raises(RemoteError, match="404"):
            run_jobs(EchoQA(), jobs(50), OPTS, cfg(srv.url, concurrency=4), tmp_path)
        assert len(srv.log) <= 4


def test_refused_connection_is_fatal(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    t0 = time.monotonic()
    with pytest.raises(RemoteError, match="cannot connect"):
        run_jobs(EchoQA(), jobs(50), OPTS, cfg(f"http://127.0.0.1:{port}/v1", concurrency=4), tmp_path)
    assert time.monotonic() - t0 < 5


def test_key_sent_as_bearer_and_absent_from_outputs(tmp_path, monkeypatch):
    secret = "sk-right-key-abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with FakeServer(api_key=secret, handler=good_reply) as srv:
        st = run_jobs(EchoQA(), jobs(3), OPTS, cfg(srv.url, api_key=None), tmp_path)
    assert st.ok == 3
    for f in tmp_path.iterdir():
        assert secret not in f.read_text()
    assert json.loads((tmp_path / "run.json").read_text())["config"]["api_key_set"] is True
