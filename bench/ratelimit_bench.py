"""Benchmark: how close a run gets to a server's rate limit that it learns only from response headers.

    PYTHONPATH=$PWD python bench/ratelimit_bench.py [--cases 1:30:fixed,10:300:sliding,60:1800:bucket]

Each case is WINDOW_S:LIMIT:STYLE: the loopback fake server (tests/support/fakeserver.py, its own
process) admits LIMIT requests per WINDOW_S seconds, counted the STYLE way (support/ratewindows.py:
a fixed window, a sliding window, or OpenAI's token bucket), answers the rest with 429 +
retry-after, and sends `x-ratelimit-limit/remaining/reset-requests` headers (limit = LIMIT per
window). Two clients get the same span of time, 3.5 windows (at least 10 s) from the first answer:

- datagen's engine (`run_jobs`, 64 in flight, no `--rpm`: everything it knows comes from headers);
- the simple alternative: AsyncOpenAI + a semaphore of 64, relying on the SDK's own retries.

Printed: the pace of answers after the first window (a token bucket starts full, so the first
window says nothing about the pace) against the server's limit (the "share of the limit"), and
429s per answered request. Each client runs in a child process that is stopped
when the span is over, so a slow pace costs only the span, not the whole job list.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = "1:30:fixed,10:300:sliding,60:1800:bucket"
SERVER = REPO / "tests" / "support" / "fakeserver.py"

OURS = r"""
import sys
sys.path.insert(0, sys.argv[3])
from support.engine_helpers import EchoQA
from datagen.engine.runner import EngineConfig, run_jobs
from datagen.tasks.base import TaskOptions
from bench_jobs import make_jobs
url, n = sys.argv[1], int(sys.argv[2])
cfg = EngineConfig(model="m", base_urls=[url], api_key="sk-bench", concurrency=64, quiet=True)
run_jobs(EchoQA(), make_jobs(n), TaskOptions(image_token="first"), cfg, sys.argv[4])
"""

SDK = r"""
import asyncio, sys
import openai
from bench_jobs import make_jobs
url, n = sys.argv[1], int(sys.argv[2])
async def main():
    client = openai.AsyncOpenAI(base_url=url, api_key="sk-bench", max_retries=10)
    sem = asyncio.Semaphore(64)
    async def one(job):
        async with sem:
            try:
                await client.chat.completions.create(model="m", messages=job.messages, max_tokens=256)
            except Exception:
                pass
    await asyncio.gather(*(one(j) for j in make_jobs(n)))
asyncio.run(main())
"""


def stats(url: str, within: float) -> dict:
    with urllib.request.urlopen(url.replace("/v1", f"/_stats?within={within}")) as r:
        return json.loads(r.read())


def run_case(window: float, limit: int, style: str, client: str, tmp: Path) -> tuple[float, int, int]:
    """(share of the limit after the first window, 429s, answers in the span)."""
    server = subprocess.Popen(
        [sys.executable, str(SERVER), "--rate", f"{limit}/{window}", "--ratelimit-headers"]
        + ["--ratelimit-style", style, "--reply-chars", "200"],
        stdout=subprocess.PIPE,
        text=True,
    )
    url = (server.stdout.readline() if server.stdout else "").split()[1]
    span = max(10.0, 3.5 * window)
    best = int(limit * (span / window + 2))  # more jobs than the span can take
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "bench"), os.environ.get("PYTHONPATH", "")]),
    }
    code = OURS if client == "ours" else SDK
    run_dir = tmp / f"{client}-{style}-{window:g}"
    child = subprocess.Popen(
        [sys.executable, "-c", code, url, str(best * 2), str(REPO / "tests"), str(run_dir)],
        env=env,
        cwd=tmp,  # not the repository: its datagen/ would shadow the one PYTHONPATH names
    )
    try:
        first = None
        while first is None:
            time.sleep(0.2)
            first = stats(url, span).get("first_ok")
            if child.poll() is not None:
                break
        time.sleep(max(0.0, first + span - time.monotonic()) if first else 0)
        got = stats(url, span)
        got["before"] = stats(url, window).get("answered_within", 0)
    finally:
        child.kill()
        child.wait()
        server.kill()
        server.wait()
    sustained = got.get("answered_within", 0) - got["before"]
    share = sustained / ((span - window) * limit / window)
    return share, got["by_status"].get("429", 0), got.get("answered_within", 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=CASES)
    ap.add_argument("--clients", default="ours,sdk")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    import tempfile

    print(f"rate limits from headers - load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for case in args.cases.split(","):
            w, lim, style = case.split(":")
            for client in args.clients.split(","):
                share, n429, answered = run_case(float(w), int(lim), style, client, Path(d))
                rows.append(
                    {"case": case, "client": client, "share": share, "429": n429, "answered": answered}
                )
                print(
                    f"  {lim:>5} per {w:>3} s ({style:<7}) {client:<5} {share:6.1%} of the limit after the "
                    f"first window; {answered} answered, {n429} x 429 ({n429 / max(answered, 1):.2%})"
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
