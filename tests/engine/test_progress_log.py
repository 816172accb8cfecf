"""What a run prints off a terminal (nohup, Slurm, CI): timed progress lines, `--json-progress`,
`--quiet`, and the end-of-run summary that says where the results are and what to run next."""

from __future__ import annotations

import json
import re

from support.engine_helpers import coco_args, good_reply, run_echo_cli
from support.fakeserver import FakeServer

LINE = re.compile(
    r"^echo_qa: (\d+)/(\d+) \(\d+%\) \| [\d.]+ req/s \| (\d+) failed \| ([\d,]+) tokens \| (\$\S+) \| "
    r"elapsed \S+ \| ETA \S+$"
)


def _run(srv, coco_mini, out, *extra):
    return run_echo_cli(
        "generate", "echo_qa", *coco_args(coco_mini), "--limit", "12", "-o", out, "--model", "m",
        "--base-url", srv.url, "--concurrency", "1", *extra,
    )  # fmt: skip


def test_progress_lines_every_n_seconds_when_stderr_is_not_a_terminal(tmp_path, coco_mini):
    with FakeServer(handler=good_reply, latency=0.12) as srv:  # 12 samples one at a time: ~1.5 s
        p = _run(srv, coco_mini, tmp_path / "r", "--log-every", "0.4", "--price-in", "1", "--price-out", "2")
    assert p.returncode == 0, p.stderr
    lines = [m for m in map(LINE.match, p.stderr.splitlines()) if m]
    assert len(lines) >= 3, p.stderr  # at least two timed lines, then the last one with the summary
    done = [int(m.group(1)) for m in lines]
    assert done == sorted(done) and 0 < done[0] < 12 and done[-1] == 12
    assert all(m.group(2) == "12" and m.group(3) == "0" for m in lines)
    assert lines[-1].group(5).startswith("$0.") and int(lines[-1].group(4).replace(",", "")) > 0
    assert "\x1b[" not in p.stderr  # plain text in a log


def test_default_interval_prints_only_the_final_line_of_a_short_run(tmp_path, coco_mini):
    with FakeServer(handler=good_reply) as srv:
        p = _run(srv, coco_mini, tmp_path / "r")
    assert p.returncode == 0, p.stderr
    lines = [m for m in map(LINE.match, p.stderr.splitlines()) if m]
    assert [m.group(1) for m in lines] == ["12"]


def test_json_progress_is_one_object_per_line(tmp_path, coco_mini):
    with FakeServer(handler=good_reply, latency=0.12) as srv:
        p = _run(srv, coco_mini, tmp_path / "r", "--json-progress", "--log-every", "0.4")
    assert p.returncode == 0, p.stderr
    events = [json.loads(line) for line in p.stderr.splitlines()]  # every stderr line is JSON
    progress = [e for e in events if e["event"] == "progress"]
    assert len(progress) >= 2 and progress[-1]["final"] is True and progress[-1]["done"] == 12
    assert set(progress[0]) >= {"done", "total", "failed", "req_per_s", "tokens", "cost_usd", "eta_s"}
    summary = next(e for e in events if e["event"] == "summary")
    assert summary["succeeded"] == 12 and summary["samples"] == 12
    nxt = next(e for e in events if e["event"] == "next")
    assert any(line.startswith("  datagen stats ") for line in nxt["lines"])


def test_quiet_silences_progress_lines_and_next_steps(tmp_path, coco_mini):
    with FakeServer(handler=good_reply, latency=0.05) as srv:
        p = _run(srv, coco_mini, tmp_path / "r", "-q", "--log-every", "0.1")
    assert p.returncode == 0 and p.stderr == "" and p.stdout == ""


def test_summary_says_where_results_are_what_next_why_cost_is_unknown_and_top_failures(tmp_path, coco_mini):
    def reply(body):  # every third sample answers in a shape echo_qa cannot parse
        n = int(body["messages"][-1]["content"].split()[1])
        return "no idea" if n % 3 == 0 else good_reply(body)

    out = tmp_path / "r"
    with FakeServer(handler=reply) as srv:
        p = run_echo_cli(
            "generate", "echo_qa", *coco_args(coco_mini), "--limit", "12", "-o", out,
            "--model", "my-local-model", "--base-url", srv.url, "--max-attempts", "1",
        )  # fmt: skip
    assert p.returncode == 0, p.stderr
    err = p.stderr
    failures = [json.loads(x) for x in (out / "failures.jsonl").read_text().splitlines()]
    ok = len((out / "results.jsonl").read_text().splitlines())
    assert failures and ok and ok + len(failures) == 12
    assert f"results: {ok} samples in {out / 'results.jsonl'}" in err
    assert f"failures: {len(failures)} in {out / 'failures.jsonl'}; most common:" in err
    # one reason however the quoted reply differs, with a real example
    assert f"  {len(failures)} x parse: expected '…' and '…' lines, got '…' (e.g. expected 'Q: ...'" in err
    assert (
        "cost shows $?: model 'my-local-model' is not in the price table; pass --price-in and --price-out"
        in err
    )
    assert f"  datagen stats {out}" in err and f"  datagen export llava {out} -o " in err
    assert f"  datagen review {out} --images IMAGE_ROOT" in err


def test_a_known_price_gives_no_cost_hint(tmp_path, coco_mini):
    with FakeServer(handler=good_reply) as srv:
        p = _run(srv, coco_mini, tmp_path / "r", "--price-in", "0.5", "--price-out", "1")
    assert p.returncode == 0, p.stderr
    assert "cost shows $?" not in p.stderr and "failures:" not in p.stderr


def test_batch_runs_log_the_batch_status_while_they_wait(tmp_path, coco_mini):
    import os

    with FakeServer(handler=good_reply, batch_polls=6) as srv:
        p = run_echo_cli(
            "generate", "echo_qa", *coco_args(coco_mini), "--limit", "4", "-o", tmp_path / "r", "--model", "m",
            "--base-url", srv.url, "--batch", "--log-every", "0.1",
            env={**os.environ, "DATAGEN_BATCH_POLL": "0.05"},
        )  # fmt: skip
    assert p.returncode == 0, p.stderr
    waiting = [line for line in p.stderr.splitlines() if line.startswith("echo_qa: batch batch_000001 ")]
    assert waiting and "in_progress | 0/0 answered | 0 failed" in waiting[0], p.stderr
    assert [m.group(1) for m in map(LINE.match, p.stderr.splitlines()) if m] == ["4"]  # then the last line
