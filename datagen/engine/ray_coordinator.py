"""`--executor ray`: the run's one coordinator actor: the global rate limiter and the only writer.

Every worker actor of a Ray generate run talks to this one named actor (pinned to the driver's node,
whose disk holds the run directory):

- **Rate limit.** It owns the run's single `RateLimiter`: `acquire` paces every worker's requests
  against `--rpm/--tpm`, `correct`/`observe` feed it the usage and `x-ratelimit-*` headers any
  worker saw, and `penalize` (a 429 anywhere) holds every worker, not only the one that got it.
  Workers call `acquire` only while some limit applies (`state` tells them); unpaced runs pay no
  round trip per request.
- **Writer.** Each outcome reaches `record` the moment a worker knows it and is appended to
  results.jsonl / failures.jsonl through `RunStore` (flushed per line), so the run directory is
  exactly a local run's: `stats`, `export`, `review`, `audit` and resume read it unchanged. The
  request key decides: a key that already has a line (done before, or sent twice because Ray retried
  a batch after a worker died) is never written again. The run-wide filters (`duplicate`,
  `near_duplicate`) run here, in arrival order, so two workers cannot both keep one text.
- **Counts.** The authoritative `RunStats` of the run, which the driver's progress display polls.

It is an async actor: its methods run one at a time on one event loop, so nothing here needs a lock.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from datagen.engine.outcome import failure_record
from datagen.engine.progress import RunStats
from datagen.llm.ratelimit import RateLimiter
from datagen.rundir.store import RunStore
from datagen.tasks.base import Job, QAPairs, Task, TaskOptions
from datagen.tasks.dedupe import DUPLICATE
from datagen.tasks.filters import chosen_filters, first_rejection
from datagen.tasks.neardup import NEAR_DUPLICATE

RUN_WIDE = frozenset({DUPLICATE, NEAR_DUPLICATE})  # filters that need every sample of the run
COUNTERS = ("requests", "retries", "status_429", "prompt_tokens", "completion_tokens", "reasked")


class Coordinator:
    """State shared by all workers of one Ray generate run (see the module docstring)."""

    def __init__(
        self,
        run_dir: str,
        tasks: dict[str, Task],
        opts: TaskOptions,
        rpm: float | None,
        tpm: float | None,
        stats: RunStats,
    ) -> None:
        self.store = RunStore(run_dir)
        self.tasks, self.opts, self.stats = tasks, opts, stats
        self.limiter = RateLimiter(rpm, tpm)
        self.seen = self.store.done_keys()
        for task in tasks.values():
            task.prepare(self.store)
        self._run_wide = {
            name: [(n, f) for n, f in chosen_filters(t, opts) if n in RUN_WIDE] for name, t in tasks.items()
        }
        self.store.open()
        self.closed = False  # after close (Ctrl-C, the end): late outcomes are not written
        self.fatal: str | None = None
        self.stopping = False
        self.dropped = 0  # second outcomes for a key (a batch Ray retried): never written
        self._workers: list[Any] = []
        self.started = time.monotonic()

    # ---- rate limit ---------------------------------------------------------------------------------
    async def acquire(self, tokens: int = 0) -> dict[str, Any]:
        ticket = await self.limiter.acquire(tokens)
        return {**self.state(), "ticket": ticket}

    def state(self) -> dict[str, Any]:
        lim = self.limiter
        return {
            "rpm": lim.rpm,
            "tpm": lim.tpm,
            "paced": bool(lim.rpm or lim.tpm or lim.budgets),  # a budget learnt from headers paces too
            "wants_tokens": lim.wants_tokens,
            "blocked_for": max(0.0, lim._blocked_until - time.monotonic()),
            "stop": self.stopping or self.fatal is not None,
        }

    def correct(self, estimated: int, actual: int) -> None:
        self.limiter.correct(estimated, actual)

    def observe(self, headers: dict[str, str], ticket: Any = None) -> None:
        self.limiter.observe(headers, ticket)

    def failed(self) -> None:
        self.limiter.failed()

    def penalize(self, seconds: float) -> None:
        self.limiter.penalize(seconds)

    # ---- writing ----------------------------------------------------------------------------------
    def unseen(self, keys: list[str]) -> list[str]:
        """The keys of a batch that have no line yet (a retried batch skips what it already did)."""
        return [k for k in keys if k not in self.seen]

    def record(
        self,
        kind: str,
        key: str,
        rec: dict[str, Any],
        job: Job | None = None,
        pairs: QAPairs | None = None,
        raw: str | None = None,
        counts: dict[str, int] | None = None,
    ) -> bool:
        """Write one outcome (kind "result" or "failure"); False when the key already has a line."""
        self.add_counts(counts or {})
        if self.closed or key in self.seen:
            self.dropped += 1
            return False
        self.seen.add(key)
        s = self.stats
        if kind == "result":
            assert job is not None and pairs is not None
            rejected = first_rejection(pairs, job, self._run_wide.get(job.task, []))
            if rejected is None:
                self.store.add_result(rec)
                s.ok += 1
                return True
            name, why = rejected
            rec = failure_record(
                job, stage="filter", reason=str(why), attempts=1, raw=raw, key=key, filter_name=name
            )
        self.store.add_failure(rec)
        stage = str(rec.get("stage"))
        s.failed[stage] += 1
        if stage == "filter":
            s.filtered[str(rec.get("filter") or "?")] += 1
        return True

    def record_many(
        self, items: list[tuple[str, str, dict[str, Any], dict[str, Any]]], counts: dict[str, int]
    ) -> list[bool]:
        """`record` for several outcomes of one worker, with its counts since its last call."""
        self.add_counts(counts)
        return [self.record(kind, key, rec, **extra) for kind, key, rec, extra in items]

    def add_counts(self, counts: dict[str, int]) -> None:
        for name, n in counts.items():
            setattr(self.stats, name, getattr(self.stats, name) + n)

    # ---- control ----------------------------------------------------------------------------------
    def report_fatal(self, message: str) -> None:
        """A worker cannot go on (bad key, unreachable server): every worker stops sending."""
        if self.fatal is None:
            self.fatal = message

    def stop(self) -> None:
        """Ctrl-C on the driver: workers finish nothing new; what is done stays done."""
        self.stopping = True

    def register(self, worker: Any) -> int:
        self._workers.append(worker)
        return len(self._workers)

    def workers(self) -> list[Any]:
        return list(self._workers)

    def snapshot(self) -> dict[str, Any]:
        """The counts so far, for the driver's progress display and run.json."""
        s = asdict(self.stats)
        s["failed"], s["filtered"] = dict(self.stats.failed), dict(self.stats.filtered)
        return {"stats": s, "fatal": self.fatal, "dropped": self.dropped, "waited": self.limiter.waited}

    def close(self) -> dict[str, Any]:
        self.closed = True
        self.store.close()
        return self.snapshot()
