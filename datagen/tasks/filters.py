"""The one filter loop: live replies, Batch API replies and model-free samples all pass through
`first_rejection`, so a sample is judged the same way whichever path produced it.

A task lists its filters as `(name, function)` pairs; a function returns None to accept the sample
or a short reason to reject it. The name is what `--no-filter NAME` disables, what run.json counts
drops under and what failures.jsonl records with `stage: filter`. The first rejection wins.
A task's `optional_filters` are off unless `--filter NAME` turns them on (`chosen_filters`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datagen.tasks.base import Job, QAPairs, Task, TaskOptions

Filter = Callable[["QAPairs", "Job"], "str | None"]


def enabled(filters: Iterable[tuple[str, Filter]], disabled: Iterable[str] = ()) -> list[tuple[str, Filter]]:
    """`filters` without the ones named in `disabled` (`--no-filter NAME`), order kept."""
    off = set(disabled)
    return [(n, f) for n, f in filters if n not in off]


def chosen_filters(task: Task, opts: TaskOptions) -> list[tuple[str, Filter]]:
    """The filters `task` runs under `opts`: its optional ones only if `--filter NAME` turned them
    on, none that `--no-filter NAME` turned off."""
    off = set(opts.disabled_filters) | (set(task.optional_filters) - set(opts.enabled_filters))
    return enabled(task.filters(), off)


def first_rejection(
    pairs: QAPairs, job: Job, filters: Iterable[tuple[str, Filter]]
) -> tuple[str, str] | None:
    """Run filters in order; `(name, reason)` of the first that rejects, or None if all accept."""
    for name, fn in filters:
        reason = fn(pairs, job)
        if reason is not None:
            return name, reason
    return None
