"""Step 3 of CC3M filtering: the resumable noun-phrase cache.

Extraction is the slow step (about an hour for CC3M's 3.3M captions on one core), so its output is
kept in chunk files of `chunk_size` rows: chunk k holds rows [k*chunk_size, (k+1)*chunk_size). Each
chunk is written to a temp file and renamed, so a killed run leaves only whole chunks and the next
run extracts just the missing ones. Re-running with other thresholds or seeds finds every chunk and
skips extraction (and spaCy) entirely.

Layout: `<cache root>/<key>/<part>/chunk_000123.arrow`, where the key hashes the input file's
sha256, the spaCy model identity, the normalisation version and the chunk size, and `<part>` is
`all` or `shard-K-of-N`. Shards write disjoint chunks (k % N == K, K from 0) into their own part folder;
loading takes each chunk from whichever part has it, which is how shard caches are merged (copy the
shard folders side by side under one key folder, from other machines if need be).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from datagen.cc3m.nounphrases import NORMALISATION
from datagen.common.atomic import atomic_writer
from datagen.errors import InputError, UsageError

FORMAT_VERSION = 1
DEFAULT_CHUNK_SIZE = 10_000
_SCHEMA = pa.schema([("row", pa.int64()), ("phrases", pa.list_(pa.string()))])


def fingerprint(path: Path) -> tuple[str, int]:
    """`(sha256 hex, number of rows)` of the input, in one read (rows = lines; parquet: its row count)."""
    h = hashlib.sha256()
    newlines = 0
    last = b"\n"
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
            newlines += block.count(b"\n")
            last = block[-1:]
    if path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            return h.hexdigest(), pq.ParquetFile(path).metadata.num_rows
        except Exception as e:
            raise InputError(f"{path}: not a readable parquet file ({e})") from None
    return h.hexdigest(), newlines + (last != b"\n")


@dataclass
class Loaded:
    """Everything selection and stats need from a complete cache."""

    rows: np.ndarray  # int64 row index of each usable caption, ascending
    phrases: pa.ListArray  # its phrase set, aligned with `rows`
    skips: Counter = field(default_factory=Counter)  # reader skip reasons, summed over chunks
    lines: int = 0  # input rows seen (usable + skipped)


class PhraseCache:
    def __init__(self, root: Path, *, input_sha256: str, n_rows: int, model: str, chunk_size: int) -> None:
        if chunk_size < 1:
            raise UsageError("--chunk-size must be at least 1")
        self.identity = {
            "format": FORMAT_VERSION,
            "input_sha256": input_sha256,
            "model": model,
            "normalisation": NORMALISATION,
            "chunk_size": chunk_size,
        }
        blob = json.dumps(self.identity, sort_keys=True).encode()
        self.key = hashlib.sha256(blob).hexdigest()[:16]
        self.dir = Path(root) / self.key
        self.n_rows = n_rows
        self.chunk_size = chunk_size
        self.n_chunks = -(-n_rows // chunk_size)

    def chunks_for(self, shard: tuple[int, int] | None) -> list[int]:
        if shard is None:
            return list(range(self.n_chunks))
        k, n = shard
        return [c for c in range(self.n_chunks) if c % n == k]

    def done(self) -> dict[int, Path]:
        """Finished chunks across all parts (first part in name order wins a duplicate)."""
        found: dict[int, Path] = {}
        for p in sorted(self.dir.glob("*/chunk_*.arrow")):
            found.setdefault(int(p.stem.split("_")[1]), p)
        return found

    def missing(self, wanted: list[int]) -> list[int]:
        have = self.done()
        return [c for c in wanted if c not in have]

    def part_dir(self, shard: tuple[int, int] | None) -> Path:
        name = "all" if shard is None else f"shard-{shard[0]}-of-{shard[1]}"
        d = self.dir / name
        d.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "cache.json"
        if not meta.exists():
            meta.write_text(json.dumps({**self.identity, "n_rows": self.n_rows}, indent=2) + "\n")
        for stale in d.glob(".chunk_*.tmp"):  # left by a killed run of this same part
            stale.unlink(missing_ok=True)
        return d

    def write_chunk(
        self,
        part: Path,
        index: int,
        rows: list[int],
        phrase_sets: list[list[str]],
        skips: Counter,
        lines: int,
    ) -> None:
        columns = {"row": pa.array(rows, pa.int64()), "phrases": pa.array(phrase_sets, pa.list_(pa.string()))}
        self.write_table(part, index, pa.table(columns, schema=_SCHEMA), skips, lines)

    def write_table(self, part: Path, index: int, table: pa.Table, skips: Counter, lines: int) -> None:
        """Write one chunk (columns `row`, `phrases`) atomically: temp file in the same folder, then rename."""
        meta = {"chunk": str(index), "lines": str(lines), "skips": json.dumps(dict(sorted(skips.items())))}
        table = table.cast(_SCHEMA).replace_schema_metadata(meta)
        final = part / f"chunk_{index:06d}.arrow"
        with atomic_writer(final, binary=True) as f, ipc.new_file(f, table.schema) as writer:
            writer.write_table(table)

    def load(self) -> Loaded:
        """Merge every chunk (from any part) in row order. InputError if a chunk is missing or unreadable."""
        have = self.done()
        absent = [c for c in range(self.n_chunks) if c not in have]
        if absent:
            raise InputError(
                f"noun-phrase cache {self.dir} lacks {len(absent)} of {self.n_chunks} chunks (first: {absent[0]})",
                hint="run the remaining --shard K/N jobs, or run without --shard/--select-only to extract them",
            )
        tables: list[pa.Table] = []
        skips: Counter[str] = Counter()
        lines = 0
        for c in range(self.n_chunks):
            path = have[c]
            try:
                with ipc.open_file(path) as reader:
                    table = reader.read_all()
            except (pa.ArrowInvalid, OSError) as e:
                raise InputError(
                    f"{path}: unreadable cache chunk ({e})", hint="delete it and re-run"
                ) from None
            meta = table.schema.metadata or {}
            if meta.get(b"chunk") != str(c).encode():
                raise InputError(f"{path}: cache chunk has the wrong index", hint="delete it and re-run")
            skips.update(json.loads(meta[b"skips"]))
            lines += int(meta[b"lines"])
            tables.append(table.replace_schema_metadata(None))
        merged = pa.concat_tables(tables).combine_chunks() if tables else _SCHEMA.empty_table()
        rows = merged.column("row").to_numpy()
        phrases = (
            merged.column("phrases").combine_chunks()
            if merged.num_rows
            else pa.array([], _SCHEMA.field("phrases").type)
        )
        return Loaded(rows=rows, phrases=phrases, skips=skips, lines=lines)


def extraction_summary(path: str | Path, missing: set[int], rows: int, started: float) -> dict[str, Any]:
    """The extraction's figures once every chunk is written (local or on Ray); chunks still
    `missing` mean the input got shorter after it was fingerprinted."""
    if missing:
        raise InputError(f"{path}: changed while being read", hint="re-run")
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / max(seconds, 1e-9), 1),
    }
