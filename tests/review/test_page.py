"""The review page's HTML: escaping, header counts, box positions, images linked or embedded."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image
from support.jsonl import write_jsonl
from support.paths import REPO
from support.review_support import contexts_from_coco, llava_record, make_run, raw_boxes

from datagen.review import build_review
from datagen.review.page import script_json


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>, as a browser would parse them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def payload(html: str) -> dict:
    """The JSON the page script draws cards from, parsed back as the browser's JSON.parse would."""
    return json.loads(Tags(html).scripts[0])


def cards(html: str) -> list[dict]:
    return payload(html)["cards"]


@pytest.fixture()
def contexts(coco_mini: Path) -> list[dict]:
    return contexts_from_coco(coco_mini)


@pytest.fixture()
def images(coco_mini: Path) -> Path:
    return coco_mini / "val2017"


def build(tmp_path: Path, images: Path, run: Path, ctx: list[dict] | None = None, **kw) -> tuple[str, object]:
    paths = (write_jsonl(tmp_path / "ctx.jsonl", ctx),) if ctx else ()
    res = build_review(run, images=images, out=tmp_path / "out" / "review.html", contexts=paths, **kw)
    return res.out.read_text(encoding="utf-8"), res


def test_data_text_is_escaped_everywhere(tmp_path, images, contexts):
    evil = '<script>alert("x")</script></script><!-- & "quoted" \u2028'
    evil_cat = '"><img src=x onerror=alert(1)>'
    contexts[0]["captions"].append(evil)
    contexts[0]["boxes"].append({"category": evil_cat, "bbox": [0.1, 0.1, 0.2, 0.2]})
    run = tmp_path / "run"
    made = make_run(run, contexts)
    rec = made["results"][0]
    rec["conversations"][1]["value"] = evil
    rec["task"] = 'conv"<b>'
    rec["sample_id"] = 'conv"<b>:' + rec["id"]
    rec["model"] = "<i>m</i>"
    write_jsonl(run / "results.jsonl", made["results"])
    html, _ = build(tmp_path, images, run, contexts)

    assert "<script>alert" not in html and "onerror=alert(1)>" not in html and "<i>m</i>" not in html
    parsed = Tags(html)
    # Only our own two scripts, and no element carries an event handler.
    assert len(parsed.scripts) == 2
    assert not [a for _, a in parsed.tags for k in a if k.startswith("on")]
    # Server-rendered header text is HTML-escaped (task name in the table and the filter, model name).
    assert any(t == "option" and a.get("value") == 'conv"<b>' for t, a in parsed.tags)
    assert "<th>conv&quot;&lt;b&gt;</th>" in html and "<dd>test-model, &lt;i&gt;m&lt;/i&gt;</dd>" in html
    # Card data reaches the script intact (the script puts it in text nodes only).
    data = payload(html)
    assert evil in data["contexts"]["000000126107"]["captions"]
    assert data["cards"][0]["conv"][1] == ["gpt", evil] and data["cards"][0]["task"] == 'conv"<b>'
    assert evil_cat in [b["category"] for b in data["contexts"]["000000126107"]["boxes"]]
    script = (REPO / "datagen" / "review" / "assets" / "review.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script


def test_json_in_script_cannot_close_the_element():
    data = {"s": "</script><!-- <script> ]]> & \u2028\u2029", "n": [1, 2]}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == data


def test_page_json_and_csp_hash_match_the_inline_script(tmp_path, images, contexts):
    run = tmp_path / "run"
    make_run(run, contexts)
    html, _ = build(tmp_path, images, run, contexts, embed=True)
    parsed = Tags(html)
    data = json.loads(parsed.scripts[0])
    assert set(data) >= {"pageKey", "cards", "contexts", "images"}
    csp = next(
        a["content"]
        for t, a in parsed.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    digest = base64.b64encode(hashlib.sha256(parsed.scripts[1].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "http" not in csp  # nothing may load from the network


def stats_rows(html: str) -> dict[str, list[int]]:
    table = re.search(r'<table class="stats">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr[^>]*><th>([^<]*)</th>((?:<td>\d+</td>)+)</tr>", table)
    return {name: [int(v) for v in re.findall(r"\d+", cells)] for name, cells in rows}


def test_header_counts_tasks_failures_and_filter_drops(tmp_path, images, contexts):
    run = tmp_path / "run"
    make_run(run, contexts)
    html, res = build(tmp_path, images, run, contexts, include_failures=True)
    # samples, request, parse, filter. The request failure of detail_description was redone by a
    # later run (it is in results.jsonl), and the parse failure was superseded by the filter drop.
    assert stats_rows(html) == {
        "complex_reasoning": [2, 0, 0, 1],
        "conversation": [3, 0, 0, 0],
        "detail_description": [3, 0, 0, 0],
        "all": [8, 0, 0, 1],
    }
    assert "<dt>filter drops (failures.jsonl)</dt><dd>too_short: 1</dd>" in html
    assert "<dt>model</dt><dd>test-model</dd>" in html
    assert "<dt>template conversation</dt><dd>hash-conversation</dd>" in html
    assert "<dd>8 of 8 samples, 1 failure</dd>" in html
    got = cards(html)
    assert [c["kind"] for c in got] == ["sample"] * 8 + ["failure"]
    assert got[0]["prov"] == "model test-model · template_hash hash-conversation · tokens 900 in / 120 out"
    assert got[-1]["failure"] == {
        "what": "filtered by too_short",
        "attempts": " after 1 attempt",
        "reason": "answer has 3 words, minimum 10",
        "raw": "Question: Why?\n===\nAnswer: Because.",
    }


def test_filter_drops_follow_failures_jsonl_over_run_json(tmp_path, images, contexts):
    run = tmp_path / "run"
    made = make_run(run, contexts)
    meta = made["meta"]
    meta["filter_counts"] = {"too_short": 7}  # stale: a resume rewrote failures.jsonl since
    (run / "run.json").write_text(json.dumps(meta))
    extra = {"sample_id": "conversation:x", "id": "x", "task": "conversation", "stage": "filter",
             "filter": "too_short", "reason": "short", "attempts": 1}  # fmt: skip
    write_jsonl(run / "failures.jsonl", [*made["failures"], extra])
    html, _ = build(tmp_path, images, run, contexts)
    assert "<dt>filter drops (failures.jsonl)</dt><dd>too_short: 2</dd>" in html
    assert stats_rows(html)["conversation"] == [3, 0, 0, 1]
    assert [c["kind"] for c in cards(html)] == ["sample"] * 8  # failures not shown without the flag


def test_filter_drops_from_run_json_without_failures_file(tmp_path, images, contexts):
    run = tmp_path / "run"
    made = make_run(run, contexts, failures=False)
    meta = made["meta"]
    del meta["filter_counts"]
    meta["filters"] = {"too_short": 4, "duplicate": 0, "refusal": 9}  # the engine's key
    (run / "run.json").write_text(json.dumps(meta))
    html, _ = build(tmp_path, images, run, contexts, include_failures=True)
    assert "<dt>filter drops (run.json)</dt><dd>refusal: 9, too_short: 4</dd>" in html
    assert [c["kind"] for c in cards(html)] == ["sample"] * 8


def test_failure_without_context_takes_its_image_from_a_sibling_sample(tmp_path, images, contexts):
    run = tmp_path / "run"
    make_run(run, contexts)
    html, _ = build(tmp_path, images, run, include_failures=True)
    failure = cards(html)[-1]
    assert failure["kind"] == "failure" and failure["ctx"] is None
    assert failure["image"] == "000000229358.jpg" and "src" in payload(html)["images"]["000000229358.jpg"]


def test_box_positions_for_a_known_image(tmp_path, images, contexts, coco_mini):
    run = tmp_path / "run"
    make_run(run, contexts)
    html, _ = build(tmp_path, images, run, contexts)
    data = payload(html)
    card = next(c for c in data["cards"] if c["key"] == "conversation:000000229358")
    boxes = data["contexts"][card["ctx"]]["boxes"]
    expected = raw_boxes(coco_mini, 229358)
    assert len(boxes) == len(expected) == 10
    displayed_w, displayed_h = 480, 480 * 423 / 640  # any display size: boxes are percentages of the frame
    for box, (want_cat, (x, y, w, h)) in zip(boxes, expected, strict=True):
        assert box["category"] == want_cat
        left, top, width, height = (float(v.rstrip("%")) / 100 for v in box["css"])
        # Pixel position at the displayed size, against the raw COCO pixel box scaled independently.
        assert left * displayed_w == pytest.approx(x * displayed_w / 640, abs=0.5)
        assert top * displayed_h == pytest.approx(y * displayed_h / 423, abs=0.5)
        assert width * displayed_w == pytest.approx(w * displayed_w / 640, abs=0.5)
        assert height * displayed_h == pytest.approx(h * displayed_h / 423, abs=0.5)
        assert box["small"] == (w / 640 < 0.06 or h / 423 < 0.06)
    assert data["images"]["000000229358.jpg"]["w"] == 640 and data["images"]["000000229358.jpg"]["h"] == 423


def test_malformed_boxes_are_listed_not_drawn(tmp_path, images, contexts):
    contexts[0]["boxes"] = [
        {"category": "cup", "bbox": [0.5, 0.5, 0.4, 0.9]},  # x2 < x1
        {"category": "dog", "bbox": "nope"},
        {"category": "cat", "bbox": [-0.2, 0.1, 1.4, 0.3]},  # clamped to the frame
    ]
    run = tmp_path / "run"
    make_run(run, contexts)
    boxes = payload(build(tmp_path, images, run, contexts)[0])["contexts"]["000000126107"]["boxes"]
    assert [("css" in b) for b in boxes] == [False, False, True]
    assert boxes[2]["css"] == ["0%", "10%", "100%", "20%"]


def test_images_linked_relative_to_the_page(tmp_path, images, contexts):
    run = tmp_path / "run"
    make_run(run, contexts)
    html, res = build(tmp_path, images, run, contexts)
    srcs = {v["src"] for v in payload(html)["images"].values()}
    assert len(srcs) == 3
    for src in srcs:
        assert not src.startswith(("/", "file:", "http"))
        target = Path(os.path.normpath(res.out.parent / unquote(src)))
        assert target.samefile(images / Path(unquote(src)).name)


def test_embed_makes_one_thumbnail_per_image(tmp_path, images, contexts):
    run = tmp_path / "run"
    make_run(run, contexts)
    html, _ = build(tmp_path, images, run, contexts, embed=True)
    data = payload(html)
    assert sorted(data["images"]) == ["000000126107.jpg", "000000165518.jpg", "000000229358.jpg"]
    assert len(data["cards"]) == 8 and html.count("data:image/jpeg;base64,") == 3
    for name, ref in data["images"].items():
        head, b64 = ref["src"].split(",", 1)
        assert head == "data:image/jpeg;base64"
        with Image.open(io.BytesIO(base64.b64decode(b64))) as im, Image.open(images / name) as orig:
            assert im.format == "JPEG" and max(im.size) == 512 and im.size == (ref["w"], ref["h"])
            assert im.width / im.height == pytest.approx(orig.width / orig.height, rel=0.01)


def test_sample_is_seeded_and_keeps_file_order(tmp_path, images, contexts):
    run = tmp_path / "run"
    made = make_run(run, contexts)
    order = [r["sample_id"] for r in made["results"]]

    def keys(seed: int) -> list[str]:
        html, _ = build(tmp_path, images, run, contexts, sample=3, seed=seed)
        return [c["key"] for c in cards(html)]

    a, b = keys(1), keys(1)
    assert a == b and len(a) == 3 and a == sorted(a, key=order.index)
    assert any(keys(s) != a for s in range(2, 6))
    html, _ = build(tmp_path, images, run, contexts, sample=3, seed=1)
    assert "<dd>3 of 8 samples</dd>" in html and stats_rows(html)["all"][0] == 8


def test_llava_json_file_input_and_missing_context(tmp_path, images, contexts):
    export = [
        {k: r[k] for k in ("id", "image", "conversations")}
        for r in make_run(tmp_path / "r", contexts)["results"]
    ]
    f = tmp_path / "llava_instruct.json"
    f.write_text(json.dumps(export))
    html, res = build(tmp_path, images, f)
    got = cards(html)
    assert [c["key"] for c in got] == [r["id"] for r in export]  # no sample_id: the id is the key
    assert {c["task"] for c in got} == {"unknown"}
    assert {c["ctx"] for c in got} == {None} and res.summary.contexts_missing == 8
    assert "<dt>cards without context</dt><dd>8</dd>" in html


def test_contexts_found_in_the_run_dir(tmp_path, images, contexts):
    run = tmp_path / "run"
    make_run(run, contexts)
    write_jsonl(run / "contexts.jsonl", contexts)
    html, res = build(tmp_path, images, run / "results.jsonl")
    assert res.summary.contexts_found == 8
    assert "A big, white seagull flies over a beach." in html


def test_invalid_records_and_extra_fields_are_shown(tmp_path, images, contexts):
    run = tmp_path / "run"
    rec = llava_record(contexts[0], "caption_rewrite", "A clean description.")
    rec["source_text"] = "a original <long> description"
    bad = llava_record(contexts[1], "conversation", "fine")
    bad["conversations"][0]["value"] = "no image token here"
    run.mkdir()
    write_jsonl(run / "results.jsonl", [rec, bad])
    html, res = build(tmp_path, images, run, contexts)
    got = cards(html)
    assert got[0]["extra"] == [["source_text", "a original <long> description"]] and "problems" not in got[0]
    assert got[1]["problems"] == "<image> appears 0 times, expected once"
    assert res.summary.invalid_records == 1 and "<dt>invalid records</dt><dd>1</dd>" in html


def test_missing_image_gets_a_placeholder(tmp_path, images, contexts):
    run = tmp_path / "run"
    ctx = [*contexts, dict(contexts[0], id="000000000042", image="000000000042.jpg")]
    make_run(run, ctx)
    html, res = build(tmp_path, images, run, ctx)
    assert res.missing_images == ["000000000042.jpg"]
    assert payload(html)["images"]["000000000042.jpg"]["missing"].startswith(
        "image not found: 000000000042.jpg"
    )
    assert "<dt>images missing</dt><dd>1</dd>" in html
