"""One writer per run directory: an OS file lock held for as long as a command writes into it.

Two `generate` processes on one `--out` paid every request twice and left duplicate sample ids.
`run_lock(RUN_DIR)` takes an exclusive `flock` on `RUN_DIR/.datagen.lock` and writes its pid there;
a second process gets one `Error:` line naming that pid. The kernel drops the lock when the
holder's process ends, however it ends, so a kill -9 never leaves a stale lock behind (the file
itself stays; it is only ever locked, never trusted). Re-entrant within one process, so the engine
entry points can each take it and `generate` can hold it around all of them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from datagen.errors import BusyError

LOCK_NAME = ".datagen.lock"
_held: dict[str, list[int]] = {}  # realpath of the run dir -> [fd, depth]


@contextlib.contextmanager
def run_lock(run_dir: str | Path) -> Iterator[None]:
    """Hold the run directory's lock for the `with` block (creating the folder if needed)."""
    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(d)
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    fd = _acquire(d)
    _held[key] = [fd, 1]
    try:
        yield
    finally:
        del _held[key]
        os.close(fd)  # closing the last descriptor releases the flock


def _acquire(d: Path) -> int:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        return os.open(os.devnull, os.O_RDONLY)
    fd = os.open(d / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise BusyError(
            f"{d} is in use by another datagen process (pid {holder})",
            hint="wait for it to finish or stop it; shards of one dataset each need their own --out",
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
