"""`datagen audit` figures on hand-written samples about the three bundled COCO val2017 images,
whose real annotations are the ground truth: exact CHAIR, recall, count, box and hygiene figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.jsonl import read_jsonl

from datagen.audit.run import AuditOptions, audit, run_audit
from datagen.audit.truth import TruthSpec

INSTANCES = Path("data/coco/annotations/instances_val2017.json")


def conv(*turns: str) -> list[dict[str, str]]:
    return [{"from": "human" if i % 2 == 0 else "gpt", "value": t} for i, t in enumerate(turns)]


# Another tool's LLaVA JSON: no task, no sample_id, mostly 2014-style file names (matched by number).
SAMPLES = [
    {"id": "s1", "image": "COCO_val2014_000000165518.jpg",  # motorcycle, person
     "conversations": conv("<image>\nDescribe the scene.", "A man rides a motorcycle past a dog. There is no car on the road.")},
    {"id": "s2", "image": "000000229358.jpg",  # 2 persons, 2 ties, bottle, cup, sink, bowl, cell phone, toothbrush
     "conversations": conv("<image>\nWhat is happening?", "Two men stand by the sink; one holds a cellphone and a toothbrush. A hot dog lies on the counter.",
                           "What else is there?", "There are three cups on the shelf.")},
    {"id": "s3", "image": "COCO_val2014_000000126107.jpg",  # bird, boat, 6 persons
     "conversations": conv("<image>\nWhere is the bird?", "A seagull flies over the beach at [0.35, 0.035, 0.997, 0.523], near a boat; the corner [0.0, 0.0, 0.1, 0.1] is empty sand.",
                           "Where is the boat?", "The boat is at [597, 418, 640, 480] in pixels.")},
    {"id": "s4", "image": "COCO_val2014_000000126107.jpg",
     "conversations": conv("<image>\nIs it sunny?", "Yes.")},
    {"id": "s5", "image": "COCO_val2014_000000999999.jpg",  # not in the annotations
     "conversations": conv("What is this?", "A cat rests quietly on a mat.")},
]  # fmt: skip


@pytest.fixture
def llava_json(tmp_path: Path) -> Path:
    p = tmp_path / "other_tool.json"
    p.write_text(json.dumps(SAMPLES))
    return p


def test_exact_figures(llava_json: Path) -> None:
    figures, col, _samples, _truth = audit(
        [llava_json], TruthSpec(instances=INSTANCES), AuditOptions(html=False)
    )
    h = figures["headline"]
    # mentions (each category once per sample): s1 person, motorcycle, dog*; s2 person, sink, cell phone,
    # toothbrush, hot dog*, cup; s3 bird, boat; s4 none. (* = absent from the image)
    assert h["chair_i"] == round(2 / 11, 4)
    assert h["chair_s"] == round(2 / 3, 4)
    # annotated categories named: s1 2/2, s2 5/8, s3 2/3, s4 0/3
    assert h["recall"] == round(9 / 16, 4)
    assert h["count_wrong"] == 0.5  # "two men" right, "three cups" wrong (one cup)
    assert h["box_unmatched"] == round(
        1 / 3, 4
    )  # the bird (normalised) and boat (pixels) match, the corner does not
    assert h["hygiene"] == round(3 / 5, 4)  # s3 quotes coordinates, s4 is too short, s5 has no <image>
    assert h["no_truth"] == 0.2
    overall = figures["groups"]["overall"]
    assert overall["samples_checked"] == 4 and overall["no_truth"] == 1 and overall["negated_mentions"] == 1
    assert figures["hallucinated_categories"] == {"dog": 1, "hot dog": 1}
    flags = {f["id"]: f for f in col.flags}
    assert flags["s1"]["objects"] == {
        "named": {"person": ["man"], "motorcycle": ["motorcycle"], "dog": ["dog"]},
        "negated": {"car": ["car"]},
        "absent": ["dog"],
    }
    assert [c["verdict"] for c in flags["s2"]["counts"]] == ["ok", "wrong"]
    assert [b["verdict"] for b in flags["s3"]["boxes"]] == ["ok", "unmatched", "ok"]
    assert flags["s3"]["boxes"][2]["units"] == "pixels"
    assert flags["s3"]["hygiene"] == [
        "leak: turn 1 answer mentions coordinates"
    ]  # LLaVA's rule for untagged data
    assert flags["s4"]["hygiene"] == ["short_turn: turn 1 answer is 4 characters (< 8)"]
    assert flags["s5"]["truth"] == "no_truth" and flags["s5"]["hygiene"] == [
        "format: <image> appears 0 times, expected once"
    ]
    assert figures["examples"]["hallucination"] == [0, 1]
    assert figures["balance"]["yes_no"] == {
        "yes": 1,
        "no": 0,
        "yes_share": 1.0,
        "yes_no_answer_share": round(1 / 7, 4),
    }


def test_outputs_on_disk(llava_json: Path, tmp_path: Path, bundled_data: Path) -> None:
    out = tmp_path / "audit"
    opts = AuditOptions(images=bundled_data / "coco" / "val2017", fail_on="chair_s>0.5")
    result = run_audit([llava_json], TruthSpec(instances=INSTANCES), out, opts)
    assert result.failed == ["chair_s = 0.6667 (chair_s>0.5)"]
    assert json.loads((out / "audit.json").read_text())["headline"]["chair_s"] == 0.6667
    lines = read_jsonl(out / "flags.jsonl")
    assert [x["uid"] for x in lines] == [0, 1, 2, 3, 4]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3  # matplotlib plots, embedded
    assert 'href="#ex-hallucination"' in html and 'id="ex-hallucination"' in html
    assert "<mark>dog</mark>" in html and "<mark>hot dog</mark>" in html
    # the review page's pieces: the image linked beside the card, the annotated boxes drawn on it
    # (the 2014-style name is not a file under val2017, so that card says where it looked)
    assert 'class="box"' in html and "image not found: COCO_val2014_000000165518.jpg" in html
    assert "<script" not in html


def test_similar_samples_cluster(tmp_path: Path) -> None:
    base = (
        "A man rides a red motorcycle down a foggy road at night, with his headlight cutting through the mist "
        "and the rain. The road is empty, the trees on both sides are dark, and the wet surface shines."
    )
    rows = [
        {"id": str(i), "image": "000000165518.jpg", "conversations": conv("<image>\nDescribe it.", text)}
        for i, text in enumerate(
            [base, base.replace("red", "blue"), base, "A seagull glides over an empty beach."]
        )
    ]
    p = tmp_path / "dups.json"
    p.write_text(json.dumps(rows))
    figures, col, _s, _t = audit([p], TruthSpec(instances=INSTANCES), AuditOptions(html=False))
    assert col.clusters == [[0, 1, 2]]
    assert figures["headline"]["near_dup"] == 0.5
    assert col.flags[1]["near_dup"]["first"] == "0" and col.flags[3].get("near_dup") is None
