"""`--fail-on "chair_s>0.2,near_dup>0.05"`: thresholds on the headline figures, for CI pipelines.

Each condition is `NAME OP NUMBER` with OP one of > >= < <=; the audit fails (exit code 1) when any
condition holds. A figure that could not be measured (e.g. chair_s with no checkable sample) fails
its condition too: a gate that cannot be checked must not pass silently.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from datagen.errors import UsageError

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}  # fmt: skip
_COND = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_fail_on(text: str | None, known: list[str]) -> list[tuple[str, str, float]]:
    if not text:
        return []
    out = []
    for part in text.split(","):
        if not part.strip():
            continue
        m = _COND.match(part)
        if not m:
            raise UsageError(
                f"--fail-on: cannot read '{part.strip()}'", hint="write NAME>NUMBER, e.g. chair_s>0.2"
            )
        name, op, value = m.group(1), m.group(2), float(m.group(3))
        if name not in known:
            raise UsageError(f"--fail-on: unknown figure '{name}'", hint=f"choose from: {', '.join(known)}")
        out.append((name, op, value))
    return out


def violations(conditions: list[tuple[str, str, float]], headline: dict[str, Any]) -> list[str]:
    found = []
    for name, op, value in conditions:
        actual = headline.get(name)
        if actual is None:
            found.append(f"{name} could not be measured (needed for {name}{op}{value:g})")
        elif _OPS[op](float(actual), value):
            found.append(f"{name} = {actual:g} ({name}{op}{value:g})")
    return found
