"""The shared JSON/JSONL readers and writers: clear errors, torn-tail tolerance, atomic writes."""

from __future__ import annotations

import json

import pytest

from datagen.common.jsonio import JsonlAppender, iter_jsonl, read_json, write_json_atomic
from datagen.errors import InputError


def test_read_json_truncated_names_file_and_position(tmp_path):
    p = tmp_path / "captions.json"
    p.write_text('{"images": [1, 2', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_json(p)
    assert "captions.json" in str(e.value) and "line 1" in str(e.value)


def test_read_json_non_utf8(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(b'{"a": "\xff\xfe"}')
    with pytest.raises(InputError, match="not UTF-8"):
        read_json(p)


def test_read_json_accepts_bom(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json(p) == {"a": 1}


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_json(tmp_path / "nope.json")
    with pytest.raises(InputError, match="no such file"):
        list(iter_jsonl(tmp_path / "nope.jsonl"))


def test_iter_jsonl_bad_line_names_line(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"a": 1}\n\n{"a": \n{"a": 3}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"rows.jsonl:3"):
        list(iter_jsonl(p))


def test_torn_tail_tolerated_and_repaired(tmp_path):
    p = tmp_path / "results.jsonl"
    p.write_text('{"k": 1}\n{"k": 2}\n{"k": 3, "te', encoding="utf-8")
    assert [o["k"] for _, o in iter_jsonl(p, tolerate_torn_tail=True)] == [1, 2]
    with pytest.raises(InputError):
        list(iter_jsonl(p))
    with JsonlAppender(p) as w:
        w.write({"k": 4})
    assert [o["k"] for _, o in iter_jsonl(p)] == [1, 2, 4]


def test_write_json_atomic_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "out.json"
    write_json_atomic(p, {"ok": True})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(p, {"bad": Boom()})
    assert json.loads(p.read_text()) == {"ok": True}
    assert [x.name for x in tmp_path.iterdir()] == ["out.json"]


def test_atomic_writes_get_normal_file_mode(tmp_path):
    import os

    from datagen.common.jsonio import write_jsonl_atomic

    umask = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "a.json", {"x": 1})
        write_jsonl_atomic(tmp_path / "b.jsonl", [{"x": 1}])
    finally:
        os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.jsonl").stat().st_mode & 0o777 == 0o644
