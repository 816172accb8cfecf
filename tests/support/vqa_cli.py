"""Test helper: run `datagen ARGS` in-process (the real CLI code path, minus interpreter start-up)."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from datagen.cli import main


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def run_datagen(*args: str | Path) -> Done:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    return Done(code, out.getvalue(), err.getvalue())
