"""One run directory, one source: what `generate` checks before writing into an existing run.

A run directory's samples are read together later (`stats`, `review`, `export`), and `review`
rebuilds their contexts from the source run.json records. So writing samples made from another
source into it is refused unless `--append` says it is meant; a different task from the same
source is fine and said in a note. Every command that wrote is kept in run.json's `history`
(engine/meta.py), which is also where the sources already accepted here are read from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from datagen.errors import UsageError
from datagen.rundir.store import RunStore

# The options that say which images and annotations a source is (the rest only tune how it is read).
SOURCE_KEYS = ("coco", "split", "captions", "instances", "input", "captions_file", "detections")


def source_identity(source: Any) -> tuple[tuple[str, str], ...]:
    """The identifying options of a recorded source, comparable across runs."""
    if not isinstance(source, dict):
        return ()
    return tuple(
        (k, str(source[k]))
        for k in SOURCE_KEYS
        if source.get(k) is not None and source.get(k) not in ("", "None")
    )


def describe_identity(identity: tuple[tuple[str, str], ...]) -> str:
    if not identity:
        return "no image source (the task's own input)"
    return " ".join(f"--{k.replace('_', '-')} {v}" for k, v in identity)


def _recorded(meta: dict[str, Any]) -> tuple[list[tuple[tuple[str, str], ...]], set[str]]:
    """The sources and tasks earlier commands wrote into the run (history, else the config)."""
    entries: list[dict[str, Any]] = [h for h in meta.get("history", []) if isinstance(h, dict)]
    config = meta.get("config")
    if isinstance(config, dict):
        entries.append(config)
    sources = [source_identity(e.get("source")) for e in entries]
    tasks = {str(t) for e in entries for t in (e.get("tasks") or [])}
    return sources, tasks


def check_same_source(
    store: RunStore,
    source: dict[str, Any],
    task_names: Iterable[str],
    *,
    append: bool = False,
    note: Callable[[str], None] = lambda _: None,
) -> None:
    """Refuse (a usage error, before any work) to add samples from another source to `store`'s
    run unless `append`; note a task the run did not hold yet."""
    meta = store.read_meta()
    if not meta or not (store.results_path.exists() or store.failures_path.exists()):
        return  # a new run directory, or one that never got a sample
    sources, tasks = _recorded(meta)
    new = source_identity(source)
    if sources and new not in sources:
        old = describe_identity(sources[-1])
        if not append:
            raise UsageError(
                f"{store.dir} holds samples made from {old}; this command reads {describe_identity(new)}",
                hint="pass --append to add them to this run anyway (run.json's history records both), "
                "or choose another --out",
            )
        note(f"note: --append: adding samples from {describe_identity(new)} to {store.dir} (made from {old})")
    added = [t for t in task_names if t not in tasks]
    if tasks and added:
        note(
            f"note: {store.dir} holds {', '.join(sorted(tasks))}; adding {', '.join(added)} "
            "(run.json's history records each command)"
        )
