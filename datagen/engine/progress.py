"""What a run shows while it works: a `rich` progress line and a summary table at the end.

Step in the flow: the runner updates a plain `RunStats` object on the hot path (a few integer
increments per request); the display reads it a few times a second on its own, so drawing never
slows the requests down. `--quiet` shows nothing. Everything goes to stderr.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table


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


class ProgressDisplay:
    def __init__(self, stats: RunStats, *, quiet: bool = False, label: str = "generate") -> None:
        self.stats = stats
        self.quiet = quiet
        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task: Any = None
        self._label = label

    def start(self) -> None:
        if self.quiet or not self.console.is_terminal:
            # off a terminal rich draws nothing live, and stopping it left a stray blank line on
            # stderr (before an `Error:` line, or in a log); the summary table still prints
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

    def stop(self) -> None:
        if self._progress is not None:
            self.refresh()
            self._progress.stop()
            self._progress = None

    def summary(self, extra: dict[str, str] | None = None) -> None:
        if self.quiet:
            return
        s = self.stats
        elapsed = max(1e-6, time.monotonic() - s.started)
        table = Table(title="datagen generate", show_header=False, box=None)
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
