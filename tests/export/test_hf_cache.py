"""Re-exports and `datasets`' cache: every output loads its own rows, never a previous export's.

`load_dataset(FOLDER)` caches a local folder by its card's `data_files` patterns and its name, so
`export hf` puts a content fingerprint in every data file name and in the patterns. Loads run in
a child process with a private `HF_DATASETS_CACHE` (`support.hf_load`), one load after another
against the same cache, as a user's successive `python -c` runs would.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
from pathlib import Path

import pyarrow.parquet as pq
from support.cli import run_cli
from support.export_fixtures import coco_run, llava_records
from support.hf_load import load_in_child
from support.trainer_fixtures import grounded_run

from datagen.export.convert import to_cauldron, to_llama_factory, to_trl
from datagen.export.hf import record_from_row

# Every layout of `export hf`: (name, options, how a user loads it).
LAYOUTS = [
    ("parquet", [], "load_dataset"),
    ("split", ["--hf-split", "pretrain"], "load_dataset"),
    ("by_task", ["--by-task"], "load_dataset"),
    ("arrow", ["--format", "arrow"], "load_dataset"),
    ("arrow_disk", ["--format", "arrow", "--by-task"], "load_from_disk"),
    ("embedded", ["--by-task", "--embed-images", "--max-shard-size", "100KB"], "load_dataset"),
    (
        "arrow_embedded",
        ["--format", "arrow", "--embed-images", "--max-shard-size", "100KB"],
        "load_from_disk",
    ),
]


def _export(run: Path, out: Path, opts: list[str], capsys, images: Path, *extra: str) -> str:
    """`datagen export hf`; returns the fingerprint it printed."""
    if "--embed-images" in opts:
        opts = [*opts, "--images", str(images)]
    code, stdout, err = run_cli(["export", "hf", str(run), "--out", str(out), *opts, *extra], capsys)
    assert code == 0, err
    return stdout.rsplit("(fingerprint ", 1)[1].split(")")[0]


def _expected(records: list[dict], opts: list[str]) -> dict[str, list[dict]]:
    if "--by-task" in opts:
        out: dict[str, list[dict]] = {}
        for r in records:
            out.setdefault(r["task"], []).append(r)
        return out
    return {"pretrain" if "pretrain" in opts else "train": records}


def _records(loaded: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {split: [record_from_row(r) for r in rows] for split, rows in loaded.items()}


def test_reexport_over_a_folder_loads_the_new_rows(tmp_path, coco_mini, capsys):
    """Export A, load it, export B over it with --overwrite, load again: B's rows, in every layout."""
    recs = llava_records(coco_mini)
    a, b = recs[:4], recs  # A: the first 4 samples, B: all 9
    run_a, run_b = coco_run(coco_mini, tmp_path / "runA", a), coco_run(coco_mini, tmp_path / "runB", b)
    images, cache = coco_mini / "val2017", tmp_path / "cache"
    outs = {name: tmp_path / "out" / name / "my_ds" for name, _, _ in LAYOUTS}
    fps = {name: _export(run_a, outs[name], opts, capsys, images) for name, opts, _ in LAYOUTS}
    first = load_in_child([(how, outs[name]) for name, _, how in LAYOUTS], cache)
    for (name, opts, _), loaded in zip(LAYOUTS, first, strict=True):
        assert _records(loaded) == _expected(a, opts), name
    for name, opts, _ in LAYOUTS:
        fp = _export(run_b, outs[name], opts, capsys, images, "--overwrite")
        assert fp != fps[name], name
        data = {p.name for p in outs[name].rglob("*") if p.suffix in (".parquet", ".arrow")}
        assert data and all(n.endswith(f"-{fp}{Path(n).suffix}") for n in data), name
    second = load_in_child([(how, outs[name]) for name, _, how in LAYOUTS], cache)
    for (name, opts, _), loaded in zip(LAYOUTS, second, strict=True):
        assert _records(loaded) == _expected(b, opts), name


def test_same_folder_name_different_runs_and_same_run_twice(tmp_path, coco_mini, capsys):
    """Folders called `hf` in three places: two different runs each load their own rows, and the
    run exported twice gets the same fingerprint and the same data files (its cache is reused)."""
    recs = llava_records(coco_mini)
    runs = {
        "x": coco_run(coco_mini, tmp_path / "runX", recs[:3]),
        "y": coco_run(coco_mini, tmp_path / "runY", recs[3:]),
        "z": coco_run(coco_mini, tmp_path / "runZ", recs[:3]),  # the same samples as x
    }
    images = coco_mini / "val2017"
    fps, files = {}, {}
    for fmt in ("parquet", "arrow"):
        for key, run in runs.items():
            out = tmp_path / fmt / key / "hf"
            fps[fmt, key] = _export(run, out, ["--format", fmt], capsys, images)
            files[fmt, key] = {
                p.relative_to(out).as_posix(): p.read_bytes()
                for p in out.rglob("*")
                if p.is_file() and p.name != "README.md"  # the card quotes the command (--out)
            }
        assert fps[fmt, "x"] != fps[fmt, "y"]
        assert fps[fmt, "x"] == fps[fmt, "z"] and files[fmt, "x"] == files[fmt, "z"]
    loads = [("load_dataset", tmp_path / fmt / key / "hf") for fmt in ("parquet", "arrow") for key in runs]
    loaded = load_in_child(loads, tmp_path / "cache")
    expected = {"x": recs[:3], "y": recs[3:], "z": recs[:3]}
    for (_, path), got in zip(loads, loaded, strict=True):
        assert _records(got) == {"train": expected[path.parent.name]}, path


def test_trainer_outputs_reload_after_overwrite(tmp_path, coco_mini, capsys):
    """`adapt trl|cauldron` (save_to_disk, read with load_from_disk) and `adapt llama-factory`
    (read with load_dataset("json")) are not cached by path: a rewrite loads the new rows, also
    after a `.map()` wrote a cache file into the old folder."""
    recs = llava_records(coco_mini)
    a, b = recs[:2], recs
    out = tmp_path / "out"
    loads = [("load_from_disk", out / "trl"), ("load_from_disk", out / "cauldron")]
    loads.append(("json", out / "lf" / "datagen.json"))
    results = []
    for name, rows in (("a", a), ("b", b)):
        run = coco_run(coco_mini, tmp_path / name, rows)
        for fmt in ("trl", "cauldron", "llama-factory"):
            target = out / ("lf" if fmt == "llama-factory" else fmt)
            code, _, err = run_cli(["adapt", fmt, str(run), "--out", str(target), "--overwrite"], capsys)
            assert code == 0, err
        results.append(load_in_child(loads, tmp_path / "cache"))
    for rows, (trl, cauldron, lf) in zip((a, b), results, strict=True):
        assert [r["messages"] for r in trl[""]] == [to_trl(r) for r in rows]
        assert [r["texts"] for r in cauldron[""]] == [to_cauldron(r, r["task"]) for r in rows]
        assert lf["train"] == [json.loads(json.dumps(to_llama_factory(r, r["image"]))) for r in rows]


# The trainer formats of wave 2 whose files a user reads with `datasets`, and how: each rewrite
# must load the new rows (these loaders key their cache on the files' paths and modification times).
WAVE2 = [
    ("ms-swift", "data.jsonl", "json"),
    ("internvl", "datagen.jsonl", "json"),
    ("openai", "train-00001-of-00001.jsonl", "json"),
    ("axolotl", "data.jsonl", "json"),
    ("torchtune", "data.json", "json"),
    ("rlvr", "train.parquet", "parquet"),
]


def _rows_in_file(path: Path) -> int:
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if path.suffix == ".json":
        return len(json.loads(path.read_text()))
    return sum(1 for line in path.read_text().splitlines() if line.strip())


def test_wave2_outputs_and_plain_parquet_reload_after_overwrite(tmp_path, coco_mini, capsys):
    """Export from a 2-image run, load, re-export a 4-image run over it with --overwrite, load again
    in the same cache: every loader returns as many rows as the second export wrote (and a different
    number from the first). `export hf` read as plain parquet (`data_dir=`, which ignores the card)
    is checked the same way."""
    images = coco_mini / "val2017"
    out = tmp_path / "out"
    loads = [(how, out / fmt / name) for fmt, name, how in WAVE2]
    loads.append(("parquet_dir", out / "hf"))
    written, loaded = [], []
    for limit in (2, 4):
        run = grounded_run(coco_mini, "val2017", tmp_path / f"g{limit}", "--limit", str(limit))
        for fmt, _, _ in WAVE2:
            args = ["export", fmt, str(run), "--out", str(out / fmt), "--images", str(images), "--overwrite"]
            code, _, err = run_cli(args, capsys)
            assert code == 0, err
        _export(run, out / "hf", [], capsys, images, "--overwrite")
        hf_rows = sum(_rows_in_file(p) for p in (out / "hf").rglob("*.parquet"))
        written.append([_rows_in_file(path) for _, path in loads[:-1]] + [hf_rows])
        loaded.append([len(got["train"]) for got in load_in_child(loads, tmp_path / "cache")])
    names = [fmt for fmt, _, _ in WAVE2] + ["hf as parquet"]
    first, second = written
    assert all(a != b for a, b in zip(first, second, strict=True)), list(
        zip(names, first, second, strict=True)
    )
    assert loaded == written, names
