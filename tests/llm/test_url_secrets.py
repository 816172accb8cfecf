"""Secrets in URLs: a password in --base-url is refused without being echoed, a `?api_key=` in it
works and is masked in run.json and on stderr, and a key a server echoes in a reply is masked
before the reply is stored."""

from __future__ import annotations

import os

from support.engine_helpers import coco_args, run_echo_cli
from support.fakeserver import FakeServer

PASSWORD = "hunter2-very-secret"
QUERY_KEY = "qk-0123456789abcdef"
API_KEY = "sk-test-echoed-key-42"


def _generate(coco_mini, out, url, env=None):
    args = ["generate", "echo_qa", *coco_args(coco_mini), "--out", out, "--model", "m", "--base-url", url]
    return run_echo_cli(*args, "--limit", "3", env=env)


def _everything_written(folder) -> str:
    return (
        "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
        if folder.exists()
        else ""
    )


def test_password_in_base_url_is_refused_and_never_echoed(tmp_path, coco_mini, fake_llm):
    url = fake_llm.url.replace("http://", f"http://user:{PASSWORD}@")
    done = _generate(coco_mini, tmp_path / "run", url)
    assert done.returncode == 2, done.stderr  # was exit 70 (internal error) and the password in run.json
    assert "holds a user name and password" in done.stderr and "user:***@" in done.stderr
    assert PASSWORD not in done.stderr + done.stdout + _everything_written(tmp_path / "run")
    assert fake_llm.log == []


def test_query_secret_in_base_url_works_and_is_masked(tmp_path, coco_mini):
    def reply(body):
        return "Q: What is here?\nA: A picture of a cat."

    with FakeServer(handler=reply) as srv:
        done = _generate(coco_mini, tmp_path / "run", f"{srv.url}?api_key={QUERY_KEY}")
        assert done.returncode == 0, done.stderr
        assert len(srv.log) == 3 and {e.path for e in srv.log} == {"/v1/chat/completions"}
    written = _everything_written(tmp_path / "run")
    assert QUERY_KEY not in done.stderr + done.stdout + written
    assert "?api_key=***" in written  # run.json says which endpoint, without the secret


def test_query_secret_is_masked_in_errors_too(tmp_path, coco_mini):
    with FakeServer(handler=lambda body: "x", models={"other"}) as srv:  # 404 for model "m"
        done = _generate(coco_mini, tmp_path / "run", f"{srv.url}?token={QUERY_KEY}")
    assert done.returncode == 4 and "HTTP 404" in done.stderr
    assert QUERY_KEY not in done.stderr + _everything_written(tmp_path / "run")


def test_key_echoed_by_the_server_is_masked_before_it_is_stored(tmp_path, coco_mini):
    def echo_key(body):
        user = body["messages"][-1]["content"]
        if user.split()[1].endswith(("1", "3", "5", "7", "9")):
            return f"the key is {API_KEY}"  # does not parse: a failure line with the raw reply
        return f"Q: What key was sent?\nA: It was {API_KEY}."

    env = {**os.environ, "OPENAI_API_KEY": API_KEY}
    with FakeServer(handler=echo_key, api_key=API_KEY) as srv:
        done = _generate(coco_mini, tmp_path / "run", srv.url, env=env)
    assert done.returncode in (0, 5), done.stderr
    written = _everything_written(tmp_path / "run")
    assert "It was ***." in written or "the key is ***" in written
    assert API_KEY not in written + done.stderr + done.stdout
