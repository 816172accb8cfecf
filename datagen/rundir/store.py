"""The run directory on disk, and its one owner: every file name and every read and write of
results.jsonl, failures.jsonl, requests.jsonl, run.json and the tasks' side files goes through here.

Step in the flow: the engine asks which request keys are already done, appends each finished
sample (or failure) as one flushed JSON line, and rewrites `run.json` atomically now and then;
tasks write their side files (`vqa_results.json`, ...) and read earlier results through `RunStore`.

Resume must be fast over big runs (150K lines in well under a second here), so `done_keys` does
not decode JSON: it finds `"request_key": "<hex>"` with one regex over the file's bytes. That is
safe because the key is written by us as a top-level field, and the same text inside a reply
string would have its quotes escaped (`\\"request_key\\"`) and cannot match. Only complete
lines count: a torn last line (crash mid-write) is ignored here and cut off when the file is
next opened for appending (`JsonlAppender`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from datagen.common.jsonio import JsonlAppender, iter_jsonl, read_json, write_json_atomic, write_jsonl_atomic
from datagen.errors import InputError

RESULTS = "results.jsonl"
FAILURES = "failures.jsonl"
RUN_META = "run.json"
REQUESTS = "requests.jsonl"
RUN_FILES = (RESULTS, FAILURES, RUN_META, REQUESTS)

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


_USAGE_RE = re.compile(rb'"usage": ?\{"prompt_tokens": ?(\d+), ?"completion_tokens": ?(\d+)[,}]')
_BLANK_RE = re.compile(rb"(?m)^[ \t\r]*\n")


def _first_keyless(path: Path, data: bytes) -> None:
    for i, line in enumerate(data.split(b"\n"), start=1):
        if line.strip() and not _KEY_RE.search(line):
            raise InputError(
                f"{path}:{i}: not a results line written by datagen (no request_key; corrupt?)",
                hint="remove or repair that line; nothing was changed",
            )


def latest_per_key(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in file order, keeping only the last one of each request key (keyless rows all stay)."""
    rows = list(rows)
    last = {r["request_key"]: i for i, r in enumerate(rows) if r.get("request_key")}
    return [r for i, r in enumerate(rows) if not r.get("request_key") or last[r["request_key"]] == i]


class RunStore:
    def __init__(self, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)
        self.results_path = self.dir / RESULTS
        self.failures_path = self.dir / FAILURES
        self.meta_path = self.dir / RUN_META
        self.requests_path = self.dir / REQUESTS
        self._results: JsonlAppender | None = None
        self._failures: JsonlAppender | None = None
        self._by_task: dict[str, list[dict[str, Any]]] | None = None

    # ---- results and failures -------------------------------------------------------------------
    def done_keys(self) -> set[str]:
        """Request keys of every complete line in results.jsonl. A line without one (a corrupt or
        foreign line) is an `InputError` naming it, raised before anything is rewritten."""
        data = complete_bytes(self.results_path)
        keys = _KEY_RE.findall(data)
        lines = data.count(b"\n") - len(_BLANK_RE.findall(data))
        if len(keys) != lines:
            _first_keyless(self.results_path, data)
        return {m.decode() for m in keys}

    def spent_tokens(self) -> tuple[int, int]:
        """(prompt, completion) tokens the lines say were spent: every result's `usage` plus that of
        each current failure (a sample's latest line carries all it cost). Results are read with a
        regex, like `done_keys`, so this stays fast on big runs."""
        data = complete_bytes(self.results_path)
        prompt = completion = 0
        for p, c in _USAGE_RE.findall(data):
            prompt += int(p)
            completion += int(c)
        done = {m.decode() for m in _KEY_RE.findall(data)}
        for f in self.load_failures():
            u = f.get("usage") if f.get("request_key") not in done else None
            if isinstance(u, dict):
                prompt += int(u.get("prompt_tokens") or 0)
                completion += int(u.get("completion_tokens") or 0)
        return prompt, completion

    def load_results(self) -> list[dict[str, Any]]:
        """Every complete line of results.jsonl, in file order (no validation)."""
        if not self.results_path.exists():
            return []
        return [obj for _, obj in iter_jsonl(self.results_path, tolerate_torn_tail=True)]

    def results_by_task(self) -> dict[str, list[dict[str, Any]]]:
        """results.jsonl grouped by task, read once per `RunStore` (several tasks of one run share it)."""
        if self._by_task is None:
            self._by_task = {}
            for rec in self.load_results():
                self._by_task.setdefault(str(rec.get("task", "")), []).append(rec)
        return self._by_task

    def load_failures(self) -> list[dict[str, Any]]:
        """failures.jsonl as it stands: one line per failed sample, the latest line of a request
        key winning (a killed re-run may have appended a newer failure before compacting)."""
        if not self.failures_path.exists():
            return []
        return latest_per_key(obj for _, obj in iter_jsonl(self.failures_path, tolerate_torn_tail=True))

    def rewrite_failures(self, keep: list[dict[str, Any]]) -> None:
        """Replace failures.jsonl atomically (fsynced temp file + rename: kill -9 leaves the old
        file or the new one). Callers compute `keep` from files already read and validated."""
        if keep or self.failures_path.exists():
            write_jsonl_atomic(self.failures_path, keep)

    def compact_failures(
        self, done: set[str] | None = None, drop: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        """Drop failure lines that are superseded: their request key succeeded since (is in
        results.jsonl) or a newer line of the same key follows (and those `drop` names). Never
        drops a sample's only record, so it is safe at any moment; rewrites only on a change."""
        if not self.failures_path.exists():
            return
        done = self.done_keys() if done is None else done
        rows = [obj for _, obj in iter_jsonl(self.failures_path, tolerate_torn_tail=True)]
        keep = [
            r for r in latest_per_key(rows) if r.get("request_key") not in done and not (drop and drop(r))
        ]
        if len(keep) != len(rows):
            self.rewrite_failures(keep)

    def replace_precall_failures(self, tasks: dict[str, Iterable[str]], lines: list[dict[str, Any]]) -> None:
        """Record inputs refused before any call: drop the earlier such lines of these tasks
        (`tasks` maps a task to its pre-call filter names) and any older line for a sample refused
        now (it was sent before, under other settings), then add `lines`. One line per sample."""
        names = {t: set(f) for t, f in tasks.items()}
        now = {f.get("sample_id") for f in lines}
        old = self.load_failures()
        kept = [
            r
            for r in old
            if r.get("sample_id") not in now and r.get("filter") not in names.get(str(r.get("task")), ())
        ]
        if lines or len(kept) != len(old):
            self.dir.mkdir(parents=True, exist_ok=True)
            self.rewrite_failures(kept + lines)

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

    # ---- requests.jsonl (dry run, Batch API input) -----------------------------------------------
    def write_requests(self, lines: Iterable[dict[str, Any]]) -> Path:
        """Write requests.jsonl atomically (the OpenAI Batch API input format); returns its path."""
        write_jsonl_atomic(self.requests_path, lines)
        return self.requests_path

    # ---- run.json ---------------------------------------------------------------------------------
    def read_meta(self) -> dict[str, Any]:
        if not self.meta_path.exists():
            return {}
        meta = read_json(self.meta_path)
        return meta if isinstance(meta, dict) else {}

    def write_meta(self, meta: dict[str, Any]) -> None:
        write_json_atomic(self.meta_path, meta)

    # ---- task side files --------------------------------------------------------------------------
    def side_file(self, name: str) -> Path:
        """The path of a task's side file (e.g. `vqa_results.json`); names never leave the run dir."""
        if not name or "/" in name or "\\" in name or name.startswith(".") or name in RUN_FILES:
            raise ValueError(f"not a side-file name: {name!r}")
        return self.dir / name

    def write_side_json(self, name: str, obj: Any) -> Path:
        path = self.side_file(name)
        write_json_atomic(path, obj)
        return path

    def write_side_jsonl(self, name: str, rows: Iterable[dict[str, Any]]) -> Path:
        path = self.side_file(name)
        write_jsonl_atomic(path, rows)
        return path
