"""CC3M filtering end to end on the real 10,000-line CC3M sample (spaCy runs once per session)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from support.cli import run_process
from support.jsonl import write_jsonl

from datagen.cc3m.output import load_instructions
from datagen.cc3m.pipeline import FilterOptions, open_cache, run_filter
from datagen.cc3m.select import select_pool, select_pool_reference
from datagen.records import llava_record_problems


@pytest.fixture(scope="session")
def full_run(tmp_path_factory, cc3m_tsv):
    """The whole 10K sample filtered with default settings (extraction cached in 1,000-row chunks)."""
    out = tmp_path_factory.mktemp("cc3m_full")
    opts = FilterOptions(input=cc3m_tsv, out=out, chunk_size=1000, quiet=True)
    stats = run_filter(opts)
    return opts, stats, open_cache(opts)


@pytest.fixture(scope="session")
def full_sets(full_run) -> dict[int, list[str]]:
    loaded = full_run[2].load()
    return dict(zip(loaded.rows.tolist(), loaded.phrases.to_pylist(), strict=True))


def _head(cc3m_tsv: Path, n: int, dest: Path) -> Path:
    dest.write_bytes(b"".join(cc3m_tsv.read_bytes().splitlines(keepends=True)[:n]))
    return dest


def _select(sets: dict[int, list[str]], **kw) -> list[int]:
    rows = sorted(sets)
    return select_pool(
        np.array(rows), pa.array([sets[r] for r in rows], pa.list_(pa.string())), **kw
    ).pool.tolist()


def test_outputs_on_real_sample(full_run, cc3m_tsv):
    opts, stats, _ = full_run
    lines = cc3m_tsv.read_text(encoding="utf-8").splitlines()
    chat = json.loads((opts.out / "chat.json").read_text(encoding="utf-8"))
    meta = json.loads((opts.out / "metadata.json").read_text(encoding="utf-8"))
    written = json.loads((opts.out / "stats.json").read_text(encoding="utf-8"))
    assert written["pool_size"] == stats["pool_size"] == len(chat) == len(meta)
    assert stats["rows_read"] == 10_000 and stats["captions"] + stats["skipped"] == 10_000
    assert 0 < len(chat) < 10_000 and stats["unique_phrases"] > stats["unique_phrases_kept"] > 0
    assert sum(stats["phrase_frequency_histogram_before"].values()) == stats["unique_phrases"]
    assert sum(stats["phrase_frequency_histogram_after"].values()) == stats["pool_unique_phrases"]
    instructions = set(load_instructions(None))
    assert len(instructions) >= 10
    used = set()
    ids = [rec["id"] for rec in chat]
    assert ids == sorted(ids)
    for rec, m in zip(chat, meta, strict=True):
        assert llava_record_problems(rec) == []
        row = int(rec["id"].removeprefix("GCC_train_"))
        assert rec["id"] == f"GCC_train_{row:09d}" and rec["image"] == rec["id"] + ".jpg"
        caption, url = lines[row].split("\t")
        human, gpt = rec["conversations"]
        assert human["value"].endswith("\n<image>") and human["value"][: -len("\n<image>")] in instructions
        used.add(human["value"])
        assert gpt["value"] == caption
        assert m == {"id": rec["id"], "image": rec["image"], "caption": caption, "url": url}
    assert len(used) == len(instructions)  # every phrasing gets used over a few thousand records


def test_fast_selection_equals_literal_recipe_on_real_sample(full_sets):
    for kw in (
        dict(seed=0),
        dict(seed=1),
        dict(seed=0, sample_from="remaining"),
        dict(seed=7, min_freq=2, max_per_phrase=10),
        dict(seed=3, min_freq=5, max_per_phrase=10, sample_from="remaining"),
    ):
        assert _select(full_sets, **kw) == select_pool_reference(full_sets, **kw), kw


def test_determinism_on_real_sample(full_run, full_sets):
    loaded = full_run[2].load()
    a = select_pool(loaded.rows, loaded.phrases, seed=0)
    assert a.sampled_phrases > 0  # some phrase is in > 100 captions, so the seed matters
    assert a.pool.tolist() == select_pool(loaded.rows, loaded.phrases, seed=0).pool.tolist()
    assert a.pool.tolist() != select_pool(loaded.rows, loaded.phrases, seed=1).pool.tolist()
    assert a.pool.tolist() == json.loads(
        json.dumps([int(r["id"][-9:]) for r in json.loads((full_run[0].out / "chat.json").read_text())])
    )


def test_rerun_with_other_thresholds_skips_extraction(full_run, tmp_path):
    opts, first, cache = full_run
    mtimes = {p: p.stat().st_mtime_ns for p in cache.dir.glob("*/chunk_*.arrow")}
    out = tmp_path / "other"
    stats = run_filter(
        FilterOptions(
            input=opts.input,
            out=out,
            chunk_size=1000,
            cache_dir=opts.out / ".cc3m-cache",
            min_freq=2,
            seed=5,
            quiet=True,
        )
    )
    assert stats["extraction"] == {"chunks": 10, "chunks_extracted": 0, "chunks_reused": 10}
    assert {p: p.stat().st_mtime_ns for p in cache.dir.glob("*/chunk_*.arrow")} == mtimes
    assert stats["pool_size"] > first["pool_size"]  # a lower min-freq keeps more phrases


def test_cli_small_run_with_plot_prefix_and_instructions(tmp_path, cc3m_tsv, full_sets):
    src = _head(cc3m_tsv, 300, tmp_path / "head.tsv")
    instr = tmp_path / "instr.txt"
    instr.write_text("Caption it.\nSay what it is.\n", encoding="utf-8")
    out = tmp_path / "out"
    r = run_process("cc3m", "filter", str(src), "--out", str(out), "--min-freq", "2", "--max-per-phrase", "5",
                    "--id-prefix", "cc3m_", "--instructions", str(instr), "--plot", "--seed", "3",
                    timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    # Not a terminal: no progress bar; the last progress line (a shorter run than --log-every's 30 s
    # prints no other), then the summary line.
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("noun phrases: 300/300 captions (100%) | ")
    assert "pool" in lines[1]
    chat = json.loads((out / "chat.json").read_text(encoding="utf-8"))
    assert (out / "phrase_frequencies.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {rec["conversations"][0]["value"] for rec in chat} == {
        "Caption it.\n<image>",
        "Say what it is.\n<image>",
    }
    assert all(rec["id"].startswith("cc3m_") and len(rec["id"]) == len("cc3m_") + 9 for rec in chat)
    # Same phrases as the session's full extraction: the pool is what selection on rows < 300 gives.
    head = {r: s for r, s in full_sets.items() if r < 300}
    assert [int(rec["id"][-9:]) for rec in chat] == _select(head, min_freq=2, max_per_phrase=5, seed=3)


def test_resume_after_killed_extraction(tmp_path, cc3m_tsv, full_sets):
    src = _head(cc3m_tsv, 3000, tmp_path / "head.tsv")
    out = tmp_path / "out"
    args = [
        sys.executable,
        "-m",
        "datagen",
        "cc3m",
        "filter",
        str(src),
        "--out",
        str(out),
        "--chunk-size",
        "100",
        "-q",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(out.glob(".cc3m-cache/*/all/chunk_*.arrow"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    survived = len(list(out.glob(".cc3m-cache/*/all/chunk_*.arrow")))
    assert 3 <= survived < 30, "the run must be killed mid-extraction for this test to mean anything"
    assert not (out / "chat.json").exists()

    stats = run_filter(FilterOptions(input=src, out=out, chunk_size=100, quiet=True))
    assert stats["extraction"]["chunks_reused"] == survived
    assert stats["extraction"]["chunks_extracted"] == 30 - survived
    assert not list(out.glob(".cc3m-cache/*/*/.chunk_*"))  # no temp files left behind
    cache = open_cache(FilterOptions(input=src, out=out, chunk_size=100))
    loaded = cache.load()
    head = {r: s for r, s in full_sets.items() if r < 3000}
    assert dict(zip(loaded.rows.tolist(), loaded.phrases.to_pylist(), strict=True)) == head
    chat = json.loads((out / "chat.json").read_text(encoding="utf-8"))
    assert [int(rec["id"][-9:]) for rec in chat] == _select(head)


def test_shard_caches_merge_to_the_unsharded_result(tmp_path, cc3m_tsv):
    src = _head(cc3m_tsv, 1200, tmp_path / "head.tsv")
    machines = []
    for k in (0, 1, 2):  # three "machines", each with its own output folder
        o = FilterOptions(input=src, out=tmp_path / f"m{k}", chunk_size=100, shard=(k, 3), quiet=True)
        result = run_filter(o)
        assert result["extraction"]["chunks_extracted"] == 4 and not (o.out / "chat.json").exists()
        machines.append(open_cache(o).dir)
    merged = tmp_path / "merged"
    key_dir = merged / ".cc3m-cache" / machines[0].name
    for d in machines:
        for part in d.iterdir():
            if part.is_dir():
                shutil.copytree(part, key_dir / part.name)
    stats = run_filter(FilterOptions(input=src, out=merged, chunk_size=100, select_only=True, quiet=True))
    assert stats["extraction"]["chunks_extracted"] == 0
    plain = tmp_path / "plain"
    run_filter(FilterOptions(input=src, out=plain, chunk_size=100, quiet=True))
    for name in ("chat.json", "metadata.json"):
        assert (merged / name).read_bytes() == (plain / name).read_bytes()


def test_bad_lines_through_the_whole_pipeline(tmp_path, cc3m_tsv, full_sets):
    good = cc3m_tsv.read_bytes().split(b"\n")[:40]
    bad = {
        3: b"no tab at all",
        7: good[7] + b"\tthird",
        11: b" \thttp://e/x.jpg",
        15: b"\xff\xfe bad\thttp://e/y.jpg",
        19: b"y" * 100_000,
    }
    lines = [bad.get(i, line) + b"\r" for i, line in enumerate(good)]
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    src = tmp_path / "bad.tsv"
    src.write_bytes(b"\n".join(lines) + b"\n")
    stats = run_filter(FilterOptions(input=src, out=tmp_path / "o", min_freq=1, quiet=True))
    assert stats["skipped_by_reason"] == {
        "extra_columns": 1,
        "empty_caption": 1,
        "no_tab": 1,
        "non_utf8": 1,
        "too_long": 1,
    }
    assert stats["rows_read"] == 40 and stats["captions"] == 35
    cache = open_cache(FilterOptions(input=src, out=tmp_path / "o"))
    loaded = cache.load()
    assert dict(zip(loaded.rows.tolist(), loaded.phrases.to_pylist(), strict=True)) == {
        r: full_sets[r] for r in range(40) if r not in bad
    }
    chat = json.loads((tmp_path / "o" / "chat.json").read_text(encoding="utf-8"))
    assert chat[0]["conversations"][1]["value"] == good[0].decode().split("\t")[0]  # no BOM, no \r


def test_parquet_and_jsonl_inputs_end_to_end(tmp_path, cc3m_tsv, full_sets):
    import pyarrow.parquet as pq

    pairs = [line.split("\t") for line in cc3m_tsv.read_text(encoding="utf-8").splitlines()[:120]]
    pq.write_table(
        pa.table({"caption": [c for c, _ in pairs], "url": [u for _, u in pairs]}), tmp_path / "in.parquet"
    )
    write_jsonl(tmp_path / "in.jsonl", [{"caption": c, "url": u} for c, u in pairs])
    expected = _select({r: s for r, s in full_sets.items() if r < 120}, min_freq=2)
    for name in ("in.parquet", "in.jsonl"):
        out = tmp_path / name.replace(".", "_")
        stats = run_filter(FilterOptions(input=tmp_path / name, out=out, min_freq=2, quiet=True))
        assert stats["rows_read"] == 120 and stats["skipped"] == 0
        meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
        assert [int(m["id"][-9:]) for m in meta] == expected
        assert all(m["url"] == pairs[int(m["id"][-9:])][1] for m in meta)


def test_empty_pool_and_out_is_a_file(full_run, tmp_path):
    opts = full_run[0]
    out = tmp_path / "none"
    stats = run_filter(
        FilterOptions(
            input=opts.input,
            out=out,
            chunk_size=1000,
            cache_dir=opts.out / ".cc3m-cache",
            min_freq=10**6,
            quiet=True,
        )
    )
    assert stats["pool_size"] == 0 and stats["unique_phrases_kept"] == 0
    assert (
        json.loads((out / "chat.json").read_text()) == []
        and json.loads((out / "metadata.json").read_text()) == []
    )
    afile = tmp_path / "file"
    afile.write_text("x")
    r = run_process("cc3m", "filter", str(opts.input), "--out", str(afile), timeout=300)
    assert r.returncode == 2 and "is a file" in r.stderr


def test_chat_json_exports_to_hf(full_run, tmp_path):
    chat = full_run[0].out / "chat.json"
    r = run_process("export", "hf", str(chat), "--out", str(tmp_path / "hf"), timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"Wrote {full_run[1]['pool_size']} samples" in r.stdout + r.stderr


def test_plot_without_matplotlib_fails_before_any_work(tmp_path, cc3m_tsv):
    """A machine without matplotlib: `--plot` is refused at once, nothing extracted or written."""
    shadow = tmp_path / "no_matplotlib" / "matplotlib"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('matplotlib is not installed here')\n")
    src = _head(cc3m_tsv, 50, tmp_path / "head.tsv")
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(shadow.parent), os.environ.get("PYTHONPATH", "")]),
    }
    r = run_process("cc3m", "filter", str(src), "-o", str(out), "--plot", env=env, timeout=120)
    assert r.returncode != 0 and r.stderr.startswith("Error: --plot needs matplotlib"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "drop --plot" in r.stderr
    assert not out.exists()


def test_rerun_without_plot_removes_the_old_plot(full_run, tmp_path):
    opts, _, _ = full_run
    out = tmp_path / "out"
    shared = {
        "input": opts.input,
        "out": out,
        "chunk_size": 1000,
        "quiet": True,
        "cache_dir": opts.out / ".cc3m-cache",
    }
    run_filter(FilterOptions(**shared, plot=True))
    assert (out / "phrase_frequencies.png").exists()
    run_filter(FilterOptions(**shared, min_freq=5))
    assert not (out / "phrase_frequencies.png").exists()  # it described the earlier selection


def test_extraction_progress_lines_off_a_terminal(capsys):
    from datagen.cc3m.progress import ExtractProgress

    with ExtractProgress(quiet=False, total=30, log_every=0.05) as advance:
        for _ in range(3):
            time.sleep(0.06)
            advance(10)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" captions")[0] for line in lines] == [
        "noun phrases: " + n for n in ("10/30", "20/30", "30/30", "30/30")
    ]
    assert lines[0].split(" | ")[0] == "noun phrases: 10/30 captions (33%)" and "ETA" in lines[0]
    with ExtractProgress(quiet=True, total=30, log_every=0.0) as advance:
        advance(30)
    assert capsys.readouterr().err == ""
