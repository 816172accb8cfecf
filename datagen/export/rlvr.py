"""`datagen export rlvr`: RL-with-verifiable-rewards data for veRL and EasyR1 (parquet).

One row per verifiable question (`export/verifiable.py` says which), in the columns both read:

- veRL: `data_source`, `prompt` (chat messages, `<image>` where the image goes), `images`,
  `ability`, `reward_model` = {"style": "rule", "ground_truth"}, `extra_info` (sample id, kind,
  the other accepted answers, the VQA annotators' answers);
- EasyR1: `problem` (the prompt text) and `answer` (the ground truth), with the same `images`.

`images` holds `{bytes, path}` structs with `--image-mode embed` (the default; the file bytes) or
absolute paths with `--image-mode path`. `reward.py` beside the parquet file is the reward function
for both trainers (`datagen/export/reward.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.common.jsonio import write_text_atomic
from datagen.errors import InputError
from datagen.export.layout import trainer_folder
from datagen.export.media import media_for
from datagen.export.verifiable import Problem, select

DATA_FILE = "train.parquet"
REWARD_FILE = "reward.py"
REWARD_SHIM = '''"""Reward function for the datagen RL export (veRL: compute_score; EasyR1: compute_score_easyr1).
Needs datagen installed where the rewards are computed; the rules are in datagen/export/reward.py."""

from datagen.export.reward import compute_score, compute_score_easyr1  # noqa: F401

REWARD_NAME = "datagen"
REWARD_TYPE = "sequential"
'''


def _schema(embed: bool) -> Any:
    import pyarrow as pa

    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())]) if embed else pa.string()
    return pa.schema(
        [
            ("data_source", pa.string()),
            ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
            ("images", pa.list_(image)),
            ("ability", pa.string()),
            ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("index", pa.int64()),
                        ("id", pa.string()),
                        ("sample_id", pa.string()),
                        ("kind", pa.string()),
                        ("accept", pa.list_(pa.string())),
                        ("answers", pa.list_(pa.string())),
                    ]
                ),
            ),
            ("problem", pa.string()),
            ("answer", pa.string()),
        ]
    )


def _row(k: int, p: Problem, rec: dict[str, Any], image: Any) -> dict[str, Any]:
    text = "<image>" + p.question if image is not None else p.question
    return {
        "data_source": p.data_source,
        "prompt": [{"role": "user", "content": text}],
        "images": [image] if image is not None else [],
        "ability": "vqa" if p.kind == "vqa" else "grounding",
        "reward_model": {"style": "rule", "ground_truth": p.ground_truth},
        "extra_info": {
            "index": k,
            "id": str(rec["id"]),
            "sample_id": p.sample_id,
            "kind": p.kind,
            "accept": p.accept,
            "answers": p.answers,
        },
        "problem": text,
        "answer": p.ground_truth,
    }


def write(records: list[dict[str, Any]], paths: Any, out: Path, options: dict[str, Any]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    media = media_for(records, paths, out, options)
    chosen = select(records, options.get("vqa_annotations"))
    if not chosen.problems:
        raise InputError(
            "no verifiable question in the inputs: " + "; ".join(chosen.notes()),
            hint="export grounded_qa runs, or vqa_answer runs with --vqa-annotations FILE",
        )
    embed = media.mode == "embed"
    schema = _schema(embed)
    with trainer_folder(out, media) as tmp, pq.ParquetWriter(tmp / DATA_FILE, schema) as writer:
        batch: list[dict[str, Any]] = []
        cache: dict[int, Any] = {}  # the image of the record being written (its questions are adjacent)
        for k, p in enumerate(chosen.problems):
            if p.record not in cache:
                cache.clear()
                src = media.source(p.record)
                if not media.has_image(p.record):
                    cache[p.record] = None
                elif embed and src is not None:
                    cache[p.record] = {"bytes": src.read_bytes(), "path": media.relative(p.record)}
                else:
                    cache[p.record] = media.absolute(p.record)
            batch.append(_row(k, p, records[p.record], cache[p.record]))
            if len(batch) >= 256:  # bounded memory: a row group of at most 256 images
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        write_text_atomic(tmp / REWARD_FILE, REWARD_SHIM)
    options.setdefault("notes", []).extend(chosen.notes())
    return len(chosen.problems)
