"""`--executor ray`: the actor class Ray Data's `map_batches` runs, each actor one copy of our engine.

An actor holds one `ChatClient` (its share of `--concurrency`, the endpoints in its own rotation so
replicas are spread across actors) on a private event loop in a background thread, and runs the
local engine's own request path (`LiveRun._process`: client, retries, parse, re-ask, filters) for
each row of the batches Ray hands it. Two batches may be in the actor at once, so the loop stays
busy while Ray fetches the next one.

What differs from a local run is only where things go:
- each outcome goes to the coordinator (`ray_coordinator.Coordinator.record`) the moment it is
  known, which writes it; the run-wide filters run there, not here;
- the rate limiter is `SharedLimiter`, a thin proxy of the coordinator's one limiter;
- a batch first asks which of its keys still have no line, so a batch Ray retries after an actor
  died re-sends only what was in flight;
- a fatal error (bad key, no server) is reported to the coordinator, and every actor stops sending.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import threading
import time
from typing import Any

from datagen.engine.config import EngineConfig
from datagen.engine.ray_coordinator import COUNTERS, RUN_WIDE
from datagen.engine.runner import LiveRun
from datagen.engine.work import Work
from datagen.llm.client import ChatClient, ClientHooks, FatalRemote
from datagen.tasks.base import Task, TaskOptions

STATE_EVERY = 0.2  # seconds between looks at the shared limiter's state (learnt limits, 429 pauses)
# Outcomes go to the coordinator in one call per batch: the first outcome waits FLUSH_EVERY for
# others, and whatever finishes while a call is under way goes in the next one. These few ms
# count as "in flight": a worker killed now repays them.
FLUSH_EVERY = 0.005


class SharedLimiter:
    """The `RateLimiter` interface the runner uses, backed by the coordinator's one limiter.

    While no limit applies (no --rpm/--tpm, none learnt from headers, no 429 pause) `acquire`
    costs nothing; a background look at the coordinator's state every STATE_EVERY seconds picks up
    a limit learnt or a pause started by any worker."""

    def __init__(self, coordinator: Any, rpm: float | None, tpm: float | None) -> None:
        self.coord = coordinator
        self.rpm, self.tpm = rpm, tpm
        self._paced = bool(rpm or tpm)
        self._wants_tokens = bool(tpm)
        self._blocked_until = 0.0
        self.stop = False
        self._watch: asyncio.Task[None] | None = None

    @property
    def wants_tokens(self) -> bool:
        return self._wants_tokens

    def _apply(self, state: dict[str, Any]) -> None:
        self.rpm, self.tpm = state["rpm"], state["tpm"]
        self._paced, self._wants_tokens = bool(state["paced"]), bool(state["wants_tokens"])
        self._blocked_until = time.monotonic() + state["blocked_for"]
        self.stop = self.stop or bool(state["stop"])

    async def _watch_state(self) -> None:
        while True:
            try:
                self._apply(await self.coord.state.remote())
            except Exception:  # the coordinator is gone (the driver died): start nothing more
                self.stop = True
                return
            await asyncio.sleep(STATE_EVERY)

    async def acquire(self, tokens: int = 0) -> Any:
        """The coordinator's `Ticket` for this send, or None when nothing paces the run."""
        if self._watch is None:
            self._watch = asyncio.get_running_loop().create_task(self._watch_state())
        if self._paced or self._blocked_until > time.monotonic():
            got = await self.coord.acquire.remote(tokens)
            self._apply(got)
            return got["ticket"]
        return None

    def correct(self, estimated: int, actual: int) -> None:
        if self._wants_tokens:
            self.coord.correct.remote(estimated, actual)

    def observe(self, headers: dict[str, str], ticket: Any = None) -> None:
        if headers:  # the client keeps only the x-ratelimit-* headers
            self.coord.observe.remote(dict(headers), ticket)

    def failed(self) -> None:
        if self._paced:
            self.coord.failed.remote()

    def penalize(self, seconds: float) -> None:
        self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)
        self.coord.penalize.remote(seconds)


class WorkerRun(LiveRun):
    """The local engine's request path, with outcomes sent to the coordinator instead of the disk."""

    def __init__(
        self, tasks: dict[str, Task], opts: TaskOptions, cfg: EngineConfig, coordinator: Any, split: int = 0
    ) -> None:
        local_opts = dataclasses.replace(opts, disabled_filters=set(opts.disabled_filters) | RUN_WIDE)
        if split:  # the budget-split alternative (bench/ray_bench.py): 1/N of each limit, here alone
            cfg = dataclasses.replace(
                cfg, rpm=cfg.rpm / split if cfg.rpm else None, tpm=cfg.tpm / split if cfg.tpm else None
            )
        super().__init__(tasks, local_opts, cfg, store=None, meta={})  # type: ignore[arg-type]
        self.coord = coordinator
        if not split:
            self.limiter = SharedLimiter(coordinator, cfg.rpm, cfg.tpm)  # type: ignore[assignment]
        self._sent = {name: 0 for name in COUNTERS}
        self._refs: dict[str, asyncio.Future[bool]] = {}
        self._buffer: list[tuple[tuple[Any, ...], asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def _counts(self) -> dict[str, int]:
        """What this worker counted since the last report (requests, retries, tokens, ...)."""
        now = {name: getattr(self.stats, name) for name in COUNTERS}
        delta = {k: v - self._sent[k] for k, v in now.items() if v != self._sent[k]}
        self._sent = now
        return delta

    def _emit(self, w: Work, kind: str, rec: dict[str, Any], **extra: Any) -> None:
        """Queue one outcome for the coordinator (sent with the others that finish meanwhile)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        self._buffer.append(((kind, w.key, rec, extra), fut))
        self._refs[w.key] = fut
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())

    async def _flush(self) -> None:
        while self._buffer:
            await asyncio.sleep(FLUSH_EVERY)  # lets outcomes finishing together share one call
            items, self._buffer = self._buffer, []
            try:
                written = await self.coord.record_many.remote([i for i, _ in items], self._counts())
            except Exception as e:  # the coordinator is gone: the run is over
                for _, fut in items:
                    fut.set_exception(e)
                continue
            for (_, fut), ok in zip(items, written, strict=True):
                fut.set_result(ok)

    def _record_result(self, w: Work, rec: dict[str, Any], pairs: Any, raw: str) -> None:
        slim = dataclasses.replace(w.job, messages=[])  # the run-wide filters need no prompt
        self._emit(w, "result", rec, job=slim, pairs=pairs, raw=raw)

    def _record_failure(self, w: Work, stage: str, rec: dict[str, Any]) -> None:
        self._emit(w, "failure", rec)

    async def one(self, client: ChatClient, gate: asyncio.Semaphore, w: Work) -> str:
        async with gate:  # a slot of --concurrency is a request in flight, not one being recorded
            if getattr(self.limiter, "stop", False):
                return "stopped"
            try:
                await self._process(client, w)
            except FatalRemote as e:
                msg = f"{client.redact(str(e))}; model {self.cfg.model!r}; stopped before sending the rest"
                await self.coord.report_fatal.remote(msg)
                self.limiter.stop = True  # type: ignore[attr-defined]
                return "fatal"
        fut = self._refs.pop(w.key, None)
        written = await fut if fut is not None else False
        return "written" if written else "duplicate"


class GenerateWorker:
    """The callable class given to `Dataset.map_batches` (one instance per actor of the pool)."""

    def __init__(
        self,
        tasks: dict[str, Task],
        opts: TaskOptions,
        cfg: EngineConfig,
        coordinator: Any,
        per_actor: int,
        split: int = 0,
    ) -> None:
        import ray

        self.coord = coordinator
        index = ray.get(coordinator.register.remote(ray.get_runtime_context().current_actor))
        urls = cfg.base_urls[index % len(cfg.base_urls) :] + cfg.base_urls[: index % len(cfg.base_urls)]
        self.cfg = dataclasses.replace(cfg, base_urls=urls, concurrency=per_actor, quiet=True)
        self.run = WorkerRun(tasks, opts, self.cfg, coordinator, split)
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True, name="datagen-engine").start()
        self._client: ChatClient | None = None
        self._gate: asyncio.Semaphore | None = None

    async def _start(self) -> tuple[ChatClient, asyncio.Semaphore]:
        if self._client is None or self._gate is None:
            hooks = ClientHooks(on_failure=self.run._on_failure)
            c = self.cfg
            self._client = ChatClient(
                c.base_urls, api_key=c.api_key, timeout=c.timeout, max_connections=c.concurrency,
                max_retries=c.max_retries, hooks=hooks,
            )  # fmt: skip
            self._gate = asyncio.Semaphore(c.concurrency)
        return self._client, self._gate

    async def _batch(self, keys: list[str], blobs: list[bytes], problems: list[str | None]) -> list[str]:
        client, gate = await self._start()
        todo = set(await self.coord.unseen.remote(keys))
        images = self.run.images  # --image-input: this actor encodes its own requests' images
        work = [
            Work(pickle.loads(b), k, self.cfg, images, p)
            for k, b, p in zip(keys, blobs, problems, strict=True)
            if k in todo
        ]
        outcomes = dict(
            zip(
                [w.key for w in work],
                await asyncio.gather(*(self.run.one(client, gate, w) for w in work)),
                strict=True,
            )
        )
        left = self.run._counts()
        if left:  # retries that ended in no outcome yet still count
            await self.coord.add_counts.remote(left)
        return [outcomes.get(k, "skipped") for k in keys]

    def __call__(self, batch: Any) -> dict[str, Any]:
        """One batch (a pyarrow table of key, pickled job, image problem) → each key's outcome."""
        keys = batch.column("key").to_pylist()
        blobs = batch.column("job").to_pylist()
        problems = batch.column("problem").to_pylist()
        outcomes = asyncio.run_coroutine_threadsafe(self._batch(keys, blobs, problems), self.loop).result()
        return {"key": keys, "outcome": outcomes}
