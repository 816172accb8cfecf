"""Small, careful readers and writers for the JSON / JSONL files every step exchanges.

Readers turn decode problems into `InputError`s that name the file and line. Writers never leave a
half-written file where a good one was: whole files go through a temp file + rename, and JSONL
appends are flushed line by line so a crash loses at most the line being written.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from datagen.errors import InputError


def _open_text(path: Path) -> IO[str]:
    if not path.exists():
        raise InputError(f"{path}: no such file", hint="check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")
    # utf-8-sig accepts a BOM at the start; errors are reported by the callers with the position.
    return open(path, encoding="utf-8-sig")


def read_json(path: str | Path) -> Any:
    """Load a whole JSON document, with a one-line error naming the file and position on failure."""
    p = Path(path)
    try:
        with _open_text(p) as f:
            return json.load(f)
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 text (byte {e.start})", hint="re-save the file as UTF-8") from None
    except json.JSONDecodeError as e:
        raise InputError(
            f"{p}: not valid JSON at line {e.lineno} column {e.colno}: {e.msg}",
            hint="is the file truncated or not JSON?",
        ) from None


def iter_jsonl(path: str | Path, *, tolerate_torn_tail: bool = False) -> Iterator[tuple[int, dict]]:
    """Yield `(line_number, object)` for each non-blank line (1-based line numbers).

    With `tolerate_torn_tail`, a last line that is not valid JSON and has no trailing newline (what a
    crash mid-write leaves behind) is ignored instead of raising.
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file", hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a folder, expected a JSONL file") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    torn_tail_possible = not data.endswith(b"\n")
    for i, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            if tolerate_torn_tail and torn_tail_possible and i == len(lines):
                return
            raise InputError(
                f"{p}:{i}: not a valid JSON line ({e})", hint="fix or remove that line"
            ) from None
        if not isinstance(obj, dict):
            raise InputError(f"{p}:{i}: expected a JSON object per line, got {type(obj).__name__}")
        yield i, obj


def _default_mode_fd(fd: int) -> None:
    """mkstemp creates files 0600; give ours the mode a plain open() would (0666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)


def default_mode_fd(fd: int) -> None:
    """Public name of `_default_mode_fd`, for other modules' atomic writers."""
    _default_mode_fd(fd)


def default_mode_dir(path: str | Path) -> None:
    """mkdtemp creates folders 0700; give a temp output folder the mode a plain mkdir() would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)


def write_json_atomic(path: str | Path, obj: Any, *, indent: int | None = 2) -> None:
    """Write JSON to `path` via a temp file in the same folder and an atomic rename."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    _default_mode_fd(fd)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=indent)
            f.write("\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as JSONL via temp file + rename; returns the number of rows written."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    _default_mode_fd(fd)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False))
                f.write("\n")
                n += 1
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


class JsonlAppender:
    """Append-only JSONL writer that flushes each line, for results/failures files that must survive kill -9.

    A torn last line (no trailing newline: a crash mid-write) is cut off before appending, so the
    file stays one valid JSON object per line. Only that incomplete line is lost.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            _truncate_torn_tail(self.path)
        self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held open for the run

    def write(self, row: dict) -> None:
        self._f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _truncate_torn_tail(path: Path) -> None:
    """Cut the file back to just after its last newline (drops a half-written final line)."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        # Scan backwards in blocks for the last newline.
        pos = size
        block = 65536
        while pos > 0:
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            idx = chunk.rfind(b"\n")
            if idx >= 0:
                f.truncate(start + idx + 1)
                return
            pos = start
        f.truncate(0)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of acyclic objects.

    Parsing a 450 MB instances file creates ~20M dicts/lists/floats; with the collector on, CPython
    re-walks the growing heap over and over and the parse takes ~3x longer. Nothing we build holds
    reference cycles, so pausing it frees no less memory.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
