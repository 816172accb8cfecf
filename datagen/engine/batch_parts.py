"""Batch API input files within the API's limits: one batch per part, each part its own file.

OpenAI takes at most 200 MB and 50,000 requests per batch input file; requests with images reach
the size limit long before the count. `write_parts` streams the request lines into
`requests.jsonl`, then `requests.002.jsonl`, `requests.003.jsonl`, ... (each written atomically),
starting a new part before a line would take the current one over either limit, and hands each
finished part to a callback, which uploads it and creates its batch before the next part is
written. A run of one part looks exactly as it always did (`requests.jsonl`).

Which requests a part holds is read back from its file (`part_keys`), so a run killed between
two parts resumes by sending only the requests that no created batch holds: nothing is paid twice.
`DATAGEN_BATCH_MAX_BYTES` / `DATAGEN_BATCH_MAX_REQUESTS` lower the limits (tests, other servers).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import IO, Any

from datagen.common.jsonio import atomic_writer
from datagen.rundir.store import REQUESTS

MAX_BYTES = 200 * 1024 * 1024
MAX_REQUESTS = 50_000
_CUSTOM_ID = re.compile(rb'^\{"custom_id": "([^"]*)"', re.M)


def limits() -> tuple[int, int]:
    """(bytes, requests) per batch input file: OpenAI's, or the environment's lower ones."""
    size = int(os.environ.get("DATAGEN_BATCH_MAX_BYTES") or MAX_BYTES)
    count = int(os.environ.get("DATAGEN_BATCH_MAX_REQUESTS") or MAX_REQUESTS)
    return max(1, size), max(1, count)


def part_name(n: int) -> str:
    """File name of part `n` (1-based): `requests.jsonl`, then `requests.002.jsonl`, ..."""
    return REQUESTS if n == 1 else f"requests.{n:03d}.jsonl"


def stale_parts(run_dir: Path) -> list[Path]:
    """Part files of an earlier split submission (`requests.NNN.jsonl`)."""
    return sorted(
        p for p in run_dir.glob("requests.*.jsonl") if re.fullmatch(r"requests\.\d{3,}\.jsonl", p.name)
    )


def part_keys(path: Path) -> set[str]:
    """The custom ids (request keys) of a part file, without decoding its (large) lines."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return set()
    return {m.decode() for m in _CUSTOM_ID.findall(data)}


async def write_parts(
    run_dir: Path,
    lines: Iterable[dict[str, Any]],
    first: int,
    on_part: Callable[[Path, int], Awaitable[None]],
    on_too_big: Callable[[dict[str, Any], int], None],
) -> int:
    """Stream `lines` into part files numbered from `first`; `on_part(path, requests)` is awaited
    for each finished part. Returns how many parts were written."""
    max_bytes, max_requests = limits()
    n, written = first, 0
    out: IO[bytes] | None = None
    ctx: Any = None
    size = count = 0

    async def close() -> None:
        nonlocal out, ctx, n, written, size, count
        if ctx is None:
            return
        ctx.__exit__(None, None, None)
        path = run_dir / part_name(n)
        requests = count
        ctx = out = None
        size = count = 0
        n, written = n + 1, written + 1
        await on_part(path, requests)

    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        for line in lines:
            data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
            if len(data) > max_bytes:
                on_too_big(line, len(data))
                continue
            if out is not None and (size + len(data) > max_bytes or count >= max_requests):
                await close()
            if out is None:
                ctx = atomic_writer(run_dir / part_name(n), binary=True)
                out = ctx.__enter__()
            out.write(data)
            size += len(data)
            count += 1
    except BaseException as e:
        if ctx is not None:  # the unfinished part's temp file is removed; earlier parts stand
            ctx.__exit__(type(e), e, e.__traceback__)
        raise
    await close()
    return written
