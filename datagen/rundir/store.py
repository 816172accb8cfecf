"""The run directory on disk: append-only results/failures, resume keys, and `run.json`.

Step in the flow: the runner asks which request keys are already done, appends each finished
sample (or failure) as one flushed JSON line, and rewrites `run.json` atomically now and then.

Resume must be fast over big runs (150K lines in well under a second here), so `done_keys` does
not decode JSON: it finds `"request_key": "<hex>"` with one regex over the file's bytes. That is
safe because the key is written by us as a top-level field, and the same text inside a reply
string would have its quotes escaped (`\\"request_key\\"`) and cannot match. Only complete
lines count: a torn last line (crash mid-write) is ignored here and cut off when the file is
next opened for appending (`JsonlAppender`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from datagen.common.jsonio import JsonlAppender, iter_jsonl, read_json, write_json_atomic, write_jsonl_atomic

RESULTS = "results.jsonl"
FAILURES = "failures.jsonl"
RUN_META = "run.json"
REQUESTS = "requests.jsonl"

_KEY_RE = re.compile(rb'"request_key": ?"([0-9a-f]{8,64})"')


def complete_bytes(path: Path) -> bytes:
    """The file's bytes up to and including its last newline (drops a torn tail)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b""
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    return data


class RunStore:
    def __init__(self, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)
        self.results_path = self.dir / RESULTS
        self.failures_path = self.dir / FAILURES
        self.meta_path = self.dir / RUN_META
        self._results: JsonlAppender | None = None
        self._failures: JsonlAppender | None = None

    def done_keys(self) -> set[str]:
        """Request keys of every complete line in results.jsonl."""
        data = complete_bytes(self.results_path)
        return {m.decode() for m in _KEY_RE.findall(data)}

    def load_failures(self) -> list[dict[str, Any]]:
        if not self.failures_path.exists():
            return []
        return [obj for _, obj in iter_jsonl(self.failures_path, tolerate_torn_tail=True)]

    def rewrite_failures(self, keep: list[dict[str, Any]]) -> None:
        """Replace failures.jsonl (atomically) before a re-run retries the rest."""
        if keep or self.failures_path.exists():
            write_jsonl_atomic(self.failures_path, keep)

    def open(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._results = JsonlAppender(self.results_path)
        self._failures = JsonlAppender(self.failures_path)

    def close(self) -> None:
        for f in (self._results, self._failures):
            if f is not None:
                f.close()
        self._results = self._failures = None

    def add_result(self, record: dict[str, Any]) -> None:
        assert self._results is not None, "RunStore.open() first"
        self._results.write(record)

    def add_failure(self, record: dict[str, Any]) -> None:
        assert self._failures is not None, "RunStore.open() first"
        self._failures.write(record)

    def read_meta(self) -> dict[str, Any]:
        if not self.meta_path.exists():
            return {}
        meta = read_json(self.meta_path)
        return meta if isinstance(meta, dict) else {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_json_atomic(self.meta_path, meta)
