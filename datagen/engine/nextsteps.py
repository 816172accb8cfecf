"""What the end of a run says besides the figures: where the results are, what to run next, why the
cost shows `$?`, and the most common failure reasons with the file that lists them all.

Step in the flow: after `run_generate`, the command asks `next_steps(...)` for these lines and
prints them under the summary table (stderr; nothing with `--quiet`). The failure reasons are read
back from `failures.jsonl` (the run's record, so they include what earlier invocations left).
"""

from __future__ import annotations

import collections
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datagen.engine.progress import RunStats
from datagen.rundir.store import RunStore

TOP_REASONS = 3

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+(\.\d+)?")


def reason_kind(failure: dict[str, Any]) -> str:
    """The group a failure is counted in: `filter NAME` for a filter, else its stage and reason
    with quoted text and numbers blanked, so "got 3 pairs" and "got 5 pairs" are one reason."""
    stage = str(failure.get("stage") or "?")
    if failure.get("filter"):
        return f"{stage} {failure['filter']}"
    reason = str(failure.get("reason") or "").strip().splitlines()[0] if failure.get("reason") else ""
    shaped = _NUMBER.sub("N", _QUOTED.sub("'…'", reason))
    return f"{stage}: {shaped[:90]}" if shaped else stage


def top_reasons(failures: Iterable[dict[str, Any]], n: int = TOP_REASONS) -> list[tuple[str, int, str]]:
    """(kind, count, one example reason) of the `n` most common kinds of failure."""
    counts: collections.Counter[str] = collections.Counter()
    example: dict[str, str] = {}
    for f in failures:
        kind = reason_kind(f)
        counts[kind] += 1
        example.setdefault(kind, str(f.get("reason") or "").strip().replace("\n", " ")[:120])
    return [(k, c, example[k]) for k, c in counts.most_common(n)]


def _q(path: Path | str) -> str:
    return shlex.quote(str(path))


def next_steps(
    run_dir: str | Path,
    stats: list[RunStats],
    *,
    images: str | Path | None = None,
    model: str | None = None,
) -> list[str]:
    """The lines under a finished run's summary table (see the module docstring)."""
    store = RunStore(run_dir)
    out = store.dir
    done = sum(s.skipped + s.ok for s in stats)
    lines = [f"results: {done:,} samples in {store.results_path}"]
    failures = store.load_failures()
    if failures:
        lines.append(f"failures: {len(failures):,} in {store.failures_path}; most common:")
        for kind, count, example in top_reasons(failures):
            lines.append(
                f"  {count:,} x {kind}" + (f" (e.g. {example})" if example and example != kind else "")
            )
    sent = [s for s in stats if s.requests]
    if any(s.cost() is None for s in sent):
        who = f"model {model!r}" if model else "this model"
        lines.append(
            f"cost shows $?: {who} is not in the price table; pass --price-in and --price-out "
            "(USD per 1M prompt/completion tokens) to see what the run costs"
        )
    if done:
        root = _q(images) if images is not None else "IMAGE_ROOT"
        lines += [
            "next:",
            f"  datagen stats {_q(out)}",
            f"  datagen review {_q(out)} --images {root} -o {_q(out / 'review.html')}",
            f"  datagen export llava {_q(out)} -o {_q(out.with_name(out.name + '.llava.json'))}",
        ]
    elif failures:
        lines.append(f"nothing succeeded: read the reasons in {store.failures_path}, fix, and re-run")
    return lines
