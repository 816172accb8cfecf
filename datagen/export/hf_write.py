"""Write a planned HF export to disk (`datagen export hf`): parquet shards or `save_to_disk` folders.

Every data file name then gets the export's content fingerprint (`export.fingerprint`), which the
card's `data_files` patterns name, so `load_dataset(FOLDER)` never serves a previous export's rows.
Everything is built in a temporary folder beside `--out` and renamed into place at the end, so a
failed or interrupted export never leaves a partial dataset; an existing folder is replaced only
with `overwrite`, and only once the new one is complete.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen.common.atomic import atomic_folder
from datagen.errors import UsageError
from datagen.export.fingerprint import split_patterns, stamp_folder
from datagen.export.hf import DEFAULT_SHARD_SIZE, ExportPlan, build_dataset, import_datasets
from datagen.export.outputs import claim_output

if TYPE_CHECKING:
    import datasets


def write_export(
    plan: ExportPlan,
    out: str | Path,
    *,
    fmt: str = "parquet",
    max_shard_size: str | int = DEFAULT_SHARD_SIZE,
    embed_images: bool = False,
    overwrite: bool = False,
    card_text: Any = None,
) -> tuple[dict[str, int], str]:
    """Write the planned dataset to `out` atomically; returns the rows per split and the fingerprint.

    `card_text(plan, arrow_tables, data_files)` renders README.md; `data_files` maps each split to
    the pattern matching its (fingerprinted) files.
    """
    ds = import_datasets()
    from datasets.utils.py_utils import convert_file_size_to_int

    if fmt not in ("arrow", "parquet"):
        raise UsageError(f"unknown --format '{fmt}'", hint="use arrow or parquet")
    try:
        shard_bytes = convert_file_size_to_int(max_shard_size)
    except ValueError:
        raise UsageError(f"--max-shard-size '{max_shard_size}' is not a size like 500MB") from None
    out_p = Path(out)
    claim_output(out_p, overwrite=overwrite, folder=True)
    ds.disable_progress_bars()  # one summary line from the CLI instead of per-shard bars
    with atomic_folder(out_p) as tmp:
        # Text-only tables (image = file name) are cheap: the card's statistics come from them, and
        # without --embed-images they are the data. Embedded images are read shard by shard, so
        # memory stays around one shard however many images there are.
        text = {name: build_dataset(recs) for name, recs in plan.splits.items()}
        if embed_images:
            for name, recs in plan.splits.items():
                _write_embedded(recs, plan.paths[name], fmt, tmp, name, shard_bytes)
            if fmt == "arrow":  # what DatasetDict.save_to_disk writes beside its split folders
                (tmp / "dataset_dict.json").write_text(json.dumps({"splits": list(plan.splits)}))
        elif fmt == "arrow":
            ds.DatasetDict(text).save_to_disk(str(tmp), max_shard_size=shard_bytes)
        else:
            for name, d in text.items():
                _write_parquet_shards(d, tmp / "data", name, shard_bytes)
        fp = stamp_folder(tmp, fmt)
        if card_text is not None:
            tables = {name: d.data.table for name, d in text.items()}
            patterns = split_patterns(list(plan.splits), fmt, fp)
            (tmp / "README.md").write_text(card_text(plan, tables, patterns), encoding="utf-8")
    return {name: len(recs) for name, recs in plan.splits.items()}, fp


def _write_parquet_shards(d: datasets.Dataset, folder: Path, split: str, shard_bytes: int) -> None:
    """`data/<split>-00000-of-0000N.parquet` (the Hub's layout; `stamp_folder` appends the fingerprint)."""
    folder.mkdir(parents=True, exist_ok=True)
    n = max(1, math.ceil(d.data.nbytes / shard_bytes)) if len(d) else 1
    n = min(n, max(1, len(d)))
    for i in range(n):
        shard = d.shard(num_shards=n, index=i, contiguous=True) if n > 1 else d
        shard.to_parquet(str(folder / f"{split}-{i:05d}-of-{n:05d}.parquet"))


def _byte_shards(sizes: list[int], shard_bytes: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) row ranges, each at most `shard_bytes` unless it is one oversized row."""
    bounds: list[tuple[int, int]] = []
    start = acc = 0
    for i, size in enumerate(sizes):
        if acc + size > shard_bytes and i > start:
            bounds.append((start, i))
            start, acc = i, 0
        acc += size
    bounds.append((start, len(sizes)))
    return bounds


def _write_embedded(
    recs: list[dict[str, Any]], paths: list[Path | None], fmt: str, tmp: Path, split: str, shard_bytes: int
) -> None:
    """Write one split with image bytes, building one shard's table at a time."""
    shards = image_ranges(paths, shard_bytes)
    if fmt == "parquet":
        (tmp / "data").mkdir(exist_ok=True)
        for i, (a, b) in enumerate(shards):
            d = build_dataset(recs[a:b], paths=paths[a:b], embed_images=True)
            d.to_parquet(str(tmp / "data" / f"{split}-{i:05d}-of-{len(shards):05d}.parquet"))
        return
    save_in_parts(
        lambda a, b: build_dataset(recs[a:b], paths=paths[a:b], embed_images=True),
        shards,
        tmp / split,
        max_shard_size=shard_bytes,
    )


def image_ranges(paths: list[Path | None], limit: int) -> list[tuple[int, int]]:
    """Row ranges whose image files (plus a typical text row each) add up to at most `limit` bytes."""
    return _byte_shards([(p.stat().st_size if p else 0) + 512 for p in paths], limit)


def save_in_parts(
    build: Callable[[int, int], datasets.Dataset],
    ranges: list[tuple[int, int]],
    dest: Path,
    *,
    max_shard_size: int | str = DEFAULT_SHARD_SIZE,
) -> None:
    """`save_to_disk` a dataset too big for memory: each row range is built and saved alone, then the
    memory-mapped parts are concatenated into `dest` (so at most one part's bytes are in memory)."""
    ds = import_datasets()
    if len(ranges) == 1:
        build(*ranges[0]).save_to_disk(str(dest), max_shard_size=max_shard_size)
        return
    part_dirs = [dest.with_name(f".{dest.name}-part{i}") for i in range(len(ranges))]
    try:
        parts = []
        for part, (a, b) in zip(part_dirs, ranges, strict=True):
            build(a, b).save_to_disk(str(part))
            parts.append(ds.load_from_disk(str(part)))
        ds.concatenate_datasets(parts).save_to_disk(str(dest), max_shard_size=max_shard_size)
    finally:
        for part in part_dirs:
            shutil.rmtree(part, ignore_errors=True)
