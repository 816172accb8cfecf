"""Read a Hugging Face dataset folder back into samples: what `datagen export hf` wrote (parquet
shards under `data/`, or `save_to_disk` arrow folders), so `judge`, `stats`, `review` and `export`
take an HF dataset as input like a run directory or a LLaVA JSON file.

The files are read with pyarrow directly (no `datasets` import, hence no Hub calls), splits in
name order, and every row turned back into the sample it was made from (`record_from_row`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datagen.errors import InputError


def hf_files(folder: Path) -> list[Path]:
    """The data files of an HF dataset folder (parquet shards, or arrow files), or [] if it is none."""
    parquet = sorted((folder / "data").glob("*.parquet")) if (folder / "data").is_dir() else []
    if parquet:
        return parquet
    parquet = sorted(folder.glob("*.parquet"))
    if parquet:
        return parquet
    arrow = sorted(folder.glob("data-*.arrow"))  # Dataset.save_to_disk
    if arrow:
        return arrow
    if (folder / "dataset_dict.json").is_file():  # DatasetDict.save_to_disk: one folder per split
        try:
            splits = json.loads((folder / "dataset_dict.json").read_text())["splits"]
        except (ValueError, KeyError, TypeError, OSError):
            raise InputError(f"{folder / 'dataset_dict.json'}: not a datasets split list") from None
        return [f for name in splits for f in sorted((folder / str(name)).glob("data-*.arrow"))]
    return []


def _rows(path: Path) -> list[dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:
            with pa.memory_map(str(path)) as source:
                table = pa.ipc.open_stream(source).read_all()
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{path}: cannot read this dataset file ({e})") from None
    return table.to_pylist()


def record_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """Invert `export.hf.to_columns` for one row: the original sample (image as its relative path)."""
    rec: dict[str, Any] = {"id": row["id"]}
    image = row.get("image")
    if isinstance(image, dict):
        image = image.get("path")
    if image is not None:
        rec["image"] = image
    rec["conversations"] = [{"from": t["from"], "value": t["value"]} for t in row["conversations"]]
    if row.get("task") is not None:
        rec["task"] = row["task"]
    for key in ("sample_id", "model", "template_hash", "request_key"):
        if row.get(key) is not None:
            rec[key] = row[key]
    if row.get("usage") is not None:
        rec["usage"] = {k: v for k, v in row["usage"].items() if v is not None}
    if row.get("extra"):
        rec.update(json.loads(row["extra"]))
    return rec


def read_hf_dataset(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """(where, sample) for every row of every split of the dataset in `folder`."""
    out = []
    for path in hf_files(folder):
        for i, row in enumerate(_rows(path)):
            if not isinstance(row.get("conversations"), list) or "id" not in row:
                raise InputError(
                    f"{path}[{i}]: not a datagen/LLaVA row (needs 'id' and 'conversations' columns)"
                )
            out.append((f"{path}[{i}]", record_from_row(row)))
    return out
