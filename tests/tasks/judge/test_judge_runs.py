"""`datagen judge` end to end against the loopback server: scores keyed by sample round-trip into
export filtering (every format, LLaVA JSON and HF inputs too), stats and review show them, drifted
verdicts are re-asked and --structured ones are not, pairwise swaps positions on every other pair
and reports the relative score, and a run killed with -9 resumes without paying twice."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest
from support.cli import assert_one_line_error
from support.cli import run_cli as _run_cli
from support.fakereplies import ModelLike, pair_scores
from support.fakeserver import FakeServer
from support.jsonl import read_jsonl, read_jsonl_if_exists

from datagen.engine.generate import run_generate
from datagen.engine.options import task_options
from datagen.sources.load import SourceSpec

LLAVA = ["conversation", "detail_description", "complex_reasoning"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, coco_mini):
    """A real LLaVA run over the 80 COCO-mini train images (240 samples)."""
    out = tmp_path_factory.mktemp("gen") / "run"
    src = SourceSpec(coco=coco_mini, split="train2017")
    with FakeServer(handler=ModelLike()) as srv:
        from support.engine_helpers import engine_config

        run_generate(LLAVA, source=src, opts=task_options(LLAVA), cfg=engine_config(srv.url), out=out)
    assert len(read_jsonl(out / "results.jsonl")) == 240
    return out


@pytest.fixture
def server():
    with FakeServer(handler=ModelLike()) as srv:
        yield srv


def run_cli(args, capsys):
    return _run_cli([str(a) for a in args], capsys)


def judge(capsys, srv, *args):
    return run_cli(["judge", *args, "--model", "judge-m", "--base-url", srv.url, "--quiet"], capsys)


def scores_of(judge_dir):
    return {r["judged"]: r["score"] for r in read_jsonl(judge_dir / "results.jsonl")}


def test_scores_round_trip_into_export_filtering(run_dir, server, tmp_path, capsys):
    code, out, err = judge(capsys, server, run_dir, "--out", tmp_path / "j")
    assert code == 0, err
    scores = scores_of(tmp_path / "j")
    samples = {r["sample_id"]: r for r in read_jsonl(run_dir / "results.jsonl")}
    assert set(scores) == set(samples)  # keyed by sample id, every sample scored once
    assert f"judge: 240 samples scored (mean score {sum(scores.values()) / 240:.2f})" in out
    keep = {sid for sid, s in scores.items() if s >= 7}
    assert 0 < len(keep) < 240

    code, _, err = run_cli(["export", "llava", run_dir, "--out", tmp_path / "l.json",
                            "--min-judge-score", "7", "--judge", tmp_path / "j"], capsys)  # fmt: skip
    assert code == 0, err
    assert f"kept {len(keep)} of 240 samples scored 7 or more" in err
    exported = json.loads((tmp_path / "l.json").read_text())

    def dump(conv):
        return json.dumps(conv, sort_keys=True)

    assert sorted(dump(r["conversations"]) for r in exported) == sorted(
        dump(samples[s]["conversations"]) for s in keep
    )

    # the exported array has no sample ids: its records still find their scores (by content)
    code, _, err = run_cli(["export", "llava", tmp_path / "l.json", "--out", tmp_path / "again.json",
                            "--min-judge-score", "7", "--judge", tmp_path / "j"], capsys)  # fmt: skip
    assert code == 0 and f"kept {len(keep)} of {len(keep)} samples" in err
    code, _, err = run_cli(["export", "hf", run_dir, "--out", tmp_path / "hf",
                            "--min-judge-score", "7", "--judge", tmp_path / "j"], capsys)  # fmt: skip
    assert code == 0, err
    from datagen.rundir.samples import load_samples

    assert {r["sample_id"] for r in load_samples(tmp_path / "hf")} == keep  # read back from parquet
    code, _, err = run_cli(["adapt", "llama-factory", run_dir, "--out", tmp_path / "lf",
                            "--min-judge-score", "7", "--judge", tmp_path / "j"], capsys)  # fmt: skip
    assert code == 0, err
    assert len(json.loads((tmp_path / "lf" / "datagen.json").read_text())) == len(keep)

    code, out, _ = run_cli(["stats", run_dir, "--judge", tmp_path / "j", "--json"], capsys)
    stats = json.loads(out)["judge"]
    assert stats["scored"] == 240 and stats["not_scored"] == 0
    assert sum(stats["scores"].values()) == 240 and sum(stats["scores"][str(k)] for k in range(7, 11)) == len(
        keep
    )


def test_judge_flags_must_go_together(run_dir, tmp_path, capsys):
    code, _, err = run_cli(
        ["export", "llava", run_dir, "--out", tmp_path / "x.json", "--min-judge-score", "7"], capsys
    )
    assert_one_line_error(code, err, "--min-judge-score and --judge go together")
    code, _, err = run_cli(
        [
            "export",
            "llava",
            run_dir,
            "--out",
            tmp_path / "x.json",
            "--min-judge-score",
            "7",
            "--judge",
            run_dir,
        ],
        capsys,
    )
    assert_one_line_error(code, err, "not a judge result")


def test_drifted_verdicts_are_reasked_and_structured_ones_are_not(run_dir, tmp_path, capsys):
    results = {}
    for mode in ("text", "structured"):
        model = ModelLike(drift=0.3, seed=5)
        with FakeServer(handler=model) as srv:
            extra = ["--structured"] if mode == "structured" else []
            code, _, err = judge(capsys, srv, run_dir, "--out", tmp_path / mode, *extra)
            assert code == 0, err
            meta = json.loads((tmp_path / mode / "run.json").read_text())
            given_up = meta["counts"]["failed"].get("parse", 0)
            results[mode] = (model, meta["runs"][-1]["reasked"], given_up, len(srv.log))
    text_model, text_reasked, text_given_up, text_requests = results["text"]
    # Every unreadable drift was asked again, or, when drawn on a sample's last attempt, recorded as
    # a parse failure (which sample draws which drift depends on the order requests arrive).
    assert text_reasked + text_given_up == text_model.unreadable() > 0
    assert text_requests == 240 + text_reasked
    assert results["structured"][1:] == (0, 0, 240)
    text_scores, structured_scores = scores_of(tmp_path / "text"), scores_of(tmp_path / "structured")
    assert len(text_scores) == 240 - text_given_up and len(structured_scores) == 240
    # the same verdicts either way
    assert text_scores == {k: v for k, v in structured_scores.items() if k in text_scores}


def test_samples_without_context_are_refused_and_a_source_fixes_it(
    run_dir, server, tmp_path, coco_mini, capsys
):
    code, _, err = run_cli(["export", "hf", run_dir, "--out", tmp_path / "hf"], capsys)
    assert code == 0, err
    code, _, err = judge(capsys, server, tmp_path / "hf", "--out", tmp_path / "j1", "--limit", "5")
    assert "5 sample(s) have no captions/boxes" in err
    assert_one_line_error(code, err.splitlines()[-1], "no sample was scored")
    refused = read_jsonl(tmp_path / "j1" / "failures.jsonl")
    assert {(f["stage"], f["filter"], f["attempts"]) for f in refused} == {("filter", "no_context", 0)}
    assert len(server.log) == 0  # nothing was sent for them
    code, _, err = judge(capsys, server, tmp_path / "hf", "--out", tmp_path / "j1", "--limit", "5",
                         "--coco", coco_mini, "--split", "train2017")  # fmt: skip
    assert code == 0, err
    assert len(read_jsonl(tmp_path / "j1" / "results.jsonl")) == 5
    assert not read_jsonl_if_exists(tmp_path / "j1" / "failures.jsonl")  # the refusals are replaced


class Recording(ModelLike):
    def __init__(self):
        super().__init__()
        self.bodies = []

    def __call__(self, body):
        self.bodies.append(body)
        return super().__call__(body)


def test_pairwise_swaps_positions_and_reports_the_relative_score(run_dir, tmp_path, capsys):
    b = tmp_path / "b"
    b.mkdir()
    shutil.copy(run_dir / "run.json", b / "run.json")  # B's contexts: the same recorded source
    rows = read_jsonl(run_dir / "results.jsonl")[:40]
    for r in rows:
        r["conversations"][-1]["value"] += " It is a fairly ordinary sight."
    (b / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = Recording()
    with FakeServer(handler=model) as srv:
        code, out, err = judge(capsys, srv, "--pairwise", run_dir, b, "--out", tmp_path / "pw")
    assert code == 0, err
    assert "200 sample(s) of A and 0 of B have no partner" in err
    verdicts = read_jsonl(tmp_path / "pw" / "results.jsonl")
    assert len(verdicts) == 40 and sum(v["swapped"] for v in verdicts) == 20
    b_text = {r["sample_id"]: r["conversations"][-1]["value"] for r in rows}
    by_pair = {v["pair"]: v for v in verdicts}
    for body in model.bodies:
        user = body["messages"][-1]["content"]
        (sid,) = [s for s, text in b_text.items() if text in user]  # which pair this request is
        v = by_pair[sid]
        b_first = user.index(b_text[sid]) < user.index("Sample 2:")
        assert b_first == v["swapped"]
        one, two = pair_scores(body)
        assert (v["score_a"], v["score_b"]) == ((two, one) if b_first else (one, two))
    summary = json.loads((tmp_path / "pw" / "pairwise.json").read_text())
    mean_a = sum(v["score_a"] for v in verdicts) / 40
    mean_b = sum(v["score_b"] for v in verdicts) / 40
    assert summary["relative_score"] == round(100 * mean_b / mean_a, 2)
    lo, hi = summary["ci95"]
    assert lo <= summary["relative_score"] <= hi and summary["swapped"] == 20
    assert f"relative score of B to A: {summary['relative_score']:.1f} (95% CI {lo:.1f}-{hi:.1f}" in out


def test_dry_run_and_batch_carry_the_verdict_schema(run_dir, server, tmp_path, capsys, monkeypatch):
    code, out, err = run_cli(["judge", run_dir, "--out", tmp_path / "dry", "--dry-run", "--structured",
                              "--limit", "4"], capsys)  # fmt: skip
    assert code == 0, err and "wrote 4 requests (judge 4)" in out
    bodies = [x["body"] for x in read_jsonl(tmp_path / "dry" / "requests.jsonl")]
    assert all(b["response_format"]["json_schema"]["name"] == "judge_verdict" for b in bodies)
    assert all(b["temperature"] == 0.0 for b in bodies)
    monkeypatch.setenv("DATAGEN_BATCH_POLL", "0.01")
    code, out, err = judge(capsys, server, run_dir, "--out", tmp_path / "batch", "--batch", "--structured",
                           "--limit", "4")  # fmt: skip
    assert code == 0, err and "judge: 4 samples scored" in out
    assert server.batches_created == 1


def test_kill_9_then_resume_pays_for_nothing_twice(run_dir, tmp_path):
    out = tmp_path / "j"
    results = out / "results.jsonl"
    with FakeServer(handler=ModelLike(), latency=0.03) as srv:
        args = [sys.executable, "-m", "datagen", "judge", str(run_dir), "--out", str(out), "--model", "m",
                "--base-url", srv.url, "--concurrency", "4", "--quiet"]  # fmt: skip
        proc = subprocess.Popen(args)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if results.exists() and results.read_bytes().count(b"\n") >= 25:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = [json.loads(x) for x in results.read_text().splitlines() if x.endswith("}")]
        assert 25 <= len(first) < 240, "the kill should land mid-run"
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        final = read_jsonl(results)
        assert len(final) == 240 and len({r["judged"] for r in final}) == 240  # every sample once
        counts = srv.completed_counts()
        assert len(counts) == 240
        # the re-run asked only for what was not in results.jsonl: at most the 4 in flight twice
        assert sum(c - 1 for c in counts.values()) <= 4 and len(srv.log) <= 244
