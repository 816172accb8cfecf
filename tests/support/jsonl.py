"""Reading and writing JSONL in tests, independently of datagen's own readers and writers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[Any]:
    """Every line of `path` parsed as JSON (a blank or torn line is an error, not skipped)."""
    return [json.loads(line) for line in path.read_text().splitlines()]


def read_jsonl_if_exists(path: Path) -> list[Any]:
    """`read_jsonl(path)`, or [] when the file was never written."""
    return read_jsonl(path) if path.exists() else []


def write_jsonl(path: Path, rows: list[Any], *, ensure_ascii: bool = True) -> Path:
    """One `json.dumps(row)` per line, UTF-8; `ensure_ascii=False` writes non-ASCII text as is."""
    path.write_text("".join(json.dumps(r, ensure_ascii=ensure_ascii) + "\n" for r in rows), encoding="utf-8")
    return path
