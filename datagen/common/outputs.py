"""Where a whole-file (or whole-folder) output may land: never on an input, never on a special file.

Every output that is built at a temp path and renamed into place (`atomic.atomic_writer`,
`atomic.atomic_folder`) asks `output_target` first:

- `-`, a FIFO, a device (`/dev/stdout`, `/dev/null`) or a socket is refused with one line: a
  rename would replace the special file itself (as root, `/dev/stdout` became a regular file).
- A symlink is written through: its target gets the new content and the link stays a link.
- An output that is one of this process's inputs (the same file by device and inode, so a second
  name, a hard link or `./x` versus `x` are caught too) is refused, and so is a folder output that
  would swallow an input. Readers of user inputs call `note_inputs` (sources, run samples, cc3m
  captions); the check is the one place every command's outputs pass through.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from datagen.errors import UsageError

_inputs: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) -> the path as the user gave it
_input_paths: dict[str, str] = {}  # realpath -> the path as given (folder outputs check containment)


def note_inputs(*paths: str | Path | None) -> None:
    """Remember files (or folders) this process reads as inputs, so no output replaces them."""
    for raw in paths:
        if raw is None:
            continue
        try:
            st = os.stat(raw)
        except OSError:
            continue  # a missing input is reported by its reader
        _inputs[(st.st_dev, st.st_ino)] = str(raw)
        _input_paths[os.path.realpath(raw)] = str(raw)


def forget_inputs() -> None:
    """Clear the inputs noted so far (a long-lived process running several commands, e.g. tests)."""
    _inputs.clear()
    _input_paths.clear()


def _still(path: str, st: os.stat_result) -> bool:
    """Whether the input noted as `path` is still that file (an inode is reused once a file is gone)."""
    try:
        now = os.stat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)


def _kind(mode: int) -> str | None:
    """What a non-regular, non-folder file is, or None for a plain file or folder."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def output_target(path: str | Path, *, folder: bool = False) -> Path:
    """The path an output really writes (a symlink's target), after refusing special files and inputs."""
    given = str(path)
    if given == "-":
        raise UsageError(
            "writing to stdout ('-') is not supported: outputs are written whole and renamed into place",
            hint="give a file path, then read or cat that file",
        )
    p = Path(path)
    try:
        st = os.stat(p)  # follows symlinks: what the name stands for
    except OSError:
        st = None
    if st is not None:
        kind = _kind(st.st_mode)
        if kind is not None:
            raise UsageError(
                f"{given} is {kind}, not a regular file; an output is written to a temp file and "
                "renamed into place, which would replace it",
                hint="give a regular file path",
            )
        same = _inputs.get((st.st_dev, st.st_ino))
        if same is not None and _still(same, st):
            raise UsageError(
                f"--out {given} is the input {same} (the same file)", hint="choose another --out"
            )
    target = Path(os.path.realpath(p)) if p.is_symlink() else p
    if folder:
        real = os.path.realpath(target)
        for inp, as_given in _input_paths.items():
            inside = inp == real or inp.startswith(real.rstrip(os.sep) + os.sep)
            if inside and os.path.exists(inp):
                raise UsageError(
                    f"--out {given} would replace a folder holding the input {as_given}",
                    hint="choose another --out",
                )
    return target
