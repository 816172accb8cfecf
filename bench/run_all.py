"""Every performance figure of the engine issue, each next to its simple alternative, as one table.

    PYTHONPATH=$PWD python bench/run_all.py [--coco /tmp/coco-synth] [--long] [--only NAMES]

Rows (each measured in this run; the ratio is ours / the alternative unless it says otherwise):

- `ratelimit-*`: a server limit learnt only from `x-ratelimit-*` headers (bench/ratelimit_bench.py):
  our share of the limit vs AsyncOpenAI + a semaphore with the SDK's retries, and 429s per answer.
  1 s and 10 s windows; `--long` adds the 60 s token bucket (3.5 minutes per client).
- `startup-dry-run`: `datagen generate conversation --dry-run` on the 80 COCO-mini images, wall
  time (best of 3) against the bare interpreter starting (`python -c pass`), and which heavy
  modules it loaded.
- `hot-path-*`: bench/engine_bench.py's loopback scenarios at 0 ms (1,500 requests) and 200 ms
  (960) latency, 64 in flight: requests/s and client CPU per request vs a plain aiohttp loop.
- `resume-150k`: a re-run over a finished 150,000-line results.jsonl, CPU seconds vs json.loads of
  every line.
- `coco-load`, `dry-run-118k` (with `--coco DIR`, a train2017-scale pair from
  bench/make_synthetic_coco.py): contexts from both files vs pycocotools loading them with the GC
  off, time and peak RSS; and a dry run over every image, time and peak RSS vs that same load.
- `export-parquet-file`: a LLaVA JSON file of `--export-n` records to parquet, `datagen export hf`'s
  path vs json.load + pyarrow (bench/export_parquet.py).

The machine's load average is printed with the table: other processes inflate wall times, so CPU
time and same-run ratios are the figures to compare across runs.
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

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
sys.path[:0] = [str(BENCH), str(REPO / "tests")]

ROWS: list[tuple[str, str, str, str, str, str]] = []


def row(name: str, measure: str, ours: str, alt: str, ratio: str, target: str = "") -> None:
    ROWS.append((name, measure, ours, alt, ratio, target))
    print(
        f"  {name:<22} {measure:<34} ours {ours:<14} alternative {alt:<14} {ratio:<10} {target}", flush=True
    )


CHILD_CWD = tempfile.gettempdir()
BEFORE: Path | None = None  # --before: a checkout of the old code, measured beside ours


def env(code_root: Path = REPO) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(code_root), os.environ.get("PYTHONPATH", "")])}


def timed_child(code: str, *args: str, code_root: Path = REPO) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON line (it may time itself)."""
    t = time.perf_counter()
    out = subprocess.run(  # (cwd: not the repository, whose datagen/ would shadow code_root's)
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env(code_root), cwd=CHILD_CWD
    )
    if out.returncode != 0:
        raise SystemExit(f"child failed:\n{out.stderr[-2000:]}")
    got = json.loads(out.stdout.strip().splitlines()[-1])
    got.setdefault("wall", time.perf_counter() - t)
    return got


# ---- 1. rate limits from headers -----------------------------------------------------------------
def ratelimits(long: bool, tmp: Path) -> None:
    from ratelimit_bench import run_case

    cases = ["1:30:fixed", "10:300:sliding"] + (["60:1800:bucket"] if long else [])
    for case in cases:
        w, lim, style = case.split(":")
        ours, ours429, ours_n = run_case(float(w), int(lim), style, "ours", tmp)
        sdk, sdk429, sdk_n = run_case(float(w), int(lim), style, "sdk", tmp)
        row(
            f"ratelimit-{w}s-{style}",
            f"share of {lim}/{w}s; 429s per answer",
            f"{ours:.0%}; {ours429 / max(ours_n, 1):.1%}",
            f"{sdk:.0%}; {sdk429 / max(sdk_n, 1):.1%}",
            f"{ours / max(sdk, 1e-9):.2f}x",
            ">= 90%, <= 1% 429",
        )
        if BEFORE is not None and w == "10":
            saved = os.environ.get("PYTHONPATH", "")
            os.environ["PYTHONPATH"] = str(BEFORE)
            try:
                old, old429, old_n = run_case(float(w), int(lim), style, "ours", tmp)
            finally:
                os.environ["PYTHONPATH"] = saved
            row(f"ratelimit-{w}s-before", "share of the limit vs the old code", f"{ours:.0%}", f"{old:.0%}",
                f"{ours / max(old, 1e-9):.1f}x")  # fmt: skip


# ---- 2. start-up -----------------------------------------------------------------------------------
DRY = r"""
import json, runpy, sys, time
t = time.perf_counter()
sys.argv = ["datagen", "generate", "conversation", "--coco", sys.argv[1], "--split", "train2017",
            "--out", sys.argv[2], "--dry-run"]
try:
    runpy.run_module("datagen", run_name="__main__")
except SystemExit:
    pass
heavy = ["openai", "httpx2", "aiohttp", "numpy", "pycocotools", "tiktoken"]
print(json.dumps({"loaded": [m for m in heavy if m in sys.modules]}))
"""


def startup(tmp: Path) -> None:
    mini = REPO.parent / "shared" / "data" / "coco" / "coco-mini"
    for parent in REPO.parents:
        if (parent / "shared" / "data" / "coco" / "coco-mini").is_dir():
            mini = parent / "shared" / "data" / "coco" / "coco-mini"
            break
    runs, bare = [], []
    for i in range(3):
        runs.append(timed_child(DRY, str(mini), str(tmp / f"dry{i}")))
        bare.append(timed_child("import json; print(json.dumps({}))"))
    best, floor = min(r["wall"] for r in runs), min(r["wall"] for r in bare)
    loaded = ",".join(runs[0]["loaded"]) or "none"
    row(
        "startup-dry-run",
        f"80 images, wall (loaded: {loaded})",
        f"{best:.2f} s",
        f"{floor:.2f} s",
        f"{best / floor:.1f}x",
        "<= 0.5 s",
    )
    if BEFORE is not None:
        old = [timed_child(DRY, str(mini), str(tmp / f"old{i}"), code_root=BEFORE) for i in range(3)]
        worst = min(r["wall"] for r in old)
        gone = ",".join(old[0]["loaded"]) or "none"
        row("startup-dry-run-before", f"vs the old code (it loaded: {gone})", f"{best:.2f} s", f"{worst:.2f} s",
            f"{best / worst:.2f}x")  # fmt: skip


# ---- 3. hot path -------------------------------------------------------------------------------------
def hot_path(tmp: Path) -> None:
    import engine_bench

    for latency, n in ((0.0, 1500), (0.2, 960)):
        got = engine_bench.throughput(tmp, n, latency, 64, 600)
        (ours_rps, ours_cpu, _), (bare_rps, bare_cpu, _) = got["ours"], got["aiohttp"]
        tag = f"{latency * 1000:.0f}ms"
        row(f"hot-path-{tag}", "req/s vs plain aiohttp", f"{ours_rps:.0f}", f"{bare_rps:.0f}",
            f"{ours_rps / bare_rps:.2f}x", ">= 0.8x" if not latency else "")  # fmt: skip
        row(f"hot-path-{tag}-cpu", "client CPU ms per request", f"{ours_cpu:.2f}", f"{bare_cpu:.2f}",
            f"{ours_cpu / bare_cpu:.2f}x", "<= 0.2 ms" if not latency else "")  # fmt: skip
        if latency:
            ideal = 64 / latency
            row("hot-path-200ms-ideal", "req/s vs 64 / 0.2 s", f"{ours_rps:.0f}", f"{ideal:.0f}",
                f"{ours_rps / ideal:.0%}", ">= 95%")  # fmt: skip


def resume(tmp: Path) -> None:
    import engine_bench

    ours_cpu, naive_cpu = engine_bench.resume(tmp, 150_000)
    row(
        "resume-150k",
        "CPU s to 'nothing to do'",
        f"{ours_cpu:.2f} s",
        f"{naive_cpu:.2f} s",
        f"{ours_cpu / naive_cpu:.2f}x",
    )


# ---- 4/5. COCO load and a dry run at train2017 scale --------------------------------------------------
DRY_BIG = r"""
import json, resource, runpy, sys, time
t, c = time.perf_counter(), time.process_time()
sys.argv = ["datagen", "generate", "conversation", "--coco", sys.argv[1], "--split", "train2017",
            "--out", sys.argv[2], "--dry-run", "--quiet"]
try:
    runpy.run_module("datagen", run_name="__main__")
except SystemExit:
    pass
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": r.ru_utime + r.ru_stime, "peak_mb": r.ru_maxrss / 1024}))
"""


def coco(coco_dir: Path, tmp: Path) -> None:
    import coco_contexts

    caps = coco_dir / "annotations" / "captions_train2017.json"
    inst = coco_dir / "annotations" / "instances_train2017.json"
    base = coco_contexts.measure("pycocotools-gc-off", caps, inst, tmp / "c.jsonl")
    ours = coco_contexts.measure("datagen", caps, inst, tmp / "c.jsonl")
    row("coco-load", "CPU s, train2017-scale pair", f"{ours['cpu']:.1f} s", f"{base['cpu']:.1f} s",
        f"{ours['cpu'] / base['cpu']:.2f}x", "<= 1.1x")  # fmt: skip
    row("coco-load-memory", "peak RSS", f"{ours['peak_mb']:.0f} MB", f"{base['peak_mb']:.0f} MB",
        f"{ours['peak_mb'] / base['peak_mb']:.2f}x", "<= 1.0x")  # fmt: skip
    if BEFORE is not None:
        coco_contexts.REPO = BEFORE  # its children put REPO first on the path
        try:
            old = coco_contexts.measure("datagen", caps, inst, tmp / "c.jsonl")
        finally:
            coco_contexts.REPO = REPO
        row("coco-load-before", "CPU s, peak RSS vs the old code", f"{ours['cpu']:.1f} s, {ours['peak_mb']:.0f} MB",
            f"{old['cpu']:.1f} s, {old['peak_mb']:.0f} MB", f"{ours['cpu'] / old['cpu']:.2f}x, {ours['peak_mb'] / old['peak_mb']:.2f}x")  # fmt: skip
    dry = timed_child(DRY_BIG, str(coco_dir), str(tmp / "dry-big"))
    row("dry-run-118k", "CPU s (wall) vs the pycocotools load", f"{dry['cpu']:.1f} s ({dry['seconds']:.0f})",
        f"{base['cpu']:.1f} s", f"{dry['cpu'] / base['cpu']:.2f}x")  # fmt: skip
    row("dry-run-118k-memory", "peak RSS vs the pycocotools load", f"{dry['peak_mb']:.0f} MB",
        f"{base['peak_mb']:.0f} MB", f"{dry['peak_mb'] / base['peak_mb']:.2f}x", "<= 1 GB (200K)")  # fmt: skip
    if BEFORE is not None:
        old = timed_child(DRY_BIG, str(coco_dir), str(tmp / "dry-old"), code_root=BEFORE)
        row("dry-run-118k-before", "CPU s, peak RSS vs the old code", f"{dry['cpu']:.1f} s, {dry['peak_mb']:.0f} MB",
            f"{old['cpu']:.1f} s, {old['peak_mb']:.0f} MB", f"{dry['cpu'] / old['cpu']:.2f}x, {dry['peak_mb'] / old['peak_mb']:.2f}x")  # fmt: skip


# ---- 6. export from a file -----------------------------------------------------------------------------
def export(n: int, tmp: Path) -> None:
    import export_parquet as ep

    src = tmp / "llava.json"
    src.write_text(json.dumps(ep.make_records(n)), encoding="utf-8")
    ours, alt = ep.interleaved(1, ep.datagen_file, (src, tmp / "ours"), ep.pyarrow_file, (src, tmp / "alt"))
    row(
        "export-parquet-file",
        f"{n:,} records, JSON file -> parquet",
        f"{ours:.1f} s",
        f"{alt:.1f} s",
        f"{ours / alt:.2f}x",
        "<= 1.2x",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--coco", type=Path, help="a train2017-scale COCO folder (bench/make_synthetic_coco.py)")
    ap.add_argument("--long", action="store_true", help="also the 60 s rate-limit window")
    ap.add_argument("--export-n", type=int, default=50_000)
    ap.add_argument("--before", type=Path, help="a checkout of older code to measure beside (some rows)")
    ap.add_argument("--only", help="comma-separated: ratelimit,startup,hotpath,resume,coco,export")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    global BEFORE
    BEFORE = args.before.resolve() if args.before else None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    print(
        f"datagen benchmarks at {commit.stdout.strip()} on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        steps = [
            ("ratelimit", lambda: ratelimits(args.long, tmp)),
            ("startup", lambda: startup(tmp)),
            ("hotpath", lambda: hot_path(tmp)),
            ("resume", lambda: resume(tmp)),
            ("coco", lambda: coco(args.coco, tmp) if args.coco else print("  (coco: pass --coco DIR)")),
            ("export", lambda: export(args.export_n, tmp)),
        ]
        for name, step in steps:
            if only is None or name in only:
                step()
    print("\n| benchmark | measure | ours | alternative | ratio | target |\n|---|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[2]:.1f} (15 min)")


if __name__ == "__main__":
    main()
