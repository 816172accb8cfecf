"""Whether a finished `generate` run succeeded: a run in which every sample failed is an error,
one in which most failed says so loudly, and `--max-failure-rate R` makes more than R an error.

Counted over the run directory's samples for the tasks run: those done (now or before) against
those that failed this time (requests, parses, filters, and inputs refused before any call).
Everything finished is already saved when this raises; the error says where the reasons are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from datagen.engine.progress import RunStats
from datagen.errors import RunFailedError, UsageError

MOST = 0.5  # above this share of failures the summary warns


def check_max_failure_rate(rate: float | None) -> None:
    if rate is not None and not 0.0 <= rate <= 1.0:
        raise UsageError(f"--max-failure-rate must be from 0 to 1, got {rate}", hint="e.g. 0.2 for 20%")


def judge_run(
    stats: Iterable[RunStats], out: Path, max_rate: float | None, note: Callable[[str], None]
) -> None:
    """Raise `RunFailedError` when the run failed by the rules above; warn through `note` when most
    samples failed but that is allowed."""
    done = failed = 0
    why: Counter[str] = Counter()
    for s in stats:
        done += s.skipped + s.ok
        failed += sum(s.failed.values()) + sum(s.precall.values())
        why.update({k: v for k, v in s.failed.items() if k != "filter"})
        why.update({f"filter {k}": v for k, v in (s.filtered + s.precall).items()})
    total = done + failed
    if not failed:
        return
    reasons = ", ".join(f"{k} {v}" for k, v in why.most_common(4))
    where = out / "failures.jsonl"
    share = failed / total
    if done == 0:
        raise RunFailedError(
            f"every sample failed: 0 of {total} succeeded ({reasons})",
            hint=f"the reasons are in {where}; fix the cause and re-run the same command",
        )
    line = f"{failed} of {total} samples failed ({share:.0%}: {reasons}); the reasons are in {where}"
    if max_rate is not None and share > max_rate:
        raise RunFailedError(f"{line}, more than --max-failure-rate {max_rate:g}")
    if share > MOST:
        note(f"WARNING: most samples failed: {line}")
