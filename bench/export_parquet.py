"""Benchmark: 158K LLaVA records → parquet with `datagen export hf` vs pyarrow directly.

Builds a LLaVA-Instruct-158K-shaped JSON array (58K conversations of 2-5 rounds, 23K detailed
descriptions, 77K reasoning answers; text assembled from the real COCO captions in data/), then
times two things, best of `--repeat`, datagen and pyarrow alternating:
 1. records in memory → parquet (the target's measure):
    datagen: plan, explicit-schema Dataset, parquet shards via datasets' writer (content-defined
             chunking, page index), dataset card with its statistics (export_hf_write.write_export);
    pyarrow: pa.Table.from_pylist + pq.write_table (inferred schema, no card).
 2. the JSON file → parquet: the same plus reading, where datagen also validates every record
    against LLaVA's loader rules (samples.load_many) and pyarrow only runs json.load.
Target: datagen <= 1.5x pyarrow.   Usage: python bench/export_parquet.py [--n 158000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pyarrow as pa
import pyarrow.parquet as pq

from datagen.common.resources import data_root
from datagen.export import card, card_stats
from datagen.export import hf as export_hf
from datagen.export import hf_write as export_hf_write
from datagen.export.fingerprint import stamp_folder


def real_captions() -> list[str]:
    caps = []
    for split in ("train", "val"):
        ann = json.loads((data_root() / "coco" / "annotations" / f"captions_{split}2017.json").read_text())
        caps += [a["caption"].strip() for a in ann["annotations"]]
    return caps


def make_records(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    caps = real_captions()

    def text(sentences: int) -> str:
        return " ".join(rng.choice(caps) for _ in range(sentences))

    recs = []
    for i in range(n):
        kind = i % 79  # 29 : 11.5 : 38.5 ≈ LLaVA-Instruct's 58K : 23K : 77K
        rounds = rng.randint(2, 5) if kind < 29 else 1
        answer_len = 3 if kind < 29 else rng.randint(5, 9)
        conv = []
        for r in range(rounds):
            q = text(1).rstrip(".") + "?"
            if r == 0:
                q = f"<image>\n{q}" if rng.random() < 0.5 else f"{q}\n<image>"
            conv += [{"from": "human", "value": q}, {"from": "gpt", "value": text(answer_len)}]
        image = f"{rng.randrange(1, 581929):012d}"
        recs.append({"id": image, "image": f"{image}.jpg", "conversations": conv})
    return recs


def _render(p: export_hf.ExportPlan, tables: dict, data_files: dict[str, str]) -> str:
    stats = card_stats.card_stats(
        tables, [r for rs in p.splits.values() for r in rs], [i.meta for i in p.inputs]
    )
    return card.render_card(
        stats, command="bench", fmt="parquet", embedded_images=False, data_files=data_files
    )


def datagen_write(inputs: list[export_hf.ExportInput], out: Path) -> None:
    """The export step proper: records in memory → explicit-schema dataset → parquet + card."""
    plan = export_hf.plan_export(inputs)
    export_hf_write.write_export(plan, out, fmt="parquet", overwrite=True, card_text=_render)


def pyarrow_write(records: list[dict], out: Path) -> None:
    pq.write_table(pa.Table.from_pylist(records), out)


def datagen_file(src: Path, out: Path) -> None:
    """What `datagen export hf FILE` does after start-up: read + validate, then the export step."""
    datagen_write(export_hf.read_inputs([src]), out)


def pyarrow_file(src: Path, out: Path) -> None:
    pyarrow_write(json.loads(src.read_text(encoding="utf-8")), out)


def interleaved(repeat: int, a, a_args, b, b_args) -> tuple[float, float]:
    """Best-of-`repeat` times of a and b, run alternately so machine load hits both alike."""
    ta, tb = [], []
    for _ in range(repeat):
        for fn, args, acc in ((a, a_args, ta), (b, b_args, tb)):
            t = time.perf_counter()
            fn(*args)
            acc.append(time.perf_counter() - t)
    return min(ta), min(tb)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=158_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        src = tmp / "llava_instruct.json"
        src.write_text(json.dumps(make_records(args.n)), encoding="utf-8")
        print(
            f"{args.n} LLaVA records, {src.stat().st_size / 1e6:.1f} MB of JSON; best of {args.repeat}, interleaved"
        )
        inputs = export_hf.read_inputs([src])
        records = [r for i in inputs for r in i.records]
        datagen_write(inputs, tmp / "warm")  # first call imports datasets; not what we measure
        rows = [
            (
                "records in memory -> parquet",
                interleaved(
                    args.repeat,
                    datagen_write,
                    (inputs, tmp / "hf"),
                    pyarrow_write,
                    (records, tmp / "pa.parquet"),
                ),
            ),
            (
                "JSON file -> parquet (incl. read + validate)",
                interleaved(
                    args.repeat, datagen_file, (src, tmp / "hf"), pyarrow_file, (src, tmp / "pa.parquet")
                ),
            ),
        ]
        # The content fingerprint (part of the export times above), timed alone on the same shards.
        t = time.perf_counter()
        stamp_folder(tmp / "hf", "parquet")
        t_fp = time.perf_counter() - t
        shard_mb = sum(p.stat().st_size for p in (tmp / "hf" / "data").glob("*.parquet")) / 1e6
        n_rows = sum(pq.read_metadata(p).num_rows for p in (tmp / "hf" / "data").glob("*.parquet"))
        assert n_rows == args.n == pq.read_metadata(tmp / "pa.parquet").num_rows
        for label, (t_dg, t_pa) in rows:
            print(f"{label}:")
            print(f"  pyarrow directly : {t_pa:6.2f} s  ({args.n / t_pa:,.0f} records/s)")
            print(f"  datagen export hf: {t_dg:6.2f} s  ({args.n / t_dg:,.0f} records/s)")
            print(f"  ratio datagen/pyarrow: {t_dg / t_pa:.2f}x  (target <= 1.5x)")
        print(f"of which the fingerprint (sha256 over {shard_mb:.1f} MB of shards): {t_fp:.2f} s")
        print("load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
