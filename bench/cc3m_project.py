"""Benchmark: projected end-to-end time of `datagen cc3m filter` on the full CC3M train split here.

    PYTHONPATH=. python bench/cc3m_project.py [--rows 3318333] [--keep DIR]

CC3M's Train_GCC-training.tsv has 3,318,333 rows; we do not have it (no downloads), so each step
is measured at full size where it can be without spaCy and scaled where it cannot:
  1. fingerprint + probe   measured on a full-size TSV made by repeating the 10K real lines
  2. extraction            datagen's captions/s on the 10K real lines, times 3.3M rows
  3. load cache + select   measured on bench/cc3m_select.py's synthetic full-size cache
  4. write outputs         re-read the full-size TSV, build and write ~595K chat/metadata records
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from datagen.cc3m import nounphrases
from datagen.cc3m.cache import fingerprint
from datagen.cc3m.output import build_records, load_instructions, write_outputs
from datagen.cc3m.pipeline import FilterOptions, extract, open_cache
from datagen.cc3m.reader import probe_input

sys.path.insert(0, str(Path(__file__).parent))
from cc3m_extract import _default_input  # noqa: E402
from cc3m_select import make  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3_318_333)
    ap.add_argument("--pool", type=int, default=595_375)  # LLaVA-CC3M-Pretrain-595K's size
    ap.add_argument("--keep", type=Path, help="folder for the big TSV and synthetic cache (default: temp)")
    ap.add_argument("--extract-rate", type=float, help="captions/s to scale with instead of measuring now")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cc3m_project_"))
    work.mkdir(parents=True, exist_ok=True)
    sample = _default_input()
    lines = sample.read_bytes().splitlines(keepends=True)
    big = work / "train_like.tsv"
    if not big.exists() or fingerprint(big)[1] != args.rows:
        with open(big, "wb") as f:
            for i in range(args.rows):
                f.write(lines[i % len(lines)])
    steps: dict[str, tuple[float, float]] = {}  # name -> (wall s, CPU s)

    t, c = time.perf_counter(), time.process_time()
    probe_input(big)
    fingerprint(big)
    steps["1 fingerprint + probe"] = (time.perf_counter() - t, time.process_time() - c)

    rate = cpu_rate = args.extract_rate
    if rate is None:
        with tempfile.TemporaryDirectory() as tmp:
            o = FilterOptions(input=sample, out=Path(tmp), quiet=True)
            cache = open_cache(o)
            nounphrases.load_model(nounphrases.resolve_model(o.spacy_model)[0])  # not part of the rate
            c = time.process_time()
            rate = extract(o, cache, cache.chunks_for(None))["rows_per_second"]
            cpu_rate = cache.n_rows / (time.process_time() - c)
    steps["2 extraction (scaled)"] = (args.rows / rate, args.rows / cpu_rate)

    sel_root = work / "synthetic_cache"
    make(sel_root, args.rows, 1_700_000)
    bench_select = Path(__file__).parent / "cc3m_select.py"
    cmd = [
        sys.executable,
        str(bench_select),
        "--captions",
        str(args.rows),
        "--keep",
        str(sel_root),
        "--measure",
        "datagen",
    ]
    sel = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    steps["3 load cache + select"] = (sel["seconds"], sel["cpu_seconds"])

    pool = np.sort(np.random.default_rng(0).choice(args.rows, size=args.pool, replace=False))
    t, c = time.perf_counter(), time.process_time()
    chat, meta = build_records(big, pool, load_instructions(None), seed=0, id_prefix="GCC_train_")
    write_outputs(work / "out", chat, meta, {"pool_size": len(chat)})
    steps["4 write outputs"] = (time.perf_counter() - t, time.process_time() - c)

    print(f"full CC3M train split: {args.rows:,} rows, pool {args.pool:,}; extraction {rate:.0f} captions/s wall, "
          f"{cpu_rate:.0f} per CPU-second; load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"  {'step':<24} {'wall s':>8} {'CPU s':>8}")
    for name, (wall, cpu) in steps.items():
        print(f"  {name:<24} {wall:8.1f} {cpu:8.1f}")
    wall = sum(w for w, _ in steps.values())
    cpu = sum(c for _, c in steps.values())
    rerun_cpu = cpu - steps["2 extraction (scaled)"][1]
    print(
        f"  {'total':<24} {wall:8.1f} {cpu:8.1f}  = {wall / 60:.0f} min wall now, {cpu / 60:.0f} min on an idle core"
    )
    print(f"  re-run with other thresholds (no extraction): {rerun_cpu / 60:.1f} min on an idle core")


if __name__ == "__main__":
    main()
