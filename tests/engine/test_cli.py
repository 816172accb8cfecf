"""`datagen generate` live path: progress display, --quiet, summary, run.json, bad engine flags."""

from __future__ import annotations

import json

import pytest
from support.engine_helpers import coco_args, good_reply, run_echo_cli
from support.fakeserver import FakeServer


def test_live_run_shows_summary_and_writes_run_dir(tmp_path, coco_mini):
    with FakeServer(handler=good_reply) as srv:
        p = run_echo_cli(
            "generate",
            "echo_qa",
            *coco_args(coco_mini),
            "--limit",
            "10",
            "--out",
            tmp_path / "r",
            "--model",
            "gpt-4o-mini",
            "--base-url",
            srv.url,
            "--concurrency",
            "3",
            "--rpm",
            "6000",
        )
    assert p.returncode == 0, p.stderr
    assert "succeeded" in p.stderr and "10" in p.stderr and "cost" in p.stderr
    assert p.stdout == ""  # stdout stays clean for piping
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["config"]["model"] == "gpt-4o-mini" and meta["config"]["rpm"] == 6000
    assert meta["config"]["tasks"] == ["echo_qa"] and meta["counts"]["done"] == 10
    assert meta["tokens"]["prompt"] > 0 and meta["cost"]["usd"] > 0  # gpt-4o-mini is in the price table
    assert meta["template_hashes"] == {"echo_qa": "t0"}
    lines = (tmp_path / "r" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 10


def test_quiet_prints_nothing(tmp_path, coco_mini):
    with FakeServer(handler=good_reply) as srv:
        p = run_echo_cli(
            "generate",
            "echo_qa",
            *coco_args(coco_mini),
            "--limit",
            "3",
            "--out",
            tmp_path / "r",
            "--model",
            "m",
            "--base-url",
            srv.url,
            "--quiet",
        )
    assert p.returncode == 0 and p.stdout == "" and p.stderr == ""


def test_price_overrides_are_used(tmp_path, coco_mini):
    with FakeServer(handler=good_reply) as srv:
        p = run_echo_cli(
            "generate",
            "echo_qa",
            *coco_args(coco_mini),
            "--limit",
            "2",
            "--out",
            tmp_path / "r",
            "--model",
            "local-llm",
            "--base-url",
            srv.url,
            "--quiet",
            "--price-in",
            "1000000",
            "--price-out",
            "0",
        )
    assert p.returncode == 0, p.stderr
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["cost"]["usd"] == pytest.approx(meta["tokens"]["prompt"])  # $1 per prompt token


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--shard", "3/3"], "--shard 3/3"),
        (["--shard", "x"], "expected K/N"),
        (["--batch", "--dry-run"], "exclude each other"),
        # no scheme: used to retry every request for half a minute, then exit 0 with all failed
        (["--base-url", "localhost:8000/v1"], "--base-url 'localhost:8000/v1' is not an http"),
        (["--base-url", "ftp://host/v1"], "not an http:// or https:// URL"),
    ],
)
def test_bad_engine_flags_are_one_line_errors(tmp_path, coco_mini, flags, message):
    p = run_echo_cli(
        "generate", "echo_qa", *coco_args(coco_mini), "--out", tmp_path / "r", "--model", "m", *flags
    )
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr
    assert p.stderr.startswith("Error: ") and len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r" / "results.jsonl").exists()


def test_bad_openai_base_url_env_is_named(tmp_path, coco_mini):
    import os

    env = {**os.environ, "OPENAI_BASE_URL": "127.0.0.1:8000/v1"}
    p = run_echo_cli(
        "generate", "echo_qa", *coco_args(coco_mini), "--out", tmp_path / "r", "--model", "m", env=env
    )
    assert p.returncode == 2 and "OPENAI_BASE_URL '127.0.0.1:8000/v1'" in p.stderr


def test_unreachable_server_is_one_clear_line(tmp_path, coco_mini):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    p = run_echo_cli(
        "generate",
        "echo_qa",
        *coco_args(coco_mini),
        "--out",
        tmp_path / "r",
        "--model",
        "m",
        "--base-url",
        url,
        "--quiet",
    )
    assert p.returncode == 4 and "cannot connect" in p.stderr and url in p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_fatal_error_without_quiet_is_still_one_line(tmp_path, coco_mini):
    """Off a terminal the progress display must not leave a blank line before the `Error:` line."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    p = run_echo_cli(
        "generate",
        "echo_qa",
        *coco_args(coco_mini),
        "--out",
        tmp_path / "r",
        "--model",
        "m",
        "--base-url",
        url,
    )
    assert p.returncode == 4 and p.stderr.startswith("Error: ") and "cannot connect" in p.stderr
    assert len(p.stderr.splitlines()) == 1
