"""Benchmark `--image-input base64`: image preparation, sending with images, and memory.

    PYTHONPATH=$PWD python bench/vision_bench.py [--quick]

1. Preparation, one core: decode + resize to 768 + JPEG encode + base64 of phone-sized photos
   (the real COCO-mini photos scaled to 1600x1200), ours (`prompts.images.encode`: EXIF
   orientation, mode conversion, first frame, draft decoding, LANCZOS) next to a plain Pillow loop
   doing the same (open, convert, resize LANCZOS, save, b64encode). Target: ours >= 0.9x.
2. Sending: `datagen generate conversation --image-input base64` over 5,000 distinct 640x480
   images (COCO's size) against the loopback server (its own process, 200 ms latency, not
   decoding), concurrency 64, next to the same run text-only and the ideal 64 / 0.2 s = 320
   requests/s; with `--image-max-side 768` (the files go as they are, after a check decode) and,
   over 2,000 of them, `--image-max-side 512` (every image re-encoded). Client CPU per request
   is printed too: it says what two free cores would carry. Target: >= 85% of the ideal.
3. Memory: the peak RSS of those two datagen processes. Target: with images <= 1.5x the
   text-only run + 100 MB.

The machine's load is printed with the figures: the sending figure needs two free cores.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "coco" / "coco-mini"
for parent in [REPO, *REPO.parents]:
    if (parent / "shared" / "data" / "coco" / "coco-mini").is_dir():
        SHARED = parent / "shared" / "data" / "coco" / "coco-mini"
        break
PHOTOS = sorted((SHARED / "val2017").glob("*.jpg")) or sorted(
    (REPO / "data" / "coco" / "val2017").glob("*.jpg")
)

from datagen.prompts.images import EncodeSpec, encode  # noqa: E402


def plain_pillow(path: Path, side: int) -> str:
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = side / max(w, h)
        im = im.resize((round(w * s), round(h * s)), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def ours(path: Path, side: int) -> str:
    return encode(path, EncodeSpec(max_side=side)).data_url()


def bench_prep(folder: Path, n: int) -> None:
    files = []
    for i in range(n):
        p = folder / f"big{i:03d}.jpg"
        with Image.open(PHOTOS[i % len(PHOTOS)]) as im:
            im.convert("RGB").resize((1600, 1200)).save(p, "JPEG", quality=92)
        files.append(p)
    for fn in (plain_pillow, ours):  # warm up
        fn(files[0], 768)
    rates = {}
    for _ in range(2):  # alternate to share the machine's noise
        for name, fn in (("plain Pillow loop", plain_pillow), ("datagen encode", ours)):
            t0 = time.process_time()
            for p in files:
                fn(p, 768)
            dt = time.process_time() - t0
            rates[name] = max(rates.get(name, 0.0), len(files) / dt)
    plain, mine = rates["plain Pillow loop"], rates["datagen encode"]
    print("1. preparation, 1600x1200 JPEG -> 768 px JPEG q85 + base64, one core (CPU time):")
    print(f"   plain Pillow loop  {plain:7.1f} images/s")
    print(f"   datagen encode     {mine:7.1f} images/s   ratio {mine / plain:.2f}x (target >= 0.9x)")


def make_inputs(folder: Path, n: int) -> Path:
    images = folder / "images"
    images.mkdir()
    sources = []
    for p in PHOTOS:
        with Image.open(p) as im:
            sources.append(im.convert("RGB").resize((640, 480)))
    rows = []
    for i in range(n):
        name = f"{i:012d}.jpg"
        base = sources[i % len(sources)]
        dx, dy = (i * 7) % 40, (i * 13) % 30  # every file different
        base.crop((dx, dy, dx + 600, dy + 450)).resize((640, 480)).save(images / name, "JPEG", quality=85)
        rows.append(
            {
                "id": f"{i:012d}",
                "image": name,
                "width": 640,
                "height": 480,
                "captions": [
                    f"A photo number {i} of a street with people and cars.",
                    "A busy scene outside.",
                ],
            }
        )
    path = folder / "contexts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


_WRAP = (
    "import resource, sys\n"
    "from datagen.cli import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
    "r = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print('MAXRSS', r.ru_maxrss, 'CPU', r.ru_utime + r.ru_stime, file=sys.stderr)\n"
)


def run_generate(url: str, inputs: Path, out: Path, *extra: str) -> tuple[float, float, int, int, float]:
    cmd = [sys.executable, "-c", _WRAP, "generate", "conversation", "--input", str(inputs), "--out", str(out)]
    cmd += [
        "--base-url",
        url,
        "--model",
        "m",
        "--concurrency",
        "64",
        "--quiet",
        "--max-attempts",
        "1",
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    if "MAXRSS" not in proc.stderr:
        raise SystemExit(proc.stderr[-2000:])
    tail = proc.stderr.split("MAXRSS")[-1].split()
    rss_kb, cpu_s = int(tail[0]), float(tail[2])
    meta = json.loads((out / "run.json").read_text())
    run = meta["runs"][-1]
    return run["requests"] / run["seconds"], wall, rss_kb, run["requests"], cpu_s


def bench_send(folder: Path, n: int, n_resized: int) -> None:
    inputs = make_inputs(folder, n)
    few = folder / "few.jsonl"  # the first n_resized rows, for the re-encoding run
    few.write_text("".join(inputs.read_text().splitlines(keepends=True)[:n_resized]))
    server = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "support" / "fakeserver.py"), "--latency", "0.2",
         "--model-like", "0", "--no-decode"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    imgs = ["--image-input", "base64", "--images", str(folder / "images")]
    try:
        url = (server.stdout.readline() if server.stdout else "").split()[1]
        runs = {
            "text only": run_generate(url, inputs, folder / "text"),
            "images, 768 max": run_generate(url, inputs, folder / "img", *imgs, "--image-max-side", "768"),
            "images -> 512": run_generate(url, few, folder / "img512", *imgs, "--image-max-side", "512"),
        }
    finally:
        server.kill()
        server.wait()
    ideal = 64 / 0.2
    cores = len(os.sched_getaffinity(0))
    print(f"2. sending, 200 ms latency, concurrency 64 (ideal {ideal:.0f} req/s), 640x480 COCO-sized JPEGs:")
    print("   (768 max: the files are sent as they are, after a check decode; -> 512: every image is")
    print("   decoded, resized with LANCZOS and re-encoded)")
    for name, (rate, wall, _rss, reqs, cpu_s) in runs.items():
        per = 1000 * cpu_s / reqs
        print(f"   {name:16s} {rate:6.1f} req/s while sending ({rate / ideal:.0%} of ideal), {reqs:,} requests, "
              f"{wall:.1f} s wall; client CPU {per:.1f} ms/request, so {cores} free cores carry "
              f"{1000 * cores / per:.0f} req/s")  # fmt: skip
    text, img = runs["text only"], runs["images, 768 max"]
    print(f"   images (768 max) / text only: {img[0] / text[0]:.2f}x")
    print(f"3. peak RSS of the datagen process over {n:,} samples:")
    t_mb, i_mb = text[2] / 1024, img[2] / 1024
    print(f"   text only {t_mb:.0f} MB, with images {i_mb:.0f} MB; limit 1.5x + 100 MB = {1.5 * t_mb + 100:.0f} MB "
          f"({'within' if i_mb <= 1.5 * t_mb + 100 else 'OVER'}); re-encoding run ({n_resized:,}): "
          f"{runs['images -> 512'][2] / 1024:.0f} MB")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer images (a smoke run, not the figures)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; Pillow {Image.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        bench_prep(Path(tmp), 20 if args.quick else 60)
        bench_send(Path(tmp), 300 if args.quick else 5000, 200 if args.quick else 2000)
    print(f"load average {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
