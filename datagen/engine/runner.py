"""Turn N jobs into N lines of results.jsonl / failures.jsonl as fast as the server allows.

Step in the flow: tasks give `Job`s; the runner skips what the run directory already holds, sends
the rest through `client.py` under the concurrency cap and the rate limiter, re-asks truncated or
unparseable replies up to `max_attempts`, filters, and appends each outcome the moment it is known
(so `kill -9` loses only requests in flight). `run.json` is rewritten every few seconds and at the end.

Python API (what the CLI and other commands call)::

    from datagen.engine.runner import EngineConfig, run_jobs
    stats = run_jobs(task, jobs, TaskOptions(), EngineConfig(model="m", base_urls=[url]), "RUN_DIR")

`task` is one Task or a {name: Task} mapping (jobs are matched by `job.task`). `run_direct` does the
same for tasks that need no model (`uses_llm = False`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from datagen.common.faults import kill_point
from datagen.common.shard import parse_shard
from datagen.engine.config import EngineConfig, reply_cap

# LLM-free tasks run through the same store; re-exported so callers need one import.
from datagen.engine.direct import run_direct  # noqa: F401
from datagen.engine.meta import new_run_id, price_pair, token_counter
from datagen.engine.outcome import failure_record, judge, record_rejected, result_record
from datagen.engine.progress import ProgressDisplay, RunStats
from datagen.engine.runfiles import RunFiles
from datagen.engine.vision import Images, body_or_problem
from datagen.engine.work import Work, over_prompt_limit, prepare, task_map
from datagen.errors import RemoteError
from datagen.llm.client import ChatClient, ClientHooks, FatalRemote, RequestFailed
from datagen.llm.ratelimit import RateLimiter, Ticket
from datagen.prompts.images import ImageProblem
from datagen.rundir.lock import run_lock
from datagen.rundir.store import RunStore
from datagen.tasks.base import Job, Rejected, Task, TaskOptions

__all__ = [
    "EngineConfig",
    "LiveRun",
    "RunStats",
    "Work",
    "parse_shard",
    "prepare",
    "run_direct",
    "run_jobs",
    "task_map",
]

META_EVERY = 5.0  # seconds between run.json rewrites during a run


def run_jobs(
    tasks: Task | Mapping[str, Task],
    jobs: Iterable[Job],
    opts: TaskOptions,
    cfg: EngineConfig,
    run_dir: str | Path,
    *,
    meta: dict[str, Any] | None = None,
    rejected: Iterable[Rejected] = (),
) -> RunStats:
    """Generate every job not already done in `run_dir`; returns the run's statistics."""
    cfg.check_can_send()
    run = LiveRun(task_map(tasks), opts, cfg, RunStore(run_dir), meta or {})
    return asyncio.run(run.main(jobs, rejected))


class LiveRun(RunFiles):
    """One invocation's run over a run directory: resume, send, judge, record, report."""

    def __init__(
        self,
        tasks: dict[str, Task],
        opts: TaskOptions,
        cfg: EngineConfig,
        store: RunStore,
        meta: dict[str, Any],
    ) -> None:
        self.tasks, self.opts, self.cfg, self.store, self.meta = tasks, opts, cfg, store, meta
        pin, pout = price_pair(cfg.model, cfg.price_in, cfg.price_out)
        self.stats = RunStats(price_in=pin, price_out=pout)
        self.limiter = RateLimiter(cfg.rpm, cfg.tpm)
        self.display = ProgressDisplay(
            self.stats,
            quiet=cfg.quiet,
            label=", ".join(self.tasks),
            log_every=cfg.log_every,
            json_progress=cfg.json_progress,
        )
        self._count_tokens = token_counter(cfg.model)
        self._avg_completion = 0.0  # running mean of completion tokens, for tpm estimates
        self._init_files()
        self.run_id = new_run_id()
        self.images = Images(cfg) if cfg.vision.on else None  # --image-input: probes, encoding threads

    async def main(self, jobs: Iterable[Job], rejected: Iterable[Rejected] = ()) -> RunStats:
        with run_lock(self.store.dir):
            pending = self.start(jobs, rejected)
            self.store.open()
            completed = False  # stays False when Ctrl-C or a fatal error ends the run early
            try:
                pending = self._too_long(self._rejudge_filtered(pending))
                if pending:
                    await self._send_all(pending)
                completed = True
            finally:
                if self.images is not None:
                    self.images.close()
                self.finish(completed)
        self.display.summary()
        return self.stats

    def start(self, jobs: Iterable[Job], rejected: Iterable[Rejected]) -> list[Work]:
        """Shard and key the jobs, read and check the run directory (`_resume`: nothing is
        written before), record the refused inputs, let each task see the run directory; returns
        the work still to do."""
        work = prepare(jobs, self.cfg, self.images)
        for w in work:
            self._template_hashes.setdefault(w.job.task, w.job.template_hash)
        pending = self._resume(work)
        record_rejected(self.store, self.tasks, rejected, self.cfg.shard, self.stats)
        for task in self.tasks.values():
            task.prepare(self.store)
        return pending

    # ---- resume (`RunFiles._resume` reads what is done) ------------------------------------------
    def _rejudge_filtered(self, pending: list[Work]) -> list[Work]:
        """A sample rejected by a filter is not paid for twice: its stored reply is judged again
        (so `--no-filter NAME` on a re-run recovers it) and only parse/request failures are re-sent."""
        rest = []
        for w in pending:
            old = self._old_failures.get(w.key)
            if old is None or old.get("stage") != "filter" or old.get("raw") is None:
                rest.append(w)
                continue
            self._judge_and_store(w, str(old["raw"]), "stop", int(old.get("attempts", 1)), self._carried(w))
            kill_point("rejudge:after-one")
        return rest

    def _too_long(self, pending: list[Work]) -> list[Work]:
        """Prompts over `--max-prompt-tokens` are not sent: failures (filter max_prompt_tokens)."""
        rest, refused = over_prompt_limit(pending, self.cfg.max_prompt_tokens, self._count_tokens)
        for w, why in refused:
            self.stats.filtered["max_prompt_tokens"] += 1
            self._fail(w, "filter", why, 0, None, filter_name="max_prompt_tokens")
        return rest

    # ---- sending ----------------------------------------------------------------------------------
    async def _send_all(self, pending: list[Work]) -> None:
        hooks = ClientHooks(on_failure=self._on_failure)
        client = ChatClient(
            self.cfg.base_urls,
            api_key=self.cfg.api_key,
            timeout=self.cfg.timeout,
            max_connections=self.cfg.concurrency,
            max_retries=self.cfg.max_retries,
            hooks=hooks,
        )
        self.stats.started = time.monotonic()
        self.display.start()
        queue = iter(pending)
        workers = [asyncio.create_task(self._worker(client, queue)) for _ in range(self.cfg.concurrency)]
        ticker = asyncio.create_task(self._tick())
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        except FatalRemote as e:
            raise RemoteError(f"{e}; model {self.cfg.model!r}; stopped before sending the rest") from None
        finally:
            for t in [*workers, ticker]:
                t.cancel()
            await asyncio.gather(*workers, ticker, return_exceptions=True)
            await client.aclose()

    async def _tick(self) -> None:
        last_meta = time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            self.display.refresh()
            if time.monotonic() - last_meta > META_EVERY:
                self._write_meta(final=False)
                last_meta = time.monotonic()

    def _on_failure(self, f: RequestFailed) -> None:
        self.stats.retries += 1
        self.limiter.failed()
        if f.status == 429:
            self.stats.status_429 += 1
            self.limiter.penalize(f.retry_after if f.retry_after is not None else 1.0)

    async def _worker(self, client: ChatClient, queue: Any) -> None:
        for w in queue:  # a shared iterator: each job is taken by exactly one worker
            await self._process(client, w)

    async def _body(self, w: Work) -> dict[str, Any] | None:
        """The request body; with images it is encoded in a worker thread (None: the image could
        not be prepared, and the sample failed at stage `input`)."""
        if w.images is None:
            return w.body
        if w.problem is None:
            loop = asyncio.get_running_loop()
            got = await loop.run_in_executor(w.images.pool, body_or_problem, w.images, w.job)
            if not isinstance(got, ImageProblem):
                self.stats.images += len(w.job.example_images) + 1
                self.stats.image_tokens += w.images.tokens(w.job)
                return got
            w.problem = str(got)
        self._fail(w, "input", w.problem, 0, None)
        return None

    async def _process(self, client: ChatClient, w: Work) -> None:
        usage = self._carried(w)
        last_text: str | None = None
        last_reason = ""
        body = await self._body(w)  # one encoding per sample, shared by its re-asks
        if body is None:
            return
        sent = 0  # every HTTP attempt for this sample: re-asks and the client's retries
        for attempt in range(1, self.cfg.max_attempts + 1):
            est = self._estimate(w)
            tickets: list[Ticket] = []

            async def gate(est: int = est, tickets: list[Ticket] = tickets) -> None:
                tickets.append(await self.limiter.acquire(est))

            try:
                c = await client.complete(body, gate)
            except RequestFailed as f:
                self._fail(w, "request", client.redact(f.reason), sent + f.attempts, last_text, usage=usage)
                return
            sent += c.attempts
            self._account(c.usage, c.headers, est, usage)
            self.limiter.observe(c.headers, tickets[-1] if tickets else None)  # every reply, headers or not
            stage = self._judge_and_store(w, c.text, c.finish_reason, sent, usage, final=False)
            if stage != "parse":
                return
            last_text, last_reason = c.text, self._last_parse_reason
            if attempt < self.cfg.max_attempts:
                self.stats.reasked += 1
        self._fail(w, "parse", last_reason, sent, last_text, usage=usage)

    def _estimate(self, w: Work) -> int:
        if not self.limiter.wants_tokens:
            return 0
        guess = self._avg_completion or reply_cap(w.job, self.cfg) / 2
        pictures = self.images.tokens(w.job) if self.images is not None else 0
        return self._count_tokens(w.job.messages) + pictures + int(guess)

    def _account(self, u: dict[str, int], headers: dict[str, str], est: int, usage: dict[str, int]) -> None:
        s = self.stats
        p, c = int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0)
        s.requests += 1
        s.prompt_tokens += p
        s.completion_tokens += c
        usage["prompt_tokens"] += p
        usage["completion_tokens"] += c
        self._avg_completion += (c - self._avg_completion) / min(s.requests, 100)
        if est:
            self.limiter.correct(est, p + c)

    def _judge_and_store(
        self, w: Work, text: str, finish: str, attempts: int, usage: dict[str, int], final: bool = True
    ) -> str:
        task = self.tasks[w.job.task]
        v = judge(task, w.job, text, finish, self.opts)
        if v.stage == "ok":
            assert v.pairs is not None
            rec = result_record(task, w.job, v.pairs, self.opts, model=self.cfg.model, usage=usage, key=w.key)
            self._record_result(w, rec, v.pairs, text)
        elif v.stage == "filter":
            self.stats.filtered[v.filter or "?"] += 1
            self._fail(w, "filter", v.reason, attempts, text, filter_name=v.filter, usage=usage)
        else:
            self._last_parse_reason = v.reason
            if final:
                self._fail(w, "parse", v.reason, attempts, text, usage=usage)
        return v.stage

    def _fail(self, w: Work, stage: str, reason: str, attempts: int, raw: str | None,
              filter_name: str | None = None, usage: dict[str, int] | None = None) -> None:  # fmt: skip
        rec = failure_record(
            w.job, stage=stage, reason=reason, attempts=attempts, raw=raw, key=w.key, filter_name=filter_name,
            usage=usage,
        )  # fmt: skip
        self._record_failure(w, stage, rec)

    # Where judged outcomes go: this process's run directory. A Ray worker (`ray_worker.WorkerRun`)
    # overrides these two to send them to the coordinator, the run directory's only writer there.
    def _record_result(self, w: Work, rec: dict[str, Any], pairs: Any, raw: str) -> None:
        self.store.add_result(rec)
        self.stats.ok += 1

    def _record_failure(self, w: Work, stage: str, rec: dict[str, Any]) -> None:
        self.store.add_failure(rec)
        self.stats.failed[stage] += 1
