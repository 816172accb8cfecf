"""Benchmark the generation engine against the obvious alternatives, side by side in one run.

    PYTHONPATH=$PWD python bench/engine_bench.py [--quick]

Every scenario talks to the loopback OpenAI-compatible server of tests/support/fakeserver.py running in
its OWN process, so "client CPU" (getrusage of this process) is the client's alone.

1. 0 ms latency, 3,000 requests, 64 in flight: (a) plain `AsyncOpenAI` + `asyncio.Semaphore`
   calling `chat.completions.create`, (b) a plain aiohttp loop posting the same JSON, (c) ours
   (`datagen.engine.runner.run_jobs`: parse, filter, records, flushed appends, resume keys, limiter, all on).
2. 200 ms latency, concurrency 64: ours vs the ideal 64 / 0.2 s = 320 requests/s (and (a), (b)).
3. A server limit of 300 requests per 10 s window (30/s): ours with `--rpm 1800`, ours with no
   limit given (learning it from x-ratelimit headers), and (a) with the SDK's own retries; 429 counts.
4. Resume: a re-run over a finished 150,000-line results.jsonl until "nothing to do", next to the
   simple alternative (json.loads every line to collect its key).
5. Disk: run-directory bytes per sample beyond the reply text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support.engine_helpers import EchoQA  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from bench_jobs import make_jobs  # noqa: E402

from datagen.engine.runner import EngineConfig, prepare, run_jobs  # noqa: E402
from datagen.tasks.base import Job, TaskOptions  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Server:
    """tests/support/fakeserver.py in a subprocess."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "support" / "fakeserver.py"), *args],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        self.url = line.split()[1]

    def stats(self) -> dict:
        with urllib.request.urlopen(self.url.replace("/v1", "/_stats")) as r:
            return json.loads(r.read())

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def bodies(jobs: list[Job]) -> list[dict]:
    return [{"model": "m", "messages": j.messages, "max_tokens": 256, "temperature": 0.7} for j in jobs]


# ---- the two alternatives ------------------------------------------------------------------------------
async def plain_sdk(url: str, payloads: list[dict], conc: int, retries: int = 2) -> int:
    import openai

    client = openai.AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=retries)
    sem = asyncio.Semaphore(conc)
    failed = 0

    async def one(b: dict) -> None:
        nonlocal failed
        async with sem:
            try:
                r = await client.chat.completions.create(**b)
                _ = r.choices[0].message.content
            except Exception:
                failed += 1

    await asyncio.gather(*(one(b) for b in payloads))
    await client.close()
    return failed


async def plain_aiohttp(url: str, payloads: list[dict], conc: int) -> int:
    import aiohttp

    sem = asyncio.Semaphore(conc)
    headers = {"Authorization": "Bearer sk-bench"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as s:

        async def one(b: dict) -> None:
            async with sem, s.post(url + "/chat/completions", json=b, headers=headers) as r:
                _ = (await r.json())["choices"][0]["message"]["content"]

        await asyncio.gather(*(one(b) for b in payloads))
    return 0


def ours(url: str, jobs: list[Job], run_dir: Path, conc: int, **kw: object) -> object:
    cfg = EngineConfig(model="m", base_urls=[url], api_key="sk-bench", concurrency=conc, quiet=True, **kw)  # type: ignore[arg-type]
    st = run_jobs(EchoQA(), jobs, TaskOptions(image_token="first"), cfg, run_dir)
    assert st.ok == len(jobs) and st.requests == len(jobs), st.as_dict()  # one answered request per sample
    return st


def measure(fn, n: int) -> tuple[float, float, float]:
    """(requests/s, client CPU ms per request, seconds)."""
    t0, c0 = time.perf_counter(), cpu()
    fn()
    dt, dc = time.perf_counter() - t0, cpu() - c0
    return n / dt, dc / n * 1000, dt


def row(name: str, rps: float, cpu_ms: float, secs: float, extra: str = "") -> None:
    print(f"  {name:<44} {rps:8.0f} req/s  {cpu_ms:6.2f} ms CPU/req  {secs:6.1f} s  {extra}")


# ---- scenarios -----------------------------------------------------------------------------------------
def throughput(tmp: Path, n: int, latency: float, conc: int, reply_chars: int) -> dict:
    print(
        f"\n[{'0 ms' if not latency else f'{latency * 1000:.0f} ms'} latency, {n} requests, {conc} in flight]"
    )
    out = {}
    with Server("--latency", str(latency), "--reply-chars", str(reply_chars)) as srv:
        jobs = make_jobs(n)
        p = bodies(jobs)
        asyncio.run(plain_aiohttp(srv.url, p[:200], conc))  # warm the server up
        out["sdk"] = measure(lambda: asyncio.run(plain_sdk(srv.url, p, conc)), n)
        row("(a) AsyncOpenAI + Semaphore", *out["sdk"])
        out["aiohttp"] = measure(lambda: asyncio.run(plain_aiohttp(srv.url, p, conc)), n)
        row("(b) plain aiohttp loop", *out["aiohttp"])
        run_dir = tmp / f"run-{latency}"
        out["ours"] = measure(lambda: ours(srv.url, jobs, run_dir, conc), n)
        row("(c) datagen engine (everything on)", *out["ours"])
        lines = (run_dir / "results.jsonl").read_text().count("\n")
        assert lines == n, f"expected {n} results, got {lines}"
    print(
        f"  ratios: ours/(a) {out['ours'][0] / out['sdk'][0]:.2f}x req/s, "
        f"ours/(b) {out['ours'][0] / out['aiohttp'][0]:.2f}x req/s; "
        f"CPU/req ours {out['ours'][1]:.2f} ms vs (a) {out['sdk'][1]:.2f} ms, (b) {out['aiohttp'][1]:.2f} ms"
    )
    if latency:
        ideal = conc / latency
        print(f"  ours reaches {out['ours'][0] / ideal:.1%} of the ideal {ideal:.0f} req/s")
    out["run_dir"] = run_dir
    return out


def rate_limited(tmp: Path, n: int) -> None:
    print(f"\n[server limit 300 requests per 10 s window (30/s), {n} requests]")
    with Server("--rate", "300/10", "--reply-chars", "600") as srv:
        jobs = make_jobs(n)
        rps, cpu_ms, secs = measure(lambda: ours(srv.url, jobs, tmp / "rl-a", 64, rpm=1800), n)
        s429 = srv.stats()["by_status"].get("429", 0)
        row("ours, --rpm 1800", rps, cpu_ms, secs, f"{rps / 30:.1%} of limit, {s429} x 429 ({s429 / n:.2%})")
    with Server("--rate", "300/10", "--ratelimit-headers", "--reply-chars", "600") as srv:
        jobs = make_jobs(n)
        rps, cpu_ms, secs = measure(lambda: ours(srv.url, jobs, tmp / "rl-b", 64), n)
        s429 = srv.stats()["by_status"].get("429", 0)
        row(
            "ours, no limit given (x-ratelimit headers)",
            rps,
            cpu_ms,
            secs,
            f"{rps / 30:.1%} of limit, {s429} x 429 ({s429 / n:.2%})",
        )
    with Server("--rate", "300/10", "--reply-chars", "600") as srv:
        p = bodies(make_jobs(n))
        t0 = time.perf_counter()
        failed = asyncio.run(plain_sdk(srv.url, p, 64, retries=10))
        secs = time.perf_counter() - t0
        s429 = srv.stats()["by_status"].get("429", 0)
        ok = n - failed
        row(
            "(a) Semaphore + SDK retries (10)",
            ok / secs,
            0.0,
            secs,
            f"{ok / secs / 30:.1%} of limit, {s429} x 429, {failed} failed",
        )


def resume(tmp: Path, n: int) -> tuple[float, float]:
    print(f"\n[resume over a finished {n:,}-line results.jsonl]")
    run_dir = tmp / "resume"
    run_dir.mkdir()
    jobs = make_jobs(n)
    cfg = EngineConfig(model="m", base_urls=["http://127.0.0.1:9/v1"], api_key="x", quiet=True)
    reply = "A picture of a cat sleeping on a red sofa next to a lamp in a living room. " * 8
    with open(run_dir / "results.jsonl", "w") as f:
        for w in prepare(jobs, cfg):
            rec = {
                "id": w.job.source["id"],
                "image": w.job.source["image"],
                "conversations": [
                    {"from": "human", "value": "<image>\nWhat is in the picture?"},
                    {"from": "gpt", "value": reply},
                ],
                "task": "echo_qa",
                "sample_id": w.job.sample_id,
                "model": "m",
                "template_hash": "t0",
                "usage": {"prompt_tokens": 500, "completion_tokens": 150},
                "request_key": w.key,
            }
            f.write(json.dumps(rec) + "\n")
    size = (run_dir / "results.jsonl").stat().st_size
    t0, c0 = time.perf_counter(), cpu()
    st = run_jobs(EchoQA(), jobs, TaskOptions(), cfg, run_dir)  # nothing is sent: the URL is dead
    ours_s, ours_cpu = time.perf_counter() - t0, cpu() - c0
    assert st.skipped == n and st.ok == 0
    t0, c0 = time.perf_counter(), cpu()
    keys = set()
    with open(run_dir / "results.jsonl", "rb") as fh:
        for line in fh:
            keys.add(json.loads(line)["request_key"])
    naive_keys, naive_cpu = time.perf_counter() - t0, cpu() - c0
    print(f"  file: {size / 1e6:.0f} MB")
    print(
        f"  ours: 'nothing to do' after {ours_s:.2f} s wall, {ours_cpu:.2f} s CPU (keys for {n:,} jobs + scan + run.json)"
    )
    print(
        f"  simple alternative, json.loads every line (the scan alone): {naive_keys:.2f} s wall, "
        f"{naive_cpu:.2f} s CPU; ratio {naive_keys / ours_s:.1f}x wall, {naive_cpu / ours_cpu:.1f}x CPU"
    )
    print(f"  (load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    return ours_cpu, naive_cpu


def disk(run_dir: Path, n: int, reply_chars: int) -> None:
    total = sum(p.stat().st_size for p in run_dir.iterdir())
    per = total / n
    print(f"\n[disk] run dir {total:,} bytes for {n} samples: {per:.0f} B/sample, reply text {reply_chars} B")
    print(f"  overhead beyond the reply text: {per - reply_chars:.0f} B/sample (target <= 1024)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller counts (a smoke run, not the figures)")
    ap.add_argument("--only", choices=["fast", "latency", "rate", "resume"], help="run one scenario")
    args = ap.parse_args()
    q, only = args.quick, args.only
    print(f"datagen engine benchmark - {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        reply_chars = 600
        if only in (None, "fast"):
            r0 = throughput(tmp, 600 if q else 3000, 0.0, 64, reply_chars)
            disk(r0["run_dir"], 600 if q else 3000, reply_chars)
        if only in (None, "latency"):
            throughput(tmp, 640 if q else 1920, 0.2, 64, reply_chars)
        if only in (None, "rate"):
            rate_limited(tmp, 400 if q else 2000)
        if only in (None, "resume"):
            resume(tmp, 15_000 if q else 150_000)


if __name__ == "__main__":
    main()
