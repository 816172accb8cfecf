"""Step 1 of CC3M filtering: read captions from a CC3M TSV, a JSONL or a parquet file.

Every input line gets a row index (the 0-based line number for TSV/JSONL, the row number for
parquet): it is what `GCC_train_%09d` ids are made of, so skipped lines still use up their index.
Bad lines are never dropped silently: each is yielded with a skip reason and counted. A file that
is not a caption table at all (binary, JSON in a .tsv, nothing usable in its first lines) is a clear
`InputError` before any work is done.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from datagen.common.outputs import note_inputs
from datagen.errors import InputError

# A CC3M line is a caption of at most a few hundred characters plus a URL. A line longer than this is
# not a caption line (a pasted document, a binary blob); skipping it keeps spaCy's cost bounded.
MAX_LINE_BYTES = 65536
# If none of the first PROBE_LINES lines is usable, the file is not a caption table: fail early
# instead of grinding through gigabytes and producing nothing.
PROBE_LINES = 1000

_MAGIC = {
    b"\x1f\x8b": "a gzip file (decompress it first)",
    b"PK\x03\x04": "a zip archive (extract the TSV first)",
    b"PAR1": "a parquet file (give it a .parquet name)",
}


@dataclass(frozen=True)
class Item:
    """One input line: a usable caption (`skip is None`) or a counted skip with its reason."""

    row: int
    caption: str = ""
    url: str = ""
    skip: str | None = None


def input_format(path: Path) -> str:
    """`tsv`, `jsonl` or `parquet`, from the file name (anything unknown is read as TSV)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    return "tsv"


def check_input(path: Path) -> None:
    note_inputs(path)
    if not path.exists():
        raise InputError(f"{path}: no such file", hint="check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a CC3M TSV, JSONL or parquet file")


def iter_items(path: str | Path, *, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Item]:
    """Yield one `Item` per input row, in row order. Raises `InputError` for a file that is not a table."""
    p = Path(path)
    check_input(p)
    fmt = input_format(p)
    if fmt == "parquet":
        yield from _iter_parquet(p)
        return
    _sniff_text(p, fmt)
    parse = _parse_tsv if fmt == "tsv" else _parse_jsonl
    good = 0
    with open(p, "rb") as f:
        for row, raw in enumerate(_lines(f, max_line_bytes)):
            item = _decode(row, raw, parse)
            good += item.skip is None
            if good == 0 and row + 1 >= PROBE_LINES:
                _not_a_table(p, fmt, row + 1)
            yield item
    if good == 0:
        _not_a_table(p, fmt, None)


def _lines(f: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """Raw lines without their `\\n`; `None` for a line longer than `limit` (read past, never held whole)."""
    while True:
        raw = f.readline(limit + 1)
        if not raw:
            return
        if raw.endswith(b"\n"):
            yield raw[:-1]
            continue
        if len(raw) <= limit:  # last line of the file, without a newline
            yield raw
            return
        # Too long: consume the rest of this line in bounded pieces.
        while raw and not raw.endswith(b"\n"):
            raw = f.readline(1 << 20)
        yield None


def _decode(row: int, raw: bytes | None, parse) -> Item:  # type: ignore[no-untyped-def]
    if raw is None:
        return Item(row, skip="too_long")
    if row == 0 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM is an encoding mark, not text
        raw = raw[3:]
    if raw.endswith(b"\r"):  # CRLF line ends (a file saved on Windows)
        raw = raw[:-1]
    if not raw.strip():
        return Item(row, skip="blank_line")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Item(row, skip="non_utf8")
    return parse(row, text)


def _parse_tsv(row: int, text: str) -> Item:
    parts = text.split("\t")
    if len(parts) == 1:
        return Item(row, skip="no_tab")
    if len(parts) > 2:
        # A tab inside a caption cannot be told apart from a shifted column: skip, never guess.
        return Item(row, skip="extra_columns")
    caption, url = parts
    if row == 0 and caption.strip().lower() == "caption" and url.strip().lower() == "url":
        return Item(row, skip="header")
    if not caption.strip():
        return Item(row, skip="empty_caption")
    return Item(row, caption, url.strip())


def _parse_jsonl(row: int, text: str) -> Item:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return Item(row, skip="bad_json")
    if not isinstance(obj, dict):
        return Item(row, skip="bad_json")
    caption, url = obj.get("caption"), obj.get("url", "")
    if not isinstance(caption, str) or not caption.strip():
        return Item(row, skip="empty_caption")
    # A null url is "no url" (as in parquet), not the string "None".
    return Item(row, caption, "" if url is None else url if isinstance(url, str) else str(url))


def _iter_parquet(p: Path) -> Iterator[Item]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(p)
    except Exception as e:  # pyarrow raises several types for "not parquet"
        raise InputError(f"{p}: not a readable parquet file ({e})") from None
    names = pf.schema_arrow.names
    if "caption" not in names:
        raise InputError(f"{p}: parquet file has no 'caption' column (columns: {', '.join(names)})")
    import pyarrow as pa

    ctype = pf.schema_arrow.field("caption").type
    if not (pa.types.is_string(ctype) or pa.types.is_large_string(ctype)):
        # Every row would be skipped as "empty" and an empty pool written with exit 0.
        raise InputError(
            f"{p}: parquet column 'caption' holds {ctype}, not text", hint="write the captions as strings"
        )
    cols = ["caption", "url"] if "url" in names else ["caption"]
    row = 0
    for batch in pf.iter_batches(batch_size=65536, columns=cols):
        yield from _parquet_items(batch.to_pydict(), row, batch.num_rows)
        row += batch.num_rows


def _parquet_items(data: dict, row: int, n: int) -> Iterator[Item]:
    urls = data.get("url") or [""] * n
    for caption, url in zip(data["caption"], urls, strict=True):
        if not isinstance(caption, str) or not caption.strip():
            yield Item(row, skip="empty_caption")
        else:
            yield Item(row, caption, url or "")
        row += 1


def _sniff_text(p: Path, fmt: str) -> None:
    with open(p, "rb") as f:
        head = f.read(65536)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(f"{p}: not a caption table, this is {what}")
    if b"\x00" in head:
        raise InputError(f"{p}: not a text file (NUL bytes)", hint="expected a CC3M TSV: caption<TAB>url")
    if fmt == "tsv" and head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith((b"{", b"[")):
        raise InputError(
            f"{p}: looks like JSON, not a CC3M TSV",
            hint='name it .jsonl with one {"caption": ..., "url": ...} object per line',
        )


def _not_a_table(p: Path, fmt: str, lines: int | None) -> None:
    where = f"none of its first {lines} lines" if lines else "no line"
    if fmt == "tsv":
        raise InputError(
            f"{p}: not a CC3M TSV, {where} is a 'caption<TAB>url' row",
            hint="CC3M's Train_GCC-training.tsv has no header and two tab-separated columns",
        )
    raise InputError(f"{p}: {where} is a JSON object with a non-empty 'caption'")


def probe_input(path: str | Path) -> None:
    """Fail now, before any extraction, if the file is not a caption table (reads at most PROBE_LINES lines)."""
    for item in iter_items(path):
        if item.skip is None:
            return


def iter_selected(
    path: str | Path, wanted: list[bool], *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[Item]:
    """Items of the rows with `wanted[row]` true, parsing only those lines (the output step's fast re-read)."""
    p = Path(path)
    fmt = input_format(p)
    if fmt == "parquet":
        yield from (it for it in iter_items(p) if it.row < len(wanted) and wanted[it.row])
        return
    parse = _parse_tsv if fmt == "tsv" else _parse_jsonl
    n = len(wanted)
    with open(p, "rb") as f:
        for row, raw in enumerate(_lines(f, max_line_bytes)):
            if row >= n:
                return
            if wanted[row]:
                yield _decode(row, raw, parse)


def row_offsets(path: str | Path, every: int) -> list[int]:
    """Byte offset of rows 0, every, 2*every, ... of a TSV/JSONL file (one read, newlines only), so
    a worker can seek straight to its chunk (`iter_range`)."""
    offsets, seen, pos = [0], 0, 0
    nxt = every
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            n = block.count(b"\n")
            if seen + n >= nxt:
                at = -1
                for _ in range(n):
                    at = block.index(b"\n", at + 1)
                    seen += 1
                    if seen == nxt:
                        offsets.append(pos + at + 1)
                        nxt += every
            else:
                seen += n
            pos += len(block)
    return offsets


def iter_range(
    path: str | Path, start: int, count: int, offset: int = 0, *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[Item]:
    """The `Item`s of rows [start, start+count), exactly as `iter_items` yields them; for TSV/JSONL
    `offset` is the byte offset of row `start` (from `row_offsets`)."""
    p = Path(path)
    fmt = input_format(p)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(p)
        cols = ["caption", "url"] if "url" in pf.schema_arrow.names else ["caption"]
        first = 0
        for g in range(pf.metadata.num_row_groups):
            rows = pf.metadata.row_group(g).num_rows
            lo, hi = max(start, first), min(start + count, first + rows)
            if lo < hi:
                table = pf.read_row_group(g, columns=cols).slice(lo - first, hi - lo)
                yield from _parquet_items(table.to_pydict(), lo, hi - lo)
            first += rows
        return
    parse = _parse_tsv if fmt == "tsv" else _parse_jsonl
    with open(p, "rb") as f:
        f.seek(offset)
        for i, raw in enumerate(_lines(f, max_line_bytes)):
            if i >= count:
                return
            yield _decode(start + i, raw, parse)
