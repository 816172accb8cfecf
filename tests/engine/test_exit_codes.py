"""A run in which every sample failed exits non-zero; most failing is a warning, and
`--max-failure-rate R` makes more than R an error (exit 5). Everything finished is still saved."""

from __future__ import annotations

from support.engine_helpers import echo_qa_args, good_reply, run_echo_cli
from support.fakeserver import FakeServer, Status
from support.jsonl import read_jsonl


def three_in_four_refused(body: dict):
    sid = int(body["messages"][-1]["content"].split()[1])
    return good_reply(body) if sid % 4 == 0 else Status(400, "this request is refused")


def test_every_sample_failed_is_an_error(tmp_path, coco_mini):
    out = tmp_path / "run"
    with FakeServer(handler=lambda body: Status(400, "nope")) as srv:
        done = run_echo_cli(*echo_qa_args(coco_mini, out, srv.url, "--quiet"))
    assert done.returncode == 5  # was 0 with 0 of 80
    assert "Error: every sample failed: 0 of 80 succeeded (request 80)" in done.stderr
    assert f"the reasons are in {out / 'failures.jsonl'}" in done.stderr
    assert len(read_jsonl(out / "failures.jsonl")) == 80


def test_most_failed_warns_and_max_failure_rate_makes_it_an_error(tmp_path, coco_mini):
    out = tmp_path / "run"
    with FakeServer(handler=three_in_four_refused) as srv:
        warned = run_echo_cli(*echo_qa_args(coco_mini, out, srv.url, "--quiet"))
        assert warned.returncode == 0, warned.stderr
        assert "WARNING: most samples failed:" in warned.stderr
        ok = len(read_jsonl(out / "results.jsonl"))
        failed = 80 - ok
        assert f"{failed} of 80 samples failed" in warned.stderr

        strict = run_echo_cli(*echo_qa_args(coco_mini, out, srv.url, "--quiet", "--max-failure-rate", "0.5"))
        assert strict.returncode == 5
        assert f"Error: {failed} of 80 samples failed" in strict.stderr
        assert "more than --max-failure-rate 0.5" in strict.stderr
        assert len(read_jsonl(out / "results.jsonl")) == ok  # nothing finished was lost

        loose = run_echo_cli(*echo_qa_args(coco_mini, out, srv.url, "--quiet", "--max-failure-rate", "0.9"))
        assert loose.returncode == 0, loose.stderr
        bad = run_echo_cli(*echo_qa_args(coco_mini, out, srv.url, "--max-failure-rate", "2"))
        assert bad.returncode == 2 and "--max-failure-rate must be from 0 to 1" in bad.stderr
