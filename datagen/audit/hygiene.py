"""Audit check: format hygiene, by the same rules generation enforces (shared code, not a copy).

- **format**: `records.llava_record_problems`, the rules LLaVA's loader relies on (`<image>` once,
  in the first human turn; strict human/gpt alternation; no empty or whitespace-only turn);
- **the sample task's own generation filters** from `tasks/llava/filters.py` (`leak`: captions,
  descriptions, boxes or coordinates given; `refusal`; `short_turn`; `non_alternating`;
  `repeated_question`), run on the record's question/answer pairs. A sample of a registered task
  gets exactly the filters of that task that are in LLaVA's set (grounded_qa quotes coordinates on
  purpose, so `leak` is not its rule); a sample of an unknown task (LLaVA-Instruct-158K has no task
  field) gets them all.

A problem is reported as `name: reason`; the figure per name is the share of samples with it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from datagen.records import IMAGE_TOKEN, llava_record_problems
from datagen.tasks.base import Job
from datagen.tasks.filters import Filter, first_rejection
from datagen.tasks.llava.filters import FILTERS
from datagen.tasks.registry import TASKS, get_task

FORMAT = "format"


@cache
def filters_for(task: str) -> list[tuple[str, Filter]]:
    if task not in TASKS:
        return list(FILTERS.items())
    own = {name for name, _ in get_task(task).filters()}
    return [(n, f) for n, f in FILTERS.items() if n in own]


def _pairs(record: dict[str, Any]) -> list[tuple[str, str]] | None:
    conv = record.get("conversations")
    if not isinstance(conv, list):
        return None
    pairs = []
    for i in range(0, len(conv) - 1, 2):
        q, a = conv[i], conv[i + 1]
        if not (isinstance(q, dict) and isinstance(a, dict)):
            return None
        qv, av = q.get("value"), a.get("value")
        if not (isinstance(qv, str) and isinstance(av, str)):
            return None
        pairs.append((qv.replace(IMAGE_TOKEN, "").strip(), av))
    return pairs


_NUMBERS = re.compile(r"\d+")


def problem_kind(problem: str) -> str:
    """`format: turn 3 has an empty value` → `format: turn N has an empty value` (for tallies)."""
    return _NUMBERS.sub("N", problem)


def hygiene_problems(record: Any, task: str, key: str) -> list[str]:
    """Every hygiene problem of one record, as `name: reason` strings."""
    found = [f"{FORMAT}: {p}" for p in llava_record_problems(record)]
    if not isinstance(record, dict):
        return found
    pairs = _pairs(record)
    if not pairs:
        return found
    job = Job(sample_id=key, task=task, messages=[], source={})
    remaining = filters_for(task)
    # first_rejection stops at the first filter that rejects; go on after it so every rule reports.
    while remaining:
        hit = first_rejection(pairs, job, remaining)
        if hit is None:
            break
        name, reason = hit
        found.append(f"{name}: {reason}")
        remaining = remaining[[n for n, _ in remaining].index(name) + 1 :]
    return found
