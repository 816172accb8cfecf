"""Benchmark `--structured` and `datagen judge` against the simple alternatives, side by side in one run.

    PYTHONPATH=$PWD python bench/structured_bench.py [--quick]

1. Re-asks: LLaVA's three tasks over copies of the 80 real COCO-mini train contexts (1,002 samples;
   --quick 300) against a loopback server answering like a chat model whose text replies drift
   from the few-shot format in 30% of requests (tests/support/fakereplies.py: a lead-in line,
   markdown labels, Q:/A:, missing ===, a closing remark, chat-role labels, a long preamble, a
   second pair where one was asked for, ...). Text mode vs `--structured`: re-asks and requests
   per 1,000 samples, and the tokens they cost. Prompt tokens are counted with tiktoken on the exact
   request bodies (through `--dry-run`), completion tokens as the server reports them.
2. Judge throughput: `datagen judge` over 1,920 samples at 200 ms server latency, `--concurrency 64`,
   against the ideal 64 / 0.2 s = 320 requests/s and a plain aiohttp loop posting the same bodies.

The server runs in its own process (tests/support/fakeserver.py --model-like), as in engine_bench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from engine_bench import Server, plain_aiohttp  # noqa: E402
from support.paths import find_shared_data  # noqa: E402

from datagen.engine.config import EngineConfig, request_body  # noqa: E402
from datagen.engine.dryrun import write_dry_run  # noqa: E402
from datagen.engine.generate import run_generate, run_llava  # noqa: E402
from datagen.engine.jobs import build_jobs  # noqa: E402
from datagen.engine.options import task_options  # noqa: E402
from datagen.records import make_conversations, placement_rng  # noqa: E402
from datagen.sources.load import SourceSpec, load_contexts  # noqa: E402

LLAVA = ["conversation", "detail_description", "complex_reasoning"]


def real_contexts() -> list[dict]:
    shared = find_shared_data()
    coco = shared / "coco" / "coco-mini" if shared else REPO / "data" / "coco"
    split = "train2017" if shared else "val2017"
    return load_contexts(SourceSpec(coco=coco, split=split))[0]


def copies(records: list[dict], n: int) -> list[dict]:
    """`n` contexts: the real ones over and over, each copy with an id and image name of its own."""
    return [
        {
            **records[i % len(records)],
            "id": f"9{i:011d}",
            "image": f"9{i:011d}.jpg",
            "image_id": 9 * 10**11 + i,
        }
        for i in range(n)
    ]


def config(url: str, concurrency: int) -> EngineConfig:
    return EngineConfig(model="m", base_urls=[url], api_key="sk-bench", concurrency=concurrency, quiet=True)


def reasks(tmp: Path, images: int, drift: float) -> None:
    contexts = copies(real_contexts(), images)
    samples = images * len(LLAVA)
    print(f"\n[re-asks: {samples:,} samples of {', '.join(LLAVA)}, {drift:.0%} of text replies drifted]")
    rows = {}
    for mode in ("text", "structured"):
        # the duplicate filter is off: the copies share their captions, so their replies repeat
        opts = task_options(LLAVA, structured=mode == "structured", no_filter=["duplicate"])
        dry = write_dry_run(
            build_jobs(LLAVA, opts, lambda: contexts).jobs, tmp / f"dry-{mode}", config("http://x", 1)
        )
        with Server("--model-like", str(drift), "--seed", "7") as srv:
            t0 = time.perf_counter()
            st = run_llava(LLAVA, lambda: contexts, opts, config(srv.url, 32), tmp / mode)
            secs = time.perf_counter() - t0
            kinds = srv.stats().get("kinds", {})
        per_request = dry.prompt_tokens / dry.requests  # tiktoken, on the bodies actually sent
        tokens = st.requests * per_request + st.completion_tokens
        rows[mode] = dict(st=st, tokens=tokens, secs=secs, kinds=kinds, per_request=per_request)
        drifted = sum(n for k, n in kinds.items() if not k.endswith(":clean"))
        print(
            f"  {mode:<10} {st.ok:5d} ok, {sum(st.failed.values()):3d} failed, {sum(st.filtered.values()):3d} filtered; "
            f"{st.reasked:4d} re-asks = {st.reasked / samples * 1000:6.1f} per 1,000 samples; "
            f"{st.requests / samples * 1000:6.0f} requests and {tokens / samples * 1000 / 1e6:5.2f}M tokens "
            f"per 1,000 samples ({per_request:,.0f} prompt tokens per request; {drifted} replies drifted; {secs:.1f} s)"
        )
    t, s = rows["text"], rows["structured"]
    saved = t["tokens"] - s["tokens"]
    reask_tokens = t["st"].reasked * (t["per_request"] + t["st"].completion_tokens / t["st"].requests)
    print(
        f"  structured saves {t['st'].reasked - s['st'].reasked} re-asks = "
        f"{(t['st'].reasked - s['st'].reasked) / samples * 1000:.1f} per 1,000 samples; the re-asks cost "
        f"{reask_tokens / samples * 1000:,.0f} tokens per 1,000 samples; net saving with the JSON few-shot "
        f"prompts {saved / samples * 1000:,.0f} tokens per 1,000 samples ({saved / t['tokens']:.1%} of text mode)"
    )
    unread = {k: n for k, n in sorted(t["kinds"].items()) if not k.endswith(":clean")}
    print(f"  text-mode drifts served: {json.dumps(unread)}")


def judge_throughput(tmp: Path, n: int, latency: float, conc: int) -> None:
    print(f"\n[judge: {n:,} samples, {latency * 1000:.0f} ms latency, {conc} in flight]")
    contexts = copies(real_contexts(), n)
    run = tmp / "to-judge"
    run.mkdir()
    with open(run / "results.jsonl", "w") as f:  # one detail-style sample per image, from its captions
        for ctx in contexts:
            pairs = [("Describe the image in detail.", " ".join(ctx["captions"]))]
            conv = make_conversations(pairs, "random", placement_rng(0, ctx["id"]))
            f.write(json.dumps({"id": ctx["id"], "image": ctx["image"], "task": "detail_description",
                                "sample_id": f"detail_description:{ctx['id']}", "conversations": conv}) + "\n")  # fmt: skip
    with open(run / "contexts.jsonl", "w") as f:
        f.writelines(json.dumps(c) + "\n" for c in contexts)
    flags = {"inputs": [str(run)]}
    opts = task_options(["judge"], flags=flags)
    with Server("--latency", str(latency), "--model-like", "0") as srv:
        jobs = build_jobs(["judge"], opts, list).jobs
        cfg = config(srv.url, conc)
        payloads = [request_body(j, cfg) for j in jobs]
        asyncio.run(plain_aiohttp(srv.url, payloads[: conc * 2], conc))  # warm the server up
        t0 = time.perf_counter()
        asyncio.run(plain_aiohttp(srv.url, payloads, conc))
        plain = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        out = tmp / "judged"
        run_generate(
            ["judge"], source=SourceSpec(), opts=task_options(["judge"], flags=flags), cfg=cfg, out=out
        )
        wall = time.perf_counter() - t0
    meta = json.loads((out / "run.json").read_text())
    sending = meta["runs"][-1]["seconds"]
    scored = (out / "results.jsonl").read_text().count("\n")
    assert scored == n, f"expected {n} verdicts, got {scored}"
    ideal = conc / latency
    ours = n / sending
    print(f"  plain aiohttp loop, same bodies       {plain:6.0f} req/s = {plain / ideal:.1%} of ideal")
    print(f"  datagen judge, while sending           {ours:6.0f} req/s = {ours / ideal:.1%} of ideal "
          f"({ours / plain:.2f}x the plain loop)")  # fmt: skip
    print(f"  datagen judge, whole command           {n / wall:6.0f} req/s = {n / wall / ideal:.1%} of ideal "
          f"(incl. reading {n:,} samples and contexts, building jobs, after-run)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer samples")
    args = ap.parse_args()
    print(f"load avg {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (wall times stretch under load)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        reasks(tmp, 100 if args.quick else 334, 0.3)
        judge_throughput(tmp, 640 if args.quick else 1920, 0.2, 64)
    print(f"\nload avg {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
