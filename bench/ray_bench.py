"""Benchmark `--executor ray` against the local engine and the obvious alternatives, in one run.

    PYTHONPATH=$PWD python bench/ray_bench.py [--quick] [--parts 1,2,3]

A local Ray (2 CPUs, this machine) is started once, before anything is timed: a Ray cluster is
normally up before a job is submitted. Actor start-up is inside the timings. The LLM server is
tests/support/fakeserver.py in its own process, as in bench/engine_bench.py.

1. Throughput: 200 ms server, 64 requests in flight in total: the local engine (`run_jobs`) vs Ray
   with 2 actors of 32 (`run_jobs_ray`). Requests/s over the whole run and from the first result
   to the last (steady state); the ratio is the executor's overhead.
2. Rate limits with 2 actors, server limit 300 requests per 10 s window (with x-ratelimit headers):
   the shared limiter (one coordinator actor) vs an explicit budget split (each actor 1/2 of --rpm,
   its own limiter), both with --rpm 1800 and with no limit given (learnt from the headers).
   Achieved requests/s against the limit, and 429s.
3. CC3M noun phrases: one local process (`cc3m.pipeline.extract`) vs `--executor ray` with 2 spaCy
   actors, on the shared CC3M validation sample repeated to --captions rows; captions/s and whether
   the two caches are identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # loopback only
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])

from engine_bench import Server, make_jobs  # noqa: E402
from support.engine_helpers import EchoQA  # noqa: E402

from datagen.common.ray_cluster import ExecutorSpec  # noqa: E402
from datagen.engine.config import EngineConfig  # noqa: E402
from datagen.engine.ray_run import run_jobs_ray  # noqa: E402
from datagen.engine.runner import run_jobs  # noqa: E402
from datagen.tasks.base import TaskOptions  # noqa: E402

OPTS = TaskOptions(image_token="first")
RAY2 = ExecutorSpec("ray", workers=2)


class Watch:
    """Times the first and the last line of results.jsonl as they appear (the steady-state window)."""

    def __init__(self, path: Path, n: int) -> None:
        self.path, self.n = path, n
        self.first = self.last = 0.0
        self.first_lines = 0
        self.marks: list[tuple[int, float]] = []
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        lines, f = 0, None
        while True:  # reads only the bytes appended since the last look
            if f is None and self.path.exists():
                f = open(self.path, "rb")  # noqa: SIM115
            if f is not None:
                lines += f.read().count(b"\n")
            now = time.perf_counter()
            if lines and (not self.marks or lines > self.marks[-1][0]):
                self.marks.append((lines, now))
            if lines and not self.first:
                self.first, self.first_lines = now, lines
            if lines >= self.n:
                self.last = now
                if f is not None:
                    f.close()
                return
            time.sleep(0.005)

    def steady(self) -> float:
        """Requests/s between 20% and 95% of the results (after every actor has started)."""
        self._t.join(5)
        a, ta = next(m for m in self.marks if m[0] >= 0.2 * self.n)
        b, tb = next(m for m in self.marks if m[0] >= 0.95 * self.n)
        return (b - a) / max(tb - ta, 1e-9)


def cfg(url: str, **kw: object) -> EngineConfig:
    return EngineConfig(model="m", base_urls=[url], api_key="sk-bench", quiet=True, **kw)  # type: ignore[arg-type]


def throughput(n: int, tmp: Path) -> None:
    print(f"\n1. throughput: {n:,} requests, 200 ms server, 64 in flight in total")
    rows = []
    with Server("--latency", "0.2", "--reply-chars", "600") as srv:
        for name in ("local engine", "ray, 2 actors x 32"):
            out = tmp / name.split(",")[0].replace(" ", "_")
            jobs = make_jobs(n)
            w = Watch(out / "results.jsonl", n)
            t0 = time.perf_counter()
            if name.startswith("local"):
                stats = run_jobs(EchoQA(), jobs, OPTS, cfg(srv.url, concurrency=64), out)
            else:
                stats = run_jobs_ray(EchoQA(), jobs, OPTS, cfg(srv.url, concurrency=64), out, executor=RAY2)
            wall = time.perf_counter() - t0
            rows.append((name, stats.ok, n / wall, w.steady()))
    ideal = 64 / 0.2
    for name, ok, whole, steady in rows:
        print(f"   {name:22s} ok {ok:>6,}  {whole:7.1f} req/s whole run  {steady:7.1f} req/s steady"
              f"  ({steady / ideal:.0%} of the ideal {ideal:.0f})")  # fmt: skip
    (_, _, w_local, s_local), (_, _, w_ray, s_ray) = rows
    print(f"   ray / local: {w_ray / w_local:.2f}x whole run, {s_ray / s_local:.2f}x steady state")


def rate_limits(n: int, tmp: Path) -> None:
    print(f"\n2. rate limits, 2 actors: {n} requests, server allows 300 per 10 s window (30/s)")
    for rpm in (1800.0, None):
        for limit in ("shared", "split"):
            with Server("--rate", "300/10", "--ratelimit-headers", "--reply-chars", "600") as srv:
                out = tmp / f"rl-{limit}-{rpm}"
                t0 = time.perf_counter()
                w = Watch(out / "results.jsonl", n)
                stats = run_jobs_ray(
                    EchoQA(), make_jobs(n), OPTS, cfg(srv.url, concurrency=16, rpm=rpm), out,
                    executor=RAY2, limit=limit,
                )  # fmt: skip
                wall = time.perf_counter() - t0
                st = srv.stats()
                given = f"--rpm {rpm:.0f}" if rpm else "no --rpm (headers)"
                print(f"   {limit:6s} {given:20s} ok {stats.ok:>4}  {w.steady():5.1f} req/s steady "
                      f"(limit 30)  429s {st['by_status'].get('429', 0):>4}  wall {wall:5.1f} s")  # fmt: skip


def _cc3m_input(rows: int, tmp: Path) -> Path:
    """The real CC3M validation sample, repeated up to `rows` lines."""
    src = REPO.parent / "shared" / "data" / "cc3m" / "Validation_GCC-1.1.0-Validation.tsv"
    for parent in REPO.parents:
        if (parent / "shared" / "data" / "cc3m").is_dir():
            src = parent / "shared" / "data" / "cc3m" / "Validation_GCC-1.1.0-Validation.tsv"
            break
    lines = src.read_bytes().splitlines(keepends=True)
    out = tmp / "cc3m.tsv"
    with open(out, "wb") as f:
        for i in range(rows):
            f.write(lines[i % len(lines)])
    return out


def cc3m_part(rows: int, tmp: Path) -> None:
    from datagen.cc3m.pipeline import FilterOptions, extract, open_cache

    print(f"\n3. CC3M noun phrases: {rows:,} captions, chunks of 2,000 (spaCy en_core_web_sm)")
    path = _cc3m_input(rows, tmp)
    figures = {}
    caches = {}
    for name, executor in (("one local process", None), ("ray, 2 spaCy actors", RAY2)):
        o = FilterOptions(input=path, out=tmp / name.split(",")[0].replace(" ", "_"), chunk_size=2000,
                          quiet=True, executor=executor)  # fmt: skip
        cache = open_cache(o)
        t0 = time.perf_counter()
        extract(o, cache, list(range(cache.n_chunks)))
        wall = time.perf_counter() - t0
        files = sorted(cache.dir.glob("*/chunk_*.arrow"))
        stamps = sorted(p.stat().st_mtime for p in files)  # first to last chunk written: no start-up
        steady = 2000 * (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-9)
        figures[name] = (rows / wall, steady)
        caches[name] = {p.name: p.read_bytes() for p in files}
    for name, (rate, steady) in figures.items():
        print(f"   {name:22s} {rate:8.0f} captions/s whole run  {steady:8.0f} captions/s steady")
    (local, local_steady), (on_ray, ray_steady) = figures.values()
    same = caches["one local process"] == caches["ray, 2 spaCy actors"]
    print(
        f"   ray / local: {on_ray / local:.2f}x whole run, {ray_steady / local_steady:.2f}x steady;"
        f" caches byte-identical: {same}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller inputs")
    ap.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1,3")
    ap.add_argument("--captions", type=int, default=40_000, help="CC3M rows for part 3")
    args = ap.parse_args()
    import logging

    import ray

    ray.init(num_cpus=2, namespace="datagen", log_to_driver=False, include_dashboard=False,
             logging_level=logging.ERROR)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="ray-bench-"))
    try:
        print(
            f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; ray {ray.__version__}"
        )
        parts = set(args.parts.split(","))
        if "1" in parts:
            throughput(1000 if args.quick else 4000, tmp)
        if "2" in parts:
            rate_limits(150 if args.quick else 450, tmp)
        if "3" in parts:
            cc3m_part(args.captions // (4 if args.quick else 1), tmp)
    finally:
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
