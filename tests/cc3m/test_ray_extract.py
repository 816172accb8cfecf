"""`cc3m filter --executor ray` on a real local Ray: 2 spaCy actors write exactly the cache (and the
outputs) one local process writes, from TSV, JSONL and parquet, and resume redoes only missing chunks."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from support.ray_local import start_cluster

from datagen.cc3m.pipeline import FilterOptions, open_cache, run_filter
from datagen.cc3m.reader import iter_items, iter_range, row_offsets
from datagen.common.ray_cluster import ExecutorSpec

RAY = ExecutorSpec("ray", workers=2)
ROWS = 2400


@pytest.fixture(scope="module")
def gcs():
    yield from start_cluster()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, cc3m_tsv) -> dict[str, Path]:
    """The first rows of the real sample, with lines every reader must skip, as TSV, JSONL, parquet."""
    d = tmp_path_factory.mktemp("cc3m_inputs")
    lines = cc3m_tsv.read_bytes().splitlines()[:ROWS]
    lines[5], lines[700], lines[1333] = b"", b"only one column", b"a\tb\tc"  # blank, no_tab, extra_columns
    tsv = d / "sample.tsv"
    tsv.write_bytes(b"\n".join(lines) + b"\n")
    rows = []
    for raw in lines:
        parts = raw.decode().split("\t")
        rows.append({"caption": parts[0] if len(parts) == 2 else "", "url": parts[-1]})
    jsonl = d / "sample.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parquet = d / "sample.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=700)
    return {"tsv": tsv, "jsonl": jsonl, "parquet": parquet}


def _chunks(opts: FilterOptions) -> dict[str, tuple[pa.Table, dict]]:
    cache = open_cache(opts)
    out = {}
    for path in sorted(cache.dir.glob("*/chunk_*.arrow")):
        with ipc.open_file(path) as r:
            t = r.read_all()
        out[path.name] = (t.replace_schema_metadata(None), t.schema.metadata)
    return out


def test_reading_a_range_gives_the_same_items_as_reading_the_file(inputs):
    for path in inputs.values():
        whole = list(iter_items(path))
        offsets = row_offsets(path, 500) if path.suffix != ".parquet" else [0] * 10
        for k in range(0, 5):
            start = k * 500
            assert list(iter_range(path, start, 500, offsets[k])) == whole[start : start + 500]


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "parquet"])
def test_ray_cache_and_outputs_equal_the_local_ones(gcs, inputs, tmp_path, fmt):
    local = FilterOptions(input=inputs[fmt], out=tmp_path / "local", chunk_size=500, quiet=True)
    on_ray = FilterOptions(input=inputs[fmt], out=tmp_path / "ray", chunk_size=500, quiet=True, executor=RAY)
    s_local, s_ray = run_filter(local), run_filter(on_ray)
    assert s_ray["extraction"]["chunks_extracted"] == 5
    assert _chunks(on_ray) == _chunks(local)
    for name in ("chat.json", "metadata.json"):
        assert (on_ray.out / name).read_bytes() == (local.out / name).read_bytes()
    assert s_ray["skipped_by_reason"] == s_local["skipped_by_reason"]
    if fmt == "tsv":
        assert s_ray["skipped_by_reason"] == {"blank_line": 1, "extra_columns": 1, "no_tab": 1}

    # resume: a lost chunk is the only one extracted again
    victim = next(open_cache(on_ray).dir.glob("all/chunk_000003.arrow"))
    victim.unlink()
    again = run_filter(on_ray)
    assert again["extraction"]["chunks_extracted"] == 1 and again["extraction"]["chunks_reused"] == 4
    assert _chunks(on_ray) == _chunks(local)
