"""Benchmark: 158K synthetic LLaVA replies through parse -> filter -> record assembly -> export.

Usage: PYTHONPATH=. python bench/llava_pipeline.py [--n 158000] [--seed 0]

Builds LLaVA-Instruct-158K's mix of replies (58K conversation, 23K detail, 77K complex reasoning)
with realistic shapes and lengths, then times, in one run:
  (a) the whole post-LLM pipeline: parse each reply, run every quality filter (duplicate tracker
      included), assemble the LLaVA record, write the exported JSON array (atomic);
  (b) `json.dump` alone of the same final records to a file (the obvious floor for "export").
Prints each stage's time and the ratio (a)/(b). Target: (a) under 15 s on the 2-core dev machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from datagen.common.jsonio import write_jsonl_atomic
from datagen.common.resources import templates_root
from datagen.errors import ParseError
from datagen.export.llava import export_llava, write_llava_json
from datagen.prompts.instructions import load_instructions, pick_instruction
from datagen.tasks.base import Job, TaskOptions
from datagen.tasks.filters import first_rejection
from datagen.tasks.llava.task import INSTRUCTION_KEY
from datagen.tasks.registry import get_task

MIX = {"conversation": 58 / 158, "detail_description": 23 / 158, "complex_reasoning": 77 / 158}
NOUNS = ["man", "woman", "dog", "cat", "bus", "kite", "umbrella", "table", "plate", "pizza", "bench"]
NOUNS += ["street", "train", "boat", "horse", "skateboard", "laptop", "giraffe", "surfboard", "clock"]
ADJ = ["red", "blue", "small", "large", "wooden", "crowded", "sunny", "wet", "old", "young", "white"]
VERBS = ["holds", "rides", "watches", "carries", "stands near", "sits on", "walks past", "looks at"]
# Real replies are full of words that trigger the filters' cheap pre-tests ("not", "given", ...);
# keep them in so the benchmark pays for the regex confirmations too.
CLAUSES = [
    "which is not unusual for a place like this",
    "given the time of day",
    "although it is hard to tell how far away it is",
    "and the light suggests it is late afternoon",
    "so it can't be very cold",
]
# A few percent of replies are bad in the ways the filters and parser catch.
BAD = [
    ("leak", "According to the captions, the {n} is next to a {n2}."),
    ("leak", "The {n} is located at [0.12, 0.34, 0.56, 0.78] in the picture."),
    ("refusal", "I'm sorry, but I can't help with identifying the {n}."),
    ("short", "Yes."),
]


def sentence(rng: random.Random, words: int) -> str:
    parts: list[str] = []
    while len(parts) < words:
        parts += [rng.choice(("The", "A")), rng.choice(ADJ), rng.choice(NOUNS), rng.choice(VERBS)]
        parts += ["the", rng.choice(ADJ), rng.choice(NOUNS) + ","]
        if rng.random() < 0.3:
            parts += rng.choice(CLAUSES).split() + [";"]
    return " ".join(parts[:words]).rstrip(",;") + "."


def question(rng: random.Random) -> str:
    return f"What is the {rng.choice(ADJ)} {rng.choice(NOUNS)} doing near the {rng.choice(NOUNS)} {rng.randrange(10**6)}?"


def answer(rng: random.Random, words: int) -> str:
    if rng.random() < 0.01:
        return rng.choice(BAD)[1].format(n=rng.choice(NOUNS), n2=rng.choice(NOUNS))
    return sentence(rng, words)


def make_reply(task: str, rng: random.Random) -> str:
    if rng.random() < 0.005:
        return "The model rambled instead of following the format."  # parse failure
    if task == "detail_description":
        return "\n\n".join(sentence(rng, rng.randint(30, 60)) for _ in range(rng.randint(2, 3)))
    turns = rng.randint(3, 5) if task == "conversation" else 1
    blocks = []
    for _ in range(turns):
        words = rng.randint(12, 40) if task == "conversation" else rng.randint(60, 120)
        blocks.append(f"Question:\n{question(rng)}\n===\nAnswer:\n{answer(rng, words)}")
    return "\n===\n".join(blocks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=158_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    tasks = list(MIX)
    counts = {t: round(args.n * MIX[t]) for t in tasks}
    opts = TaskOptions(seed=args.seed, image_token="random")
    instructions = load_instructions(templates_root() / "detail_description" / "instructions.txt")
    work: list[tuple[Job, str]] = []
    for task in tasks:
        for i in range(counts[task]):
            image = f"{i:012d}"
            sid = f"{task}:{image}"
            source: dict[str, str] = {"id": image, "image": f"{image}.jpg"}
            if task == "detail_description":  # what DetailDescriptionTask.build_jobs attaches
                source[INSTRUCTION_KEY] = pick_instruction(instructions, opts.seed, sid)
            work.append((Job(sid, task, [], source), make_reply(task, rng)))
    rng.shuffle(work)
    reply_mb = sum(len(r) for _, r in work) / 1e6
    print(f"{len(work)} synthetic replies ({counts}), {reply_mb:.0f} MB of reply text", file=sys.stderr)

    # The real task objects: their parse(), filters() (duplicate tracker included) and to_record().
    task_objs = {name: get_task(name) for name in tasks}
    filters = {
        name: [(n, f) for n, f in t.filters() if n not in opts.disabled_filters]
        for name, t in task_objs.items()
    }

    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = time.process_time(), time.perf_counter()
        parsed = []
        parse_failures = 0
        for job, reply in work:
            try:
                parsed.append((job, task_objs[job.task].parse(reply, job)))
            except ParseError:
                parse_failures += 1
        t1 = time.perf_counter()
        kept = []
        drops: Counter[str] = Counter()
        for job, pairs in parsed:
            rejected = first_rejection(pairs, job, filters[job.task])
            if rejected is None:
                kept.append((job, pairs))
            else:
                drops[rejected[0]] += 1
        t2 = time.perf_counter()
        records = [task_objs[job.task].to_record(pairs, job, opts) for job, pairs in kept]
        t3 = time.perf_counter()
        out = Path(tmp) / "llava_instruct.json"
        written = write_llava_json(out, records)
        t4 = time.perf_counter()
        ours, ours_cpu = t4 - t0, time.process_time() - c0

        # (b) the simple alternative for the export step alone: json.dump of the same records.
        dc0, d0 = time.process_time(), time.perf_counter()
        with open(Path(tmp) / "plain.json", "w", encoding="utf-8") as f:
            json.dump(records, f, ensure_ascii=False)
        dump_s, dump_cpu = time.perf_counter() - d0, time.process_time() - dc0
        size_mb = out.stat().st_size / 1e6
        with open(out, encoding="utf-8") as f:
            assert len(json.load(f)) == written

        # (c) `datagen export llava RUN_DIR` from disk: read results.jsonl, check every record
        # against LLaVA's loader rules, write the array; next to json.load of the array + json.dump.
        run = Path(tmp) / "run"
        prov = {"model": "m", "template_hash": "t", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
        write_jsonl_atomic(run / "results.jsonl", ({**r, "task": "x", **prov} for r in records))
        e0 = time.perf_counter()
        exported = export_llava([run], Path(tmp) / "exported.json").total
        export_cli_s = time.perf_counter() - e0
        s0 = time.perf_counter()
        with open(out, encoding="utf-8") as f:
            loaded = json.load(f)
        with open(Path(tmp) / "plain2.json", "w", encoding="utf-8") as f:
            json.dump(loaded, f, ensure_ascii=False)
        simple_s = time.perf_counter() - s0
        assert exported == written

    print(
        f"parse            {t1 - t0:7.2f} s  ({len(work) / (t1 - t0):,.0f} replies/s, {parse_failures} parse failures)"
    )
    print(f"filter (6)       {t2 - t1:7.2f} s  (dropped: {dict(drops)})")
    print(f"record assembly  {t3 - t2:7.2f} s")
    print(f"export (ours)    {t4 - t3:7.2f} s  ({written} records, {size_mb:.0f} MB)")
    print(f"pipeline total   {ours:7.2f} s  ({ours_cpu:.2f} s CPU; target < 15 s)")
    print(f"json.dump alone  {dump_s:7.2f} s  ({dump_cpu:.2f} s CPU; same records)")
    print(f"export llava RUN {export_cli_s:7.2f} s  (read + validate + write {exported} records)")
    print(f"json.load+dump   {simple_s:7.2f} s  (same records, no validation)")
    print(f"machine load (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(
        f"ratio pipeline / json.dump = {ours / dump_s:.2f}x; our export / json.dump = {(t4 - t3) / dump_s:.2f}x; "
        f"export llava RUN / (json.load + json.dump) = {export_cli_s / simple_s:.2f}x"
    )


if __name__ == "__main__":
    main()
