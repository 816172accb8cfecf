"""From the options a user gives `datagen generate` to what the engine runs: which tasks, how many
rows, which mode, and one `TaskOptions` with each task family's typed options.

A task family's flags are matched to its options dataclass by field name (`--min-words` fills
`RewriteOptions.min_words`), so no command names a task: a flag that none of the chosen tasks
understands is a one-line usage error naming the tasks it applies to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from datagen.errors import UsageError
from datagen.prompts.instructions import load_instructions
from datagen.tasks.base import TaskOptions
from datagen.tasks.registry import LLAVA_TASKS, TASKS, canonical_task_name, expand_task_names, get_task

IMAGE_TOKEN_CHOICES = ("first", "last", "random")
MODES = ("live", "batch", "dry-run")


def select_tasks(task: str, tasks: str | None = None) -> list[str]:
    """`llava` (optionally narrowed by `--tasks a,b`) or one task name → canonical task names."""
    if task != "llava":
        if tasks:
            raise UsageError("--tasks only goes with `generate llava`", hint=f"got task '{task}'")
        return expand_task_names(task)
    if not tasks:
        return list(LLAVA_TASKS)
    chosen: list[str] = []
    for part in (p.strip() for p in tasks.split(",")):
        if not part:
            continue
        name = canonical_task_name(part)
        if name not in LLAVA_TASKS:
            raise UsageError(
                f"--tasks: '{part}' is not a LLaVA task", hint=f"choose from {', '.join(LLAVA_TASKS)}"
            )
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise UsageError("--tasks is empty", hint=f"e.g. --tasks {','.join(LLAVA_TASKS)}")
    return chosen


def run_mode(*, dry_run: bool, batch: bool) -> str:
    """`--dry-run` / `--batch` / neither → "dry-run" | "batch" | "live"."""
    if dry_run and batch:
        raise UsageError("--dry-run and --batch exclude each other", hint="pick one")
    return "dry-run" if dry_run else "batch" if batch else "live"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def family_options(task_names: list[str], flags: Mapping[str, Any]) -> list[Any]:
    """Each chosen task family's options object from the flags given (None = not given)."""
    given = {k: v for k, v in flags.items() if v is not None}
    built: dict[type, Any] = {}
    used: set[str] = set()
    for name in task_names:
        kind = get_task(name).options_type
        if kind is None or kind in built:
            continue
        fields = {f.name for f in dataclasses.fields(kind)}
        used |= fields & set(given)
        built[kind] = kind(**{k: _plain(v) for k, v in given.items() if k in fields})
    unused = [k for k in given if k not in used]
    if unused:
        owners = sorted(
            {
                n
                for n, cls in TASKS.items()
                if cls.options_type is not None
                and set(unused) & {f.name for f in dataclasses.fields(cls.options_type)}
            }
        )
        raise UsageError(
            f"{', '.join(_flag(k) for k in unused)} "
            f"{'applies' if len(unused) == 1 else 'apply'} only to {', '.join(owners) or 'no task'}",
            hint=f"the chosen task(s): {', '.join(task_names)}",
        )
    return list(built.values())


def task_options(
    task_names: list[str] | None = None,
    *,
    templates_dir: str | Path | None = None,
    seed: int = 0,
    image_token: str = "random",
    no_filter: Iterable[str] = (),
    filter_on: Iterable[str] = (),
    instructions: str | Path | None = None,
    flags: Mapping[str, Any] | None = None,
    structured: bool = False,
) -> TaskOptions:
    """Validated TaskOptions (bad values are one-line usage/input errors before any request).

    `--no-filter` / `--filter` names are checked against the filters of `task_names` (default: the LLaVA tasks);
    `flags` are the task families' options by field name (see `family_options`); `structured`
    (`--structured`) needs every chosen LLM task to have a reply schema."""
    names = list(task_names or LLAVA_TASKS)
    if structured:
        plain = [t for t in names if get_task(t).uses_llm and get_task(t).reply_format is None]
        if plain:
            raise UsageError(
                f"--structured: {', '.join(plain)} has no JSON reply schema", hint="drop --structured"
            )
    if image_token not in IMAGE_TOKEN_CHOICES:
        raise UsageError(f"--image-token {image_token!r} is not one of {', '.join(IMAGE_TOKEN_CHOICES)}")
    if instructions is not None:
        load_instructions(instructions)  # fail now, before any request, if the list is unusable
    known = {name for t in names for name, _ in get_task(t).filters()}
    disabled, turned_on = set(no_filter), set(filter_on)
    for flag, names_given in (("--no-filter", disabled), ("--filter", turned_on)):
        for name in sorted(names_given - known):
            raise UsageError(
                f"{flag}: unknown filter '{name}'", hint=f"choose from: {', '.join(sorted(known))}"
            )
    for name in sorted(disabled & turned_on):
        raise UsageError(f"--filter {name} and --no-filter {name} contradict each other", hint="give one")
    return TaskOptions(
        templates_dir=str(templates_dir) if templates_dir is not None else None,
        seed=seed,
        image_token=image_token,
        disabled_filters=disabled,
        enabled_filters=turned_on,
        instructions=str(instructions) if instructions is not None else None,
        structured=structured,
        task_options=family_options(names, flags or {}),
    )


# The Python API's name for the LLaVA tasks' options (docs and user code call it).
llava_options = task_options


def run_meta(opts: TaskOptions, limit: int | None) -> dict[str, Any]:
    """The task options worth recording in run.json's config."""
    meta: dict[str, Any] = {
        "limit_per_task": limit,
        "image_token": opts.image_token,
        "task_seed": opts.seed,
        "disabled_filters": sorted(opts.disabled_filters),
        "enabled_filters": sorted(opts.enabled_filters),
        "instructions": opts.instructions,
        "structured": opts.structured,
    }
    for o in opts.task_options:
        meta[getattr(o, "META_KEY", type(o).__name__)] = dataclasses.asdict(o)
    return meta
