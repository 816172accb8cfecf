"""The judge's input rows: the samples to score (or the pairs to compare), each with its image's context.

Samples come from run dirs, results.jsonl files, LLaVA JSON arrays or HF dataset folders
(`rundir.samples.load_samples`). The captions and boxes each sample was made from are found, in
this order: `--contexts FILE.jsonl`, the source flags given to `judge` (`--coco/--split`,
`--captions/--instances`, `--input`), and for run dirs the `contexts.jsonl` kept beside the run or
the source its run.json recorded (rebuilt as `generate` built it). A sample is matched to its
context by `id`, then by image file name. Samples whose context is nowhere to be found are refused
before any call (filter `no_context`, in failures.jsonl): a judge without the context cannot check
accuracy.

Pairwise rows pair A's and B's samples by sample id (same task, same image), or, for records
without one, by image id and first question; what has no partner is counted in a note.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.common.jsonio import iter_jsonl
from datagen.errors import DatagenError
from datagen.records import IMAGE_TOKEN
from datagen.rundir.judged import content_digest, judged_key
from datagen.rundir.samples import is_run_dir, load_run_meta, load_samples
from datagen.sources.load import load_contexts
from datagen.sources.recorded import spec_from_meta
from datagen.tasks.judge.options import JudgeOptions

RUN_CONTEXTS = "contexts.jsonl"  # context records kept beside a run (as `datagen review` reads them)


class ContextIndex:
    """Context records by `id` and by image name; the first source to give one wins."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_image: dict[str, dict[str, Any]] = {}

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        for rec in records:
            self.by_id.setdefault(str(rec.get("id")), rec)
            if rec.get("image"):
                self.by_image.setdefault(str(rec["image"]), rec)

    def find(self, sample: dict[str, Any]) -> dict[str, Any] | None:
        return self.by_id.get(str(sample.get("id"))) or self.by_image.get(str(sample.get("image")))


def _run_dir(path: Path) -> Path | None:
    folder = path if path.is_dir() else path.parent
    return folder if is_run_dir(folder) else None


def contexts_for(
    samples: list[dict[str, Any]], inputs: list[str], o: JudgeOptions
) -> tuple[ContextIndex, list[str]]:
    """Every context the samples may need, and notes on sources that could not be read."""
    index, notes = ContextIndex(), []
    for f in o.contexts:
        index.add(rec for _, rec in iter_jsonl(Path(f)))
    if o.source:
        spec = spec_from_meta({"config": {"source": o.source}}, Path.cwd())
        if spec is not None:
            index.add(load_contexts(spec)[0])
    read: set[str] = set()
    for raw in inputs:
        if all(index.find(s) is not None for s in samples):
            break
        run = _run_dir(Path(raw))
        if run is None:
            continue
        if (run / RUN_CONTEXTS).is_file():
            index.add(rec for _, rec in iter_jsonl(run / RUN_CONTEXTS, tolerate_torn_tail=True))
        spec = spec_from_meta(load_run_meta(run), run)
        if spec is None or repr(spec) in read:
            continue
        read.add(repr(spec))
        try:
            index.add(load_contexts(spec)[0])
        except DatagenError as e:
            notes.append(f"judge: the source recorded in {run}/run.json could not be read ({e})")
    return index, notes


def _row(sample: dict[str, Any], index: ContextIndex) -> dict[str, Any]:
    return {
        "id": str(sample.get("id")),
        "image": sample.get("image"),
        "judged": judged_key(sample),
        "content": content_digest(sample),
        "judged_task": sample.get("task"),
        "conversations": sample["conversations"],
        "context": index.find(sample),
    }


def single_rows(o: JudgeOptions) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per sample of every input, in input order."""
    samples = [s for p in o.inputs for s in load_samples(p)]
    index, notes = contexts_for(samples, o.inputs, o)
    return [_row(s, index) for s in samples], notes


def pair_keys(sample: dict[str, Any]) -> list[str]:
    """Keys under which a sample of B answers the same thing as a sample of A: its sample id (same
    task, same image) if it has one, and its image id with its first question."""
    turns = sample.get("conversations") or [{}]
    question = str(turns[0].get("value", "")).replace(IMAGE_TOKEN, "").strip().lower()
    keys = [f"{sample.get('id')}|{' '.join(question.split())}"]
    sid = sample.get("sample_id")
    return [sid, *keys] if isinstance(sid, str) and sid else keys


def pair_rows(o: JudgeOptions) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per sample of A that B has a partner for; every other row swaps the positions."""
    a_path, b_path = o.pairwise
    a, b = load_samples(a_path), load_samples(b_path)
    index, notes = contexts_for([*a, *b], [a_path, b_path], o)
    b_by: dict[str, dict[str, Any]] = {}
    for s in b:
        for k in pair_keys(s):
            b_by.setdefault(k, s)
    rows: list[dict[str, Any]] = []
    taken: set[int] = set()  # B's samples already paired
    for s in a:
        key = next((k for k in pair_keys(s) if k in b_by and id(b_by[k]) not in taken), None)
        if key is None:
            continue
        other = b_by[key]
        taken.add(id(other))
        rows.append(
            {
                "id": str(s.get("id")),
                "image": s.get("image"),
                "pair": key,
                "judged_task": s.get("task"),
                "a": s,
                "b": other,
                "swapped": len(rows) % 2 == 1,  # position bias: B comes first on every other pair
                "context": index.find(s) or index.find(other),
            }
        )
    lone_a, lone_b = len(a) - len(rows), len(b) - len(rows)
    if lone_a or lone_b:
        notes.append(
            f"judge --pairwise: {len(rows)} pairs; {lone_a} sample(s) of A and {lone_b} of B have no partner "
            "(paired by sample id, or by image id and first question) and were left out"
        )
    return rows, notes
