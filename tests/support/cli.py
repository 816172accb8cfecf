"""Running `datagen ARGS` from a test, and checking what it says.

- `run_cli(args, capsys)`: in-process through `datagen.cli.main` (its `Error:` funnel and exit code),
  output read from pytest's `capsys`; returns (exit code, stdout, stderr).
- `run_datagen(*args)`: the same in-process run, output captured by redirecting stdout/stderr
  (no fixture needed); returns a `subprocess.CompletedProcess`.
- `run_process(*args, env=, cwd=, timeout=)`: `python -m datagen ARGS` in a child interpreter, as a
  user runs it. (For a child that also knows the `echo_qa` test task, see `support.engine_helpers`.)
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from datagen.cli import main


def run_cli(args: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `datagen ARGS` in-process; returns (exit code, stdout, stderr). `main` always exits."""
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def run_datagen(*args: object) -> subprocess.CompletedProcess[str]:
    """Run `datagen ARGS` in-process (the real CLI code path, minus interpreter start-up)."""
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def run_process(
    *args: object,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m datagen ARGS` in a child process (text output captured; env defaults to ours)."""
    cmd = [sys.executable, "-m", "datagen", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    """A non-zero exit with exactly one stderr line `Error: ...` (no traceback) naming every needle."""
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
