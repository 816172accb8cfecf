"""`datagen audit --executor ray` on a real local Ray: the per-sample checks on 2 actors give exactly
the audit.json and flags.jsonl of a local audit (the bundled COCO val2017 annotations as truth)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_datagen
from support.ray_local import start_cluster

from datagen.audit.run import AuditOptions, run_audit
from datagen.audit.truth import TruthSpec
from datagen.common.ray_cluster import ExecutorSpec

INSTANCES = Path("data/coco/annotations/instances_val2017.json")
IMAGES = ["000000165518.jpg", "000000229358.jpg", "000000126107.jpg", "000000999999.jpg"]
ANSWERS = [
    "A man rides a motorcycle past a dog. There is no car here.",
    "Two men stand by the sink; one holds a toothbrush. Three cups sit on the shelf.",
    "A seagull flies over the boat at [0.35, 0.035, 0.997, 0.523] near the beach.",
    "Yes.",
    "A cat sleeps on a mat beside {n} red apples.",
]


@pytest.fixture(scope="module")
def gcs():
    yield from start_cluster()


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    """400 LLaVA records: hallucinations, counts, boxes, hygiene problems and near-duplicates."""
    rows = []
    for i in range(400):
        answer = ANSWERS[i % len(ANSWERS)].format(n=i % 9)
        question = "<image>\nDescribe it." if i % 13 else "Describe it."  # some lack the image token
        rows.append(
            {
                "id": f"s{i}",
                "image": IMAGES[i % len(IMAGES)],
                "conversations": [{"from": "human", "value": question}, {"from": "gpt", "value": answer}],
            }
        )
    path = tmp_path_factory.mktemp("audit_in") / "llava.json"
    path.write_text(json.dumps(rows))
    return path


def test_ray_audit_equals_the_local_audit(gcs, samples, tmp_path):
    truth = TruthSpec(instances=INSTANCES)
    local = run_audit([samples], truth, tmp_path / "local", AuditOptions(html=False))
    opts = AuditOptions(html=False, executor=ExecutorSpec("ray", workers=2))
    on_ray = run_audit([samples], truth, tmp_path / "ray", opts)
    assert on_ray.figures == local.figures
    assert on_ray.figures["headline"]["samples"] == 400 and on_ray.figures["headline"]["near_dup"] > 0.5
    for name in ("audit.json", "flags.jsonl"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


def test_cli_flag(gcs, samples, tmp_path):
    done = run_datagen(
        "audit", samples, "--instances", INSTANCES, "--out", tmp_path / "a", "--no-html",
        "--executor", "ray", "--ray-address", gcs, "--workers", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "a" / "audit.json").read_text())["headline"]["samples"] == 400
