"""The one JSON codec for big files and hot loops: orjson when installed, the standard library if not.

COCO annotation files (hundreds of MB), every JSONL line datagen reads or appends, and every
request body the client sends go through `loads` / `dumps`. orjson parses a COCO instances file
in about a third of `json.load`'s time and encodes a record several times faster. What comes out
is what `json` would give:

- `loads` accepts bytes or str. Input orjson refuses (NaN/Infinity literals, lone surrogates) is
  handed to `json.loads`, which decides, so errors keep the standard library's message, line and
  column (`json.JSONDecodeError`). orjson reads integers beyond 64 bits as floats, so a document
  with a run of 19 or more digits anywhere is parsed by `json` too.
- `dumps` returns compact UTF-8 text (`ensure_ascii=False`, no spaces after separators);
  `dumps_bytes` the same as bytes, `indent=2` the pretty form. Values orjson will not encode
  (NaN, objects json can encode only through `default=`) fall back to `json.dumps` with the same
  options, so a value is never silently changed.

`BACKEND` says which one is in use ("orjson" or "json"); `DATAGEN_PURE_JSON=1` forces the fallback
(the tests run both).
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

_orjson: Any
try:
    if os.environ.get("DATAGEN_PURE_JSON"):
        raise ImportError
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None

BACKEND = "orjson" if _orjson is not None else "json"
_LONG_DIGITS_STR = re.compile(r"[0-9]{19}")
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_RUN = b"0" * 19
_COMPACT = {"ensure_ascii": False, "separators": (",", ":")}


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse one JSON document."""
    if isinstance(data, memoryview):
        data = bytes(data)
    if _orjson is not None and not _long_digits(data):
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # the standard library decides (and words the error)
    if not isinstance(data, str):
        data = bytes(data).decode("utf-8")
    return json.loads(data)


def _long_digits(data: bytes | bytearray | str) -> bool:
    """Whether 19 digits stand in a row somewhere (a translate and a find run at memory speed, ten
    times a regex's pace on a COCO file)."""
    if isinstance(data, str):
        return _LONG_DIGITS_STR.search(data) is not None
    return data.translate(_DIGITS_AS_ZERO).find(_RUN) >= 0


def dumps_bytes(obj: Any, *, indent: int | None = None) -> bytes:
    """`obj` as UTF-8 JSON bytes: compact, or pretty with `indent=2`."""
    if _orjson is not None and indent in (None, 2):
        try:
            out = _orjson.dumps(obj, option=_orjson.OPT_INDENT_2 if indent else 0)
        except TypeError:
            pass
        else:
            if b"null" not in out or not _has_nonfinite(obj):  # orjson writes NaN as null
                return out
    return _std(obj, indent).encode("utf-8")


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """`obj` as JSON text: compact, or pretty with `indent=2`."""
    return dumps_bytes(obj, indent=indent).decode("utf-8")


def _std(obj: Any, indent: int | None) -> str:
    if indent:
        return json.dumps(obj, ensure_ascii=False, indent=indent)
    return json.dumps(obj, **_COMPACT)  # type: ignore[arg-type]


def _has_nonfinite(obj: Any) -> bool:
    """Whether a float NaN/inf hides in `obj` (only looked for when orjson wrote a null)."""
    stack = [obj]
    while stack:
        v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return False
