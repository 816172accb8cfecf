"""Small, careful readers and writers for the JSON / JSONL (and CSV) files every step exchanges.

Readers turn decode problems into `InputError`s that name the file and line. Writers never leave a
half-written file (or folder) where a good one was: whole files and folders are built at a temp
path beside the target and renamed into place, and JSONL appends are flushed line by line so a
crash loses at most the line being written.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from datagen.common import fastjson
from datagen.errors import InputError


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file", hint="check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")


def _open_text(path: Path) -> IO[str]:
    if not path.exists():
        raise InputError(f"{path}: no such file", hint="check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a file")
    # utf-8-sig accepts a BOM at the start; errors are reported by the callers with the position.
    return open(path, encoding="utf-8-sig")


def read_json(path: str | Path, *, shrink: Callable[[bytes], bytes] | None = None) -> Any:
    """Load a whole JSON document, with a one-line error naming the file and position on failure.

    `shrink` may cut parts the caller would drop anyway out of the raw bytes before parsing (e.g.
    COCO's segmentation polygons; the raw bytes are let go first, so they never sit beside the
    parse); if what it leaves does not parse, the whole file is read again and parsed, so errors
    always point into the real file."""
    p = Path(path)
    try:
        _check_file(p)
        if shrink is not None:
            try:
                return fastjson.loads(shrink(_read_bytes(p)))
            except (ValueError, UnicodeDecodeError):
                pass
        return fastjson.loads(_read_bytes(p))
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
            obj = fastjson.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            if tolerate_torn_tail and torn_tail_possible and i == len(lines):
                return
            raise InputError(
                f"{p}:{i}: not a valid JSON line ({e})", hint="fix or remove that line"
            ) from None
        if not isinstance(obj, dict):
            raise InputError(f"{p}:{i}: expected a JSON object per line, got {type(obj).__name__}")
        yield i, obj


def iter_csv_rows(
    path: str | Path, *, delimiter: str = ",", required: tuple[str, ...] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield `(line_number, row)` for each data row of a CSV/TSV file with a header row.

    Rows whose cells are all blank are skipped. `InputError`s name the file (and line): not UTF-8,
    not valid CSV, a header lacking a `required` column, or a row with more cells than the header,
    the usual sign of an unquoted delimiter inside a text, which would otherwise cut it short.
    """
    p = Path(path)
    last_line = 1  # the header; a csv.Error belongs to the row that starts on the next line
    try:
        with open(p, encoding="utf-8-sig", newline="") as f:
            # strict: a quote opened and never closed is an error; otherwise csv silently swallows
            # every following row into that one cell.
            reader = csv.DictReader(f, delimiter=delimiter, strict=True)
            missing = set(required) - set(reader.fieldnames or [])
            if missing:
                raise InputError(
                    f"{p}: CSV header lacks {', '.join(sorted(missing))}",
                    hint=f"columns: {','.join(required)}",
                )
            for row in reader:
                # DictReader puts a row's cells beyond the header under the key None.
                if None in row:
                    raise InputError(
                        f"{p}:{reader.line_num}: more cells than header columns",
                        hint="quote texts that contain the delimiter",
                    )
                last_line = reader.line_num
                if any((v or "").strip() for v in row.values()):
                    yield reader.line_num, row
    except FileNotFoundError:
        raise InputError(f"{p}: no such file", hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a folder, expected a CSV file") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 text (byte {e.start})", hint="re-save the file as UTF-8") from None
    except csv.Error as e:
        raise InputError(
            f"{p}:{last_line + 1}: not valid CSV ({e})",
            hint='a cell that starts with " must end with "; write a quote inside it as ""',
        ) from None


def plain_file_mode() -> int:
    """The mode a plain `open()` would give a new file (0o666 minus the umask). mkstemp's is 0o600,
    which would hide outputs and caches from the rest of a cluster group."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_writer(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a temp file beside `path` for writing; on success it replaces `path` in one rename.

    The one place every whole-file writer goes through: the target is either the old file or the
    complete new one, never half of each. On any error (or Ctrl-C) the temp file is removed and
    `path` is untouched. The new file gets the mode a plain `open()` would give it.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        os.fchmod(fd, plain_file_mode())
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Build a folder output at a temp path beside `target`; on success it replaces `target`.

    The folder counterpart of `atomic_writer`: on any error (or Ctrl-C) the temp folder is removed
    and `target` is left as it was, so an interrupted export never leaves half a dataset.
    """
    t = Path(target)
    t.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{t.name}.", dir=t.parent))
    try:
        # mkdtemp makes the folder 0700; the output must get the usual mode (0777 minus the umask),
        # or a training job running as another user cannot read it.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        yield tmp
        replace_dir(tmp, t)
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


def write_text_atomic(path: str | Path, text: str) -> int:
    """Write `text` (UTF-8) atomically; returns the number of bytes written."""
    data = text.encode("utf-8")
    with atomic_writer(path, binary=True) as f:
        f.write(data)
    return len(data)


def write_json_atomic(path: str | Path, obj: Any, *, indent: int | None = 2) -> None:
    """Write JSON to `path` via a temp file in the same folder and an atomic rename."""
    with atomic_writer(path, binary=True) as f:
        f.write(fastjson.dumps_bytes(obj, indent=indent))
        f.write(b"\n")


def write_jsonl_atomic(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as JSONL via temp file + rename; returns the number of rows written."""
    n = 0
    with atomic_writer(path, binary=True) as f:
        for row in rows:
            f.write(fastjson.dumps_bytes(row))
            f.write(b"\n")
            n += 1
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
        self._f = open(self.path, "ab")  # noqa: SIM115 - held open for the run

    def write(self, row: dict) -> None:
        self._f.write(fastjson.dumps_bytes(row) + b"\n")
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
