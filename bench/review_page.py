"""Benchmark: how fast a review page opens in headless Chromium, for 2,000 and 20,000 samples.

Compares our page (cards drawn from the embedded JSON 40 at a time, more as the reader scrolls)
with the obvious simple alternative, the same page drawing every card up front (what a page of
static HTML cards amounts to). Prints page size, build time, time to `load`, and the ratio.

    PYTHONPATH=$PWD python bench/review_page.py [N ...]

Needs Chromium (`chromium` on PATH or DATAGEN_CHROMIUM) and the playwright package; uses the
real COCO-mini images and annotations from shared/data (or the bundled data/ copy).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from support.jsonl import write_jsonl  # noqa: E402
from support.paths import find_shared_data  # noqa: E402
from support.review_support import contexts_from_coco, llava_record  # noqa: E402

from datagen.review import build_review  # noqa: E402

TASKS = ("conversation", "detail_description", "complex_reasoning")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def make_run(root: Path, coco: Path, n: int) -> Path:
    ctx = contexts_from_coco(coco)
    rows = []
    for i in range(n):
        task = TASKS[i % 3]
        rec = llava_record(ctx[i % len(ctx)], task, "A longer answer about what the picture shows. " * 8)
        rec["sample_id"] = f"{task}:{i}"
        rows.append(rec)
    run = root / f"run{n}"
    run.mkdir()
    write_jsonl(run / "results.jsonl", rows)
    write_jsonl(run / "contexts.jsonl", ctx)
    return run


def load_seconds(browser, path: Path, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        t = time.perf_counter()
        page.goto(path.as_uri(), timeout=300_000)
        page.evaluate("document.body.offsetHeight")  # force layout before stopping the clock
        best = min(best, time.perf_counter() - t)
        page.close()
    return best


def main(sizes: list[int]) -> None:
    from playwright.sync_api import sync_playwright

    shared = find_shared_data()
    coco = shared / "coco" / "coco-mini" if shared else REPO / "data" / "coco"
    exe = os.environ.get("DATAGEN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        sys.exit("no Chromium found: install `chromium` or set DATAGEN_CHROMIUM")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        print(
            f"{'samples':>8} {'MB':>6} {'build s':>8} {'open s (batched)':>17} {'open s (all cards)':>19} {'ratio':>6}"
        )
        for n in sizes:
            run = make_run(Path(tmp), coco, n)
            out = Path(tmp) / f"review{n}.html"
            t = time.perf_counter()
            res = build_review(run, images=coco / "val2017", out=out)
            build_s = time.perf_counter() - t
            html = out.read_text(encoding="utf-8")
            every = Path(tmp) / f"review{n}-all.html"
            every.write_text(html.replace('"batch":40,', f'"batch":{n},', 1), encoding="utf-8")
            ours, alt = load_seconds(browser, out), load_seconds(browser, every, repeats=1)
            print(
                f"{n:>8} {res.bytes_written / 1e6:>6.1f} {build_s:>8.2f} {ours:>17.2f} {alt:>19.2f} {alt / ours:>5.1f}x"
            )
        browser.close()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [2000, 20000])
