"""The JSON codec gives the standard library's answers with orjson and without it."""

from __future__ import annotations

import importlib
import json
import math

import pytest

import datagen.common.fastjson as fastjson_module


@pytest.fixture(params=["orjson", "json"])
def fastjson(request, monkeypatch):
    if request.param == "json":
        monkeypatch.setenv("DATAGEN_PURE_JSON", "1")
    else:
        monkeypatch.delenv("DATAGEN_PURE_JSON", raising=False)
    mod = importlib.reload(fastjson_module)
    assert request.param == mod.BACKEND
    yield mod
    monkeypatch.delenv("DATAGEN_PURE_JSON", raising=False)
    importlib.reload(fastjson_module)


VALUES = [
    {"a": [1, 2.5, "é ü 漢字 😀"], "b": None, "c": True, "nested": {"x": [[], {}]}},
    {"big": 2**70, "neg": -(2**65), "float": 1e-300},
    {1: "int key"},
    [float("nan"), float("inf")],
    'line\nbreak \\ and "quotes"',
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_round_trip_matches_json(fastjson, value):
    text = fastjson.dumps(value)
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    back, expected = fastjson.loads(text.encode()), json.loads(text)
    assert repr(back) == repr(expected)  # (repr: NaN != NaN)
    assert fastjson.dumps(value, indent=2) == json.dumps(value, ensure_ascii=False, indent=2)


def test_errors_are_the_standard_librarys(fastjson):
    with pytest.raises(json.JSONDecodeError) as e:
        fastjson.loads(b'{"a": 1,\n "b": }')
    assert (e.value.lineno, e.value.colno) == (2, 7)
    with pytest.raises(UnicodeDecodeError):
        fastjson.loads(b'{"a": "\xff"}')
    with pytest.raises(TypeError):
        fastjson.dumps({"a": object()})


def test_nonfinite_floats_are_not_turned_into_null(fastjson):
    assert fastjson.dumps({"x": [1.0, math.inf]}) == '{"x":[1.0,Infinity]}'
    assert fastjson.dumps({"x": None}) == '{"x":null}'
