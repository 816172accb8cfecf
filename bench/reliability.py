"""Reliability figures for docs/reliability.md: kills, faults, bad inputs, broken servers.

    PYTHONPATH=$PWD python bench/reliability.py [--quick]

Everything runs the real `datagen` CLI in child processes against the loopback fake server
(tests/support/fakeserver.py) on the COCO mini sample (80 images), and prints four tables:

1. kill -9 at chosen instants (the test-only hook `DATAGEN_TEST_KILL_AT`, and real SIGKILLs timed
   on the number of lines in results.jsonl), then a re-run: samples lost, duplicated or corrupt,
   and requests paid twice;
2. server faults mixed into one run (429, 500, dropped connections, malformed bodies, hangs past
   --timeout): whether every sample still ends in results.jsonl;
3. bad inputs and outputs: the exit code and whether the answer is one `Error:` line;
4. servers that are not an OpenAI API: seconds and requests until the run stops, against what
   the run would send without stopping (samples x attempts), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from support.engine_helpers import cli, good_reply  # noqa: E402
from support.fakeserver import BROKEN, Drop, FakeServer, Hang, Malformed, Status  # noqa: E402

from datagen.common.faults import KILL_ENV  # noqa: E402

COCO = Path(os.environ.get("DATAGEN_SHARED", "/work/shared/data")) / "coco" / "coco-mini"
ANN = COCO / "annotations"
SAMPLES = 80


def source() -> list[str]:
    return [
        "--captions",
        str(ANN / "captions_train2017.json"),
        "--instances",
        str(ANN / "instances_train2017.json"),
    ]


def generate(out: Path, url: str, *more: str) -> list[str]:
    return cli(
        "generate",
        "echo_qa",
        *source(),
        "--out",
        str(out),
        "--model",
        "m",
        "--base-url",
        url,
        "--quiet",
        *more,
    )


def run(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)


def short_for_even(body: dict) -> str:
    sid = body["messages"][-1]["content"].split()[1]
    return f"Q: What is in {sid}?\nA: no" if int(sid) % 2 == 0 else good_reply(body)


def lines(path: Path) -> tuple[list[dict], int]:
    """(parsed lines, corrupt lines) of a JSONL file."""
    good, bad = [], 0
    if path.exists():
        for raw in path.read_text().splitlines():
            try:
                good.append(json.loads(raw))
            except ValueError:
                bad += 1
    return good, bad


def check_run(out: Path, *, final: bool) -> dict[str, int]:
    """Samples in neither file, duplicated, corrupt lines. Right after a kill, failures.jsonl may
    still hold a superseded line beside its replacement (compacted by the next run; readers take
    the latest line of a key), so only duplicate results count then; after the re-run, any
    sample with more than one line in the two files counts."""
    res, bad_r = lines(out / "results.jsonl")
    fail, bad_f = lines(out / "failures.jsonl")
    rid = [r["sample_id"] for r in res]
    fid = [f["sample_id"] for f in fail]
    dup = len(rid) - len(set(rid))
    if final:
        dup += len(set(rid) & set(fid)) + (len(fid) - len(set(fid)))
    return {"lost": SAMPLES - len(set(rid) | set(fid)), "duplicated": dup, "corrupt": bad_r + bad_f}


def kills(quick: bool) -> list[tuple[str, dict[str, int], int]]:
    points = [
        "rejudge:after-one:5",
        "run:before-compact",
        "atomic-write:before-rename",
        "atomic-write:before-rename:2",
    ]
    real = [5, 25, 50] if quick else [5, 15, 25, 35, 50, 65]
    rows = []
    for point in points:
        with tempfile.TemporaryDirectory() as d, FakeServer(handler=short_for_even) as srv:
            out = Path(d) / "run"
            run(generate(out, srv.url))
            before = len(srv.log)
            killed = run(generate(out, srv.url), env={**os.environ, KILL_ENV: point})
            mid = check_run(out, final=False)
            again = run(generate(out, srv.url))
            end = check_run(out, final=True)
            ok = killed.returncode == -signal.SIGKILL and again.returncode == 0
            bad = {k: max(mid[k], end[k]) for k in mid}
            rows.append((f"hook {point}", bad if ok else {**bad, "failed_rerun": 1}, len(srv.log) - before))
    for n in real:
        with tempfile.TemporaryDirectory() as d, FakeServer(handler=good_reply, latency=0.02) as srv:
            out = Path(d) / "run"
            proc = subprocess.Popen(generate(out, srv.url, "--concurrency", "4"))
            res = out / "results.jsonl"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (res.exists() and res.read_bytes().count(b"\n") >= n):
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            again = run(generate(out, srv.url))
            counts = {}
            for e in srv.log:
                counts[e.key] = counts.get(e.key, 0) + 1
            twice = sum(c - 1 for c in counts.values())
            bad = check_run(out, final=True)
            rows.append(
                (
                    f"SIGKILL after {n} results",
                    bad if again.returncode == 0 else {**bad, "failed_rerun": 1},
                    twice,
                )
            )
    return rows


def faults() -> tuple[int, int, int, float]:
    """(samples done, samples, requests, seconds) for one run through a mix of faults."""
    seen: dict[str, int] = {}

    def mixed(body: dict):
        key = body["messages"][-1]["content"]
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            return good_reply(body)
        sid = int(key.split()[1])
        return [Status(429, retry_after=0.05), Status(500), Drop(), Malformed(), Hang(3), None, None][
            sid % 7
        ] or good_reply(body)

    with tempfile.TemporaryDirectory() as d, FakeServer(handler=mixed) as srv:
        out = Path(d) / "run"
        # a few good answers first, so the run is talking to a real API when the faults start
        t0 = time.monotonic()
        done = run(generate(out, srv.url, "--timeout", "1", "--concurrency", "8"))
        took = time.monotonic() - t0
        res, _ = lines(out / "results.jsonl")
        assert done.returncode in (0, 4, 5), done.stderr
        return len({r["sample_id"] for r in res}), SAMPLES, len(srv.log), took


def bad_inputs() -> list[tuple[str, int, bool]]:
    rows = []
    with tempfile.TemporaryDirectory() as d, FakeServer(handler=good_reply) as srv:
        tmp = Path(d)
        caps = json.loads((ANN / "captions_val2017.json").read_text())
        caps["annotations"][0]["caption"] = "a \ud800 b"
        (tmp / "surrogate.json").write_text(json.dumps(caps))
        (tmp / "ids.bin").write_bytes(bytes(range(256)))
        os.mkfifo(tmp / "fifo")
        (tmp / "real.jsonl").write_text("")
        (tmp / "link.jsonl").symlink_to(tmp / "real.jsonl")
        run_dir = tmp / "run"
        run(generate(run_dir, srv.url, "--limit", "5"))
        corrupt = tmp / "corrupt"
        run(generate(corrupt, srv.url, "--limit", "5"))
        rl = (corrupt / "results.jsonl").read_text().splitlines()
        rl[2] = '{"broken'
        (corrupt / "results.jsonl").write_text("\n".join(rl) + "\n")
        ctx = ["context", "--captions", str(ANN / "captions_val2017.json"), "--overwrite"]
        cases = {
            "context --out = its captions file": [*ctx, "--out", str(ANN / "captions_val2017.json")],
            "context --out = the same file by another name": [
                *ctx,
                "--out",
                str(ANN / ".." / "annotations" / "captions_val2017.json"),
            ],
            "context --out FIFO": [*ctx, "--out", str(tmp / "fifo")],
            "context --out -": [*ctx, "--out", "-"],
            "context --out symlink (written through)": [*ctx, "--out", str(tmp / "link.jsonl")],
            "caption with a lone surrogate": [
                "context",
                "--captions",
                str(tmp / "surrogate.json"),
                "--out",
                str(tmp / "c.jsonl"),
            ],
            "binary --exclude-ids": [
                "export",
                "llava",
                str(run_dir),
                "--out",
                str(tmp / "x.json"),
                "--exclude-ids",
                str(tmp / "ids.bin"),
            ],
            "--base-url with user:password@": [
                "generate",
                "echo_qa",
                *source(),
                "--out",
                str(tmp / "r2"),
                "--model",
                "m",
                "--base-url",
                srv.url.replace("http://", "http://u:pw-secret@"),
            ],
            "corrupt middle line in results.jsonl": [
                "generate",
                "echo_qa",
                *source(),
                "--out",
                str(corrupt),
                "--model",
                "m",
                "--base-url",
                srv.url,
                "--limit",
                "5",
            ],
            "--max-failure-rate 2": [
                "generate",
                "echo_qa",
                *source(),
                "--out",
                str(tmp / "r3"),
                "--model",
                "m",
                "--base-url",
                srv.url,
                "--max-failure-rate",
                "2",
            ],
        }
        for name, args in cases.items():
            argv = cli(*args)
            done = run(argv, timeout=120)
            err = done.stderr.strip().splitlines()
            one_line = done.returncode == 0 or (
                len(err) == 1 and err[0].startswith("Error: ") and "Traceback" not in done.stderr
            )
            rows.append((name, done.returncode, one_line))
    return rows


def broken_servers(quick: bool) -> list[tuple[str, str, float, int, int]]:
    rows = []
    kinds = [
        ("html", []),
        ("502", []),
        ("close", []),
        ("empty-json", []),
        ("drip", ["--timeout", "5"]),
        ("hang", ["--timeout", "5"]),
    ]
    for kind, more in kinds:
        with tempfile.TemporaryDirectory() as d, FakeServer(handler=lambda body, k=kind: BROKEN[k]) as srv:
            t0 = time.monotonic()
            done = run(generate(Path(d) / "run", srv.url, *more))
            took = time.monotonic() - t0
            said = (done.stderr.strip().splitlines() or ["?"])[-1]
            rows.append((kind, " ".join(more) or "defaults", took, len(srv.log), done.returncode, said))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer real SIGKILL trials")
    args = ap.parse_args()
    print(f"machine load: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cpus\n")

    rows = kills(args.quick)
    survived = sum(1 for _, bad, _ in rows if not any(bad.values()))
    print(f"1. kill -9 then re-run ({survived} of {len(rows)} survived: nothing lost, duplicated or corrupt)")
    for name, bad, twice in rows:
        print(f"   {name:36s} lost {bad['lost']} dup {bad['duplicated']} corrupt {bad['corrupt']}"
              f"{' RE-RUN FAILED' if bad.get('failed_rerun') else ''}  re-sent {twice}")  # fmt: skip

    done, total, requests, took = faults()
    print(f"\n2. faults (429, 500, drop, malformed, hang > --timeout; first answer of 5 in 7 samples):"
          f" {done} of {total} samples done, {requests} requests, {took:.1f} s")  # fmt: skip

    print("\n3. bad inputs and outputs")
    for name, code, one in bad_inputs():
        said = "ok" if code == 0 else "one Error: line" if one else "NOT ONE LINE"
        print(f"   {name:48s} exit {code:3d}  {said}")

    print("\n4. servers that are not an OpenAI API (concurrency 32, 80 samples, 6 retries, 3 asks)")
    print("   kind        options        seconds  requests  without stopping  ratio  exit")
    for kind, opts, took, reqs, code, said in broken_servers(args.quick):
        without = SAMPLES * 7  # every sample, first try + 6 retries (x3 asks for bodies that do not parse)
        print(
            f"   {kind:11s} {opts:14s} {took:7.1f}  {reqs:8d}  {without:16d}  {without / max(reqs, 1):5.0f}x  {code}"
        )
        print(f"      {said[:160]}")


if __name__ == "__main__":
    main()
