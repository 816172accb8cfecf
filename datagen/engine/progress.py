"""What a run shows while it works: a progress line, then a summary table at the end.

Step in the flow: the runner updates a plain `RunStats` object on the hot path (a few integer
increments per request); the display reads it a few times a second on its own, so drawing never
slows the requests down. Everything goes to stderr, in one of three ways:

- a terminal: a live `rich` progress bar;
- not a terminal (nohup, Slurm, CI): one plain line every `log_every` seconds (`--log-every`,
  default 30) with done/total, req/s, failures, tokens, spend and ETA, and one when the run ends;
- `--json-progress`: the same figures as one JSON object per line (`"event": "progress"`), and the
  summary as a last `"event": "summary"` object instead of the table.

`--quiet` shows nothing.
"""

from __future__ import annotations

import collections
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from datagen.engine.config import DEFAULT_LOG_EVERY


@dataclass
class RunStats:
    total: int = 0  # samples in this run (after --shard)
    skipped: int = 0  # already in results.jsonl
    ok: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)  # by stage
    filtered: collections.Counter[str] = field(default_factory=collections.Counter)  # by filter name
    # inputs the task refused before any call, by filter name (in failures.jsonl, not in `total`)
    precall: collections.Counter[str] = field(default_factory=collections.Counter)
    reasked: int = 0  # truncated / unparseable replies asked again
    requests: int = 0  # HTTP attempts that got an answer we could use
    retries: int = 0
    status_429: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    price_in: float | None = None  # USD per 1M tokens
    price_out: float | None = None
    batch_discount: float = 1.0
    images: int = 0  # images sent with the requests (--image-input)
    image_tokens: int = 0  # their estimated prompt tokens (the server's usage includes the real ones)

    @property
    def done(self) -> int:
        return self.ok + sum(self.failed.values())

    @property
    def todo(self) -> int:
        return self.total - self.skipped

    def cost(self) -> float | None:
        if self.price_in is None or self.price_out is None:
            return None
        usd = self.prompt_tokens * self.price_in + self.completion_tokens * self.price_out
        return usd / 1e6 * self.batch_discount

    def as_dict(self) -> dict[str, Any]:
        return {
            "samples": self.total,
            "already_done": self.skipped,
            "succeeded": self.ok,
            "failed": dict(self.failed),
            "filtered": dict(self.filtered),
            "reasked": self.reasked,
            "requests": self.requests,
            "retries": self.retries,
            "http_429": self.status_429,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(time.monotonic() - self.started, 3),
            **(
                {"images_sent": self.images, "image_tokens_estimate": self.image_tokens}
                if self.images
                else {}
            ),
        }


def _usd(v: float | None) -> str:
    if v is None:
        return "$?"
    return f"${v:,.4f}" if v < 1 else f"${v:,.2f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def progress_figures(s: RunStats, now: float | None = None) -> dict[str, Any]:
    """What a progress line reports: done/total, rates, failures, tokens, spend, ETA (seconds)."""
    elapsed = max(1e-6, (time.monotonic() if now is None else now) - s.started)
    rate = s.done / elapsed
    left = max(0, s.todo - s.done)
    return {
        "done": s.done,
        "total": s.todo,
        "succeeded": s.ok,
        "failed": sum(s.failed.values()),
        "req_per_s": round(rate, 3),
        "tokens": s.prompt_tokens + s.completion_tokens,
        "cost_usd": None if s.cost() is None else round(s.cost() or 0.0, 6),
        "elapsed_s": round(elapsed, 1),
        "eta_s": round(left / rate, 1) if rate > 0 else (0.0 if left == 0 else None),
    }


def progress_line(label: str, f: dict[str, Any]) -> str:
    """One plain progress line, e.g. `generate: 120/500 (24%) | 3.2 req/s | 2 failed | ...`."""
    share = f"{f['done'] / f['total']:.0%}" if f["total"] else "100%"
    return (
        f"{label}: {f['done']:,}/{f['total']:,} ({share}) | {f['req_per_s']:.1f} req/s | "
        f"{f['failed']:,} failed | {f['tokens']:,} tokens | {_usd(f['cost_usd'])} | "
        f"elapsed {_duration(f['elapsed_s'])} | ETA {_duration(f['eta_s'])}"
    )


class ProgressDisplay:
    def __init__(
        self,
        stats: RunStats,
        *,
        quiet: bool = False,
        label: str = "generate",
        log_every: float = DEFAULT_LOG_EVERY,
        json_progress: bool = False,
    ) -> None:
        self.stats = stats
        self.quiet = quiet
        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task: Any = None
        self._label = label
        self.log_every = log_every
        self.json_progress = json_progress
        self._lines = False  # plain or JSON lines instead of the live bar
        self._last_line = 0.0

    def start(self) -> None:
        if self.quiet:
            return
        if self.json_progress or not self.console.is_terminal:
            # off a terminal rich draws nothing live (and stopping it left a stray blank line), so
            # a log gets a plain line every `log_every` seconds instead
            self._lines = True
            self._last_line = time.monotonic()
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("fail {task.fields[fail]}"),
            TextColumn("{task.fields[spend]}"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=4,
        )
        self._progress.start()
        self._task = self._progress.add_task(self._label, total=self.stats.todo, rate="", fail=0, spend="")
        self.refresh()

    def refresh(self) -> None:
        if self._lines:
            if time.monotonic() - self._last_line >= self.log_every:
                self._emit_line()
            return
        if self._progress is None:
            return
        s = self.stats
        elapsed = max(1e-6, time.monotonic() - s.started)
        rate = f"{s.done / elapsed:.1f} req/s {(s.prompt_tokens + s.completion_tokens) / elapsed:,.0f} tok/s"
        self._progress.update(
            self._task,
            completed=s.done,
            rate=rate,
            fail=sum(s.failed.values()),
            spend=_usd(s.cost()),
        )

    def _emit_line(self, final: bool = False) -> None:
        figures = progress_figures(self.stats)
        if self.json_progress:
            text = json.dumps({"event": "progress", "label": self._label, **figures, "final": final})
        else:
            text = progress_line(self._label, figures)
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
        self._last_line = time.monotonic()

    def batch_status(self, state: dict[str, Any]) -> None:
        """While a Batch API job runs (no replies to count yet): off a terminal, its status and the
        server's request counts, at most every `log_every` seconds."""
        if not self._lines or time.monotonic() - self._last_line < self.log_every:
            return
        counts = state.get("request_counts") or {}
        elapsed = round(time.monotonic() - self.stats.started, 1)
        if self.json_progress:
            event = {"event": "batch", "id": state.get("id"), "status": state.get("status"), **counts}
            text = json.dumps({**event, "elapsed_s": elapsed})
        else:
            done = f"{counts.get('completed', 0):,}/{counts.get('total', '?')}"
            text = (
                f"{self._label}: batch {state.get('id')} {state.get('status')} | {done} answered | "
                f"{counts.get('failed', 0):,} failed | elapsed {_duration(elapsed)}"
            )
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
        self._last_line = time.monotonic()

    def stop(self) -> None:
        # off a terminal the last progress line comes with the summary: a run that ends in an
        # error ends with its one `Error:` line, nothing after it
        if self._progress is not None:
            self.refresh()
            self._progress.stop()
            self._progress = None

    def summary(self, extra: dict[str, str] | None = None) -> None:
        if self.quiet:
            return
        if self._lines:
            self._emit_line(final=True)
            self._lines = False
        s = self.stats
        if self.json_progress:
            event = {"event": "summary", "label": self._label, **s.as_dict(), "cost_usd": s.cost()}
            sys.stderr.write(json.dumps({**event, **(extra or {})}) + "\n")
            sys.stderr.flush()
            return
        elapsed = max(1e-6, time.monotonic() - s.started)
        table = Table(title=f"datagen: {self._label}", show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column()
        rows = [
            ("samples", f"{s.total:,} ({s.skipped:,} already done)"),
            ("succeeded", f"{s.ok:,}"),
            ("failed", ", ".join(f"{k} {v:,}" for k, v in sorted(s.failed.items())) or "0"),
            ("filtered by", ", ".join(f"{k} {v:,}" for k, v in sorted(s.filtered.items())) or "-"),
            ("re-asked", f"{s.reasked:,}"),
            ("requests", f"{s.requests:,} ({s.retries:,} retries, {s.status_429:,} answered 429)"),
            ("tokens", f"{s.prompt_tokens:,} in / {s.completion_tokens:,} out"),
            ("cost", _usd(s.cost())),
            ("time", f"{elapsed:,.1f} s ({s.done / elapsed:,.1f} samples/s)"),
        ]
        for k, v in [*rows, *(extra or {}).items()]:
            table.add_row(k, v)
        self.console.print(table)
