"""What noun-phrase extraction shows while it works (stderr): a `rich` bar with captions/s and ETA
on a terminal; off a terminal (nohup, Slurm) one plain line every `log_every` seconds and one at the
end; nothing with `--quiet`. `advance(n)` is all the pipeline calls."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

DEFAULT_LOG_EVERY = 30.0


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class ExtractProgress:
    def __init__(self, quiet: bool, total: int, log_every: float = DEFAULT_LOG_EVERY) -> None:
        self.mode = "off" if quiet else "bar" if sys.stderr.isatty() else "lines"
        self.total = total
        self.log_every = log_every
        self.done = 0
        self._bar: Any = None

    def __enter__(self) -> Callable[[int], None]:
        self.t0 = self._last = time.perf_counter()
        if self.mode == "off":
            return lambda n: None
        if self.mode == "lines":
            return self._advance_lines
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(
            TextColumn("noun phrases"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._bar.start()
        task = self._bar.add_task("extract", total=self.total, rate="")

        def advance(n: int) -> None:
            self.done += n
            rate = self.done / max(time.perf_counter() - self.t0, 1e-9)
            self._bar.update(task, advance=n, rate=f"{rate:,.0f} captions/s")

        return advance

    def _advance_lines(self, n: int) -> None:
        self.done += n
        if time.perf_counter() - self._last >= self.log_every:
            self._line()

    def line_text(self) -> str:
        elapsed = max(time.perf_counter() - self.t0, 1e-9)
        rate = self.done / elapsed
        share = f"{self.done / self.total:.0%}" if self.total else "100%"
        eta = _duration((self.total - self.done) / rate) if rate > 0 else "?"
        return (
            f"noun phrases: {self.done:,}/{self.total:,} captions ({share}) | {rate:,.0f} captions/s | "
            f"elapsed {_duration(elapsed)} | ETA {eta}"
        )

    def _line(self) -> None:
        sys.stderr.write(self.line_text() + "\n")
        sys.stderr.flush()
        self._last = time.perf_counter()

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.mode == "lines" and exc_type is None and self.done:
            self._line()
