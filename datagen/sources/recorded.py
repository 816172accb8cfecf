"""The source a run recorded in its `run.json`, turned back into a `SourceSpec`.

`datagen generate` stores the source options it read (`config.source`: `--coco`/`--split`,
`--captions`/`--instances`, `--input`, `--captions-file`, `--detections`, ...) with `record_source`:
paths as absolute strings, flags and numbers as JSON booleans and numbers (run directories written
before that hold every value as a string, `"skip_crowd": "False"`; both are read back). `review`
and `judge` rebuild a run's contexts from them, exactly as `generate` built them, when the user
gives no source. A relative path was relative to wherever `generate` ran: it is tried from the
current folder, then from the run directory and its parent and grandparent (`--out runs/r1` run
from the project folder).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from datagen.sources.load import SourceSpec


def record_source(spec: SourceSpec) -> dict[str, Any]:
    """The source as run.json records it: the options given, paths absolute (so `review` and resumed
    runs find them from any folder), booleans and numbers as themselves."""
    return {
        k: str(v.absolute()) if isinstance(v, Path) else v
        for k, v in dataclasses.asdict(spec).items()
        if v is not None
    }


def _convert(value: Any, kind: str, base_dirs: list[Path]) -> Any:
    """A recorded value back to the SourceSpec field's type (`kind` is its annotation text)."""
    if isinstance(value, (bool, int, float)) and not kind.startswith(("Path", "str")):
        return value  # recorded typed
    value = str(value)
    if kind.startswith("bool"):
        return value.strip().lower() in ("true", "1", "yes")
    if kind.startswith("float"):
        return float(value)
    if kind.startswith("int"):
        return int(value)
    if not kind.startswith("Path"):
        return value
    p = Path(value)
    if p.is_absolute() or p.exists():
        return p
    for base in base_dirs:
        if (base / p).exists():
            return base / p
    return p


def spec_from_meta(meta: dict[str, Any], run_dir: Path) -> SourceSpec | None:
    """The SourceSpec `generate` ran with, or None when run.json does not record one."""
    config = meta.get("config")
    source = config.get("source") if isinstance(config, dict) else None
    if not isinstance(source, dict) or not source:
        return None
    kinds = {f.name: str(f.type) for f in dataclasses.fields(SourceSpec)}
    bases = [run_dir, *list(run_dir.resolve().parents)[:2]]
    kwargs: dict[str, Any] = {}
    for key, value in source.items():
        if key in kinds and isinstance(value, (str, bool, int, float)) and value not in ("", "None"):
            try:
                kwargs[key] = _convert(value, kinds[key], bases)
            except ValueError:
                return None  # not what generate writes: do not guess
    return SourceSpec(**kwargs) if kwargs else None


def describe(spec: SourceSpec) -> str:
    if spec.coco is not None:
        return f"--coco {spec.coco} --split {spec.split}"
    parts = [f"--{k.replace('_', '-')} {v}" for k, v in dataclasses.asdict(spec).items()
             if k in ("captions", "instances", "input", "captions_file", "detections") and v is not None]  # fmt: skip
    return " ".join(parts)
