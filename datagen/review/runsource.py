"""Review: rebuild a run's contexts from the source its `run.json` records.

`datagen generate` stores the source options it read (`config.source`: `--coco`/`--split`,
`--captions`/`--instances`, `--input`, `--captions-file`, `--detections`, ...) as strings. When a
card has no context from the files the user passed, the same options are turned back into a
`SourceSpec` (`sources.recorded.spec_from_meta`, shared with `datagen judge`) and the contexts
rebuilt exactly as `generate` built them, so `datagen review RUN_DIR --images ROOT` needs no other flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datagen.errors import DatagenError
from datagen.sources.load import load_contexts
from datagen.sources.recorded import describe, spec_from_meta

__all__ = ["describe", "load_run_contexts", "spec_from_meta"]


def load_run_contexts(meta: dict[str, Any], run_dir: Path) -> tuple[list[dict[str, Any]], str]:
    """(records, what was read) — or ([], why not) when the recorded source cannot be read now."""
    spec = spec_from_meta(meta, run_dir)
    if spec is None:
        return [], ""
    what = describe(spec)
    try:
        records, _ = load_contexts(spec)
    except DatagenError as e:
        return [], f"run.json's source ({what}) could not be read: {e}"
    return records, f"captions and boxes rebuilt from run.json's source ({what})"
