"""`generate --structured` end to end against the loopback server: the schema travels with every
request (live, --batch, --dry-run), drifted text replies cost re-asks that JSON replies do not, broken
JSON is re-asked then recorded, and a server that refuses response_format stops the run at once."""

from __future__ import annotations

import json
import os

import pytest
from support.cli import assert_one_line_error, run_cli
from support.fakereplies import ModelLike
from support.fakeserver import BadJSON, FakeServer, MissingField
from support.jsonl import read_jsonl, read_jsonl_if_exists

LLAVA = ("conversation", "detail_description", "complex_reasoning")


def _args(coco_mini, out, url, *extra):
    return ["generate", "llava", "--coco", str(coco_mini), "--split", "train2017", "--out", str(out),
            "--model", "m", "--base-url", url, "--quiet", *map(str, extra)]  # fmt: skip


class Recording:
    """A handler that keeps every request body, answered by `inner`."""

    def __init__(self, inner):
        self.inner, self.bodies = inner, []

    def __call__(self, body):
        self.bodies.append(body)
        return self.inner(body)


def test_drifted_text_replies_are_reasked_and_structured_replies_are_not(coco_mini, tmp_path, capsys):
    runs = {}
    for mode in ("text", "structured"):
        model = ModelLike(drift=0.3, seed=3)
        with FakeServer(handler=model) as srv:
            extra = ["--structured"] if mode == "structured" else []
            code, _, err = run_cli(_args(coco_mini, tmp_path / mode, srv.url, *extra), capsys)
            assert code == 0, err
            runs[mode] = (model, json.loads((tmp_path / mode / "run.json").read_text()), len(srv.log))
    text_model, text_meta, text_requests = runs["text"]
    json_model, json_meta, json_requests = runs["structured"]
    samples = 3 * 80
    reasked = text_meta["runs"][-1]["reasked"]
    # every unreadable drift was asked again (or, on a sample's last attempt, recorded as a parse
    # failure: which sample draws which drift depends on the order requests reach the server);
    # nothing else was
    given_up = text_meta["counts"]["failed"].get("parse", 0)
    assert reasked + given_up == text_model.unreadable() > 0
    assert text_requests == samples + reasked
    assert json_meta["runs"][-1]["reasked"] == 0 and json_requests == samples
    assert json_model.kinds == {"json:clean": samples}
    assert text_meta["config"]["structured"] is False and json_meta["config"]["structured"] is True
    assert text_meta["template_hashes"] != json_meta["template_hashes"]
    # and the records are the same either way
    text_recs = {r["sample_id"]: r["conversations"] for r in read_jsonl(tmp_path / "text" / "results.jsonl")}
    json_recs = {
        r["sample_id"]: r["conversations"] for r in read_jsonl(tmp_path / "structured" / "results.jsonl")
    }
    assert len(json_recs) == samples
    clean = [sid for sid in json_recs if sid in text_recs]
    same = sum(text_recs[sid] == json_recs[sid] for sid in clean)
    assert same >= 0.7 * samples  # all but the drifted ones that survive with a lead-in or remark


def test_response_format_is_in_live_batch_and_dry_run_requests(coco_mini, tmp_path, capsys):
    live = Recording(ModelLike())
    with FakeServer(handler=live) as srv:
        code, _, err = run_cli(
            _args(coco_mini, tmp_path / "live", srv.url, "--structured", "--limit", "2"), capsys
        )
        assert code == 0, err
        live_bodies = list(live.bodies)  # the batch's lines are answered by the same handler
        os.environ["DATAGEN_BATCH_POLL"] = "0.01"
        try:
            batch_args = _args(
                coco_mini, tmp_path / "batch", srv.url, "--structured", "--limit", "2", "--batch"
            )
            code, _, err = run_cli(batch_args, capsys)
        finally:
            del os.environ["DATAGEN_BATCH_POLL"]
        assert code == 0, err
    code, _, err = run_cli(
        _args(
            coco_mini, tmp_path / "dry", "http://127.0.0.1:9/v1", "--structured", "--limit", "2", "--dry-run"
        ),
        capsys,
    )
    assert code == 0, err
    dry = {x["custom_id"]: x["body"] for x in read_jsonl(tmp_path / "dry" / "requests.jsonl")}
    uploaded = [x["body"] for x in read_jsonl(tmp_path / "batch" / "requests.jsonl")]
    assert len(live_bodies) == len(dry) == len(uploaded) == 6
    for body in [*live_bodies, *dry.values(), *uploaded]:
        rf = body["response_format"]
        assert rf["type"] == "json_schema" and rf["json_schema"]["strict"] is True
        assert rf["json_schema"]["name"] in LLAVA
        assert json.loads(body["messages"][2]["content"])  # the few-shot answers are JSON too
    # the dry run writes exactly the bodies a live run sends
    assert sorted(json.dumps(b, sort_keys=True) for b in dry.values()) == sorted(
        json.dumps(b, sort_keys=True) for b in live_bodies
    )
    assert len(read_jsonl(tmp_path / "batch" / "results.jsonl")) == 6


def test_bad_json_and_missing_fields_are_reasked_then_recorded(coco_mini, tmp_path, capsys):
    with FakeServer(handler=ModelLike()) as srv:
        # first sample: cut-off JSON, then fine; second: a field missing three times in a row
        srv.script(BadJSON(), MissingField("answer"), MissingField("answer"), MissingField("answer"))
        args = _args(coco_mini, tmp_path / "r", srv.url, "--structured", "--tasks", "complex_reasoning",
                     "--limit", "2", "--concurrency", "1")  # fmt: skip
        code, _, err = run_cli(args, capsys)
        assert code == 0, err
    results = read_jsonl(tmp_path / "r" / "results.jsonl")
    (failure,) = read_jsonl(tmp_path / "r" / "failures.jsonl")
    assert len(results) == 1 and results[0]["usage"]["prompt_tokens"] > 0
    assert failure["stage"] == "parse" and failure["attempts"] == 3
    assert failure["reason"] == "reply has no field 'answer'"
    assert json.loads(failure["raw"]).keys() == {"question"}
    meta = json.loads((tmp_path / "r" / "run.json").read_text())
    assert meta["runs"][-1]["reasked"] == 3


def test_structured_run_beside_a_text_run_resends_only_under_new_keys(coco_mini, tmp_path, capsys):
    with FakeServer(handler=ModelLike()) as srv:
        base = _args(coco_mini, tmp_path / "r", srv.url, "--tasks", "conversation", "--limit", "3")
        assert run_cli(base, capsys)[0] == 0
        assert run_cli(base, capsys)[0] == 0  # text re-run: nothing to send
        assert len(srv.log) == 3
        assert run_cli([*base, "--structured"], capsys)[0] == 0  # new keys: sent again
        assert len(srv.log) == 6
        assert run_cli([*base, "--structured"], capsys)[0] == 0  # structured re-run: nothing to send
        assert len(srv.log) == 6
    rows = read_jsonl(tmp_path / "r" / "results.jsonl")
    assert len(rows) == 6 and len({r["request_key"] for r in rows}) == 6


@pytest.mark.parametrize("mode", ["live", "batch"])
def test_a_server_refusing_response_format_stops_the_run(coco_mini, tmp_path, capsys, mode):
    with FakeServer(handler=ModelLike(), refuse_response_format=True) as srv:
        extra = ["--batch"] if mode == "batch" else ["--concurrency", "4"]
        os.environ["DATAGEN_BATCH_POLL"] = "0.01"
        try:
            code, _, err = run_cli(_args(coco_mini, tmp_path / "r", srv.url, "--structured", *extra), capsys)
        finally:
            del os.environ["DATAGEN_BATCH_POLL"]
    chat = [e for e in srv.log if e.path == "/v1/chat/completions"]  # the server has stopped: all logged
    assert_one_line_error(code, err, "refuses response_format", "drop --structured")
    if mode == "live":
        assert len(chat) <= 4  # at most what was in flight: not 240 failed requests
        assert srv.count(400) == len(chat)
    assert not read_jsonl_if_exists(tmp_path / "r" / "results.jsonl")
