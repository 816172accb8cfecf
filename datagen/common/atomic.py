"""Whole-file and whole-folder outputs that are either the old version or the complete new one.

Step in the flow: every writer of a JSON file, a review page, an export file or folder and the
run directory's rewrites (`run.json`, `failures.jsonl`) goes through `atomic_writer` or
`atomic_folder`: build at a temp path beside the target, fsync, rename, fsync the folder. Temps
are named `.NAME.datagen-partial-PID-XXXX` so a user sees what they are, and the next write of the
same target removes the ones a killed process (PID gone) left behind.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from datagen.common.faults import kill_point
from datagen.common.outputs import output_target


def plain_file_mode() -> int:
    """The mode a plain `open()` would give a new file (0o666 minus the umask). mkstemp's is 0o600,
    which would hide outputs and caches from the rest of a cluster group."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


TEMP_TAG = "datagen-partial"  # in every temp name: `.NAME.datagen-partial-PID-XXXX` (what it is, whose)


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.{TEMP_TAG}-{os.getpid()}-"


def clean_leftovers(target: Path) -> list[Path]:
    """Remove temp files/folders an earlier, killed writer of `target` left beside it (our own
    naming only, and only when that writer's process is gone); returns what was removed."""
    removed = []
    try:
        siblings = list(target.parent.glob(f".{glob.escape(target.name)}.*"))
    except OSError:
        return []
    for leftover in siblings:
        rest = leftover.name[len(target.name) + 2 :]
        tag = next((t for t in (TEMP_TAG, "old") if rest.startswith(t + "-")), None)
        pid = rest[len(tag) + 1 :].split("-", 1)[0] if tag else ""
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's live process
    return True


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a crash after it cannot bring the old name back)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a temp file beside `path` for writing; on success it replaces `path` in one rename.

    The one place every whole-file writer goes through: the target is either the old file or the
    complete new one, never half of each, even after kill -9 or a power cut (the data is fsynced
    before the rename, the folder after it). On any error (or Ctrl-C) the temp file is removed and
    `path` is untouched. The new file gets the mode a plain `open()` would give it. `path` is
    checked first (`common.outputs.output_target`): never an input, a FIFO or a device; a symlink
    is written through. Temps a killed writer left are cleaned up here.
    """
    staged: list[tuple[Path, Path]] = []
    with _staged(path, binary, staged) as f:
        yield f
    ((tmp, p),) = staged
    try:
        kill_point("atomic-write:before-rename")
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(p.parent)


@contextlib.contextmanager
def _staged(path: str | Path, binary: bool, staged: list[tuple[Path, Path]]) -> Iterator[IO[Any]]:
    """Write a complete, fsynced temp file beside `path`; on success add `(temp, target)` to
    `staged` (the caller renames it), on any error remove it."""
    p = output_target(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(p)
    fd, name = tempfile.mkstemp(prefix=_temp_prefix(p), dir=p.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, plain_file_mode())
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise with_path(e, p) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    staged.append((tmp, p))


class OutputSet:
    """Several files of one output, written together: each is built complete at a temp name
    (`file`), and only when all are, `commit` renames them in the order they were written. Put the
    file that describes the others (a manifest of their sizes) last: a kill between two renames
    leaves a manifest that does not match, which its readers check."""

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []

    def file(self, path: str | Path, *, binary: bool = False) -> contextlib.AbstractContextManager[IO[Any]]:
        return _staged(path, binary, self.staged)

    def commit(self) -> None:
        for i, (tmp, target) in enumerate(self.staged):
            if i:
                kill_point("output-set:between-renames")
            os.replace(tmp, target)
        for folder in {t.parent for _, t in self.staged}:
            fsync_dir(folder)
        self.staged = []

    def discard(self) -> None:
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged = []


def with_path(e: OSError, path: Path) -> OSError:
    """`e` naming `path` when the OS did not say which file (a full disk says "a file")."""
    if e.filename is not None:
        return e
    return type(e)(e.errno, e.strerror or str(e), str(path))


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Build a folder output at a temp path beside `target`; on success it replaces `target`.

    The folder counterpart of `atomic_writer`: on any error (or Ctrl-C) the temp folder is removed
    and `target` is left as it was, so an interrupted export never leaves half a dataset; one a
    kill -9 left behind is removed by the next write of the same target.
    """
    t = output_target(target, folder=True)
    t.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(t)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(t), dir=t.parent))
    try:
        # mkdtemp makes the folder 0700; the output must get the usual mode (0777 minus the umask),
        # or a training job running as another user cannot read it.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        yield tmp
        kill_point("atomic-folder:before-rename")
        replace_dir(tmp, t)
        fsync_dir(t.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_dir(new: Path, target: Path) -> None:
    """Move folder `new` to `target`. An old `target` is moved aside first, put back if the move
    fails, and removed only once the new one is in place."""
    if not target.exists():
        os.replace(new, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
