"""`--batch`: the same run through the OpenAI Batch API (half price, answers within 24 h).

Step in the flow: instead of sending requests one by one, we write the pending ones to
`RUN_DIR/requests.jsonl` (`custom_id` = the request key), upload it to `/v1/files`, create a batch
on `/v1/batches`, poll it with growing intervals, then download the output and error files and turn
every line into the same `results.jsonl` / `failures.jsonl` lines a live run writes (same parser,
same filters). The batch id is saved in `run.json` the moment it exists, so a re-run of the same
command (after Ctrl-C, a crash, or a closed laptop) resumes polling that batch instead of paying
for a second one. Once collected, a re-run sends only what is still missing (e.g. parse failures)
in a new batch.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from datagen.engine.batch_parts import part_keys, stale_parts, write_parts
from datagen.engine.config import EngineConfig
from datagen.engine.dryrun import batch_line
from datagen.engine.progress import RunStats
from datagen.engine.runner import LiveRun
from datagen.engine.vision import body_or_problem, bounded_map
from datagen.engine.work import Work, task_map
from datagen.errors import RemoteError
from datagen.llm.client import ChatClient, FatalRemote, RequestFailed
from datagen.llm.pricing import BATCH_DISCOUNT
from datagen.llm.remote import rejects_response_format, structured_refused
from datagen.prompts.images import ImageProblem
from datagen.rundir.store import REQUESTS, RunStore
from datagen.tasks.base import Job, Rejected, Task, TaskOptions

TERMINAL = ("completed", "failed", "expired", "cancelled")
POLL_FIRST, POLL_MAX, POLL_GROWTH = 5.0, 60.0, 1.5


def run_batch(
    tasks: Task | Mapping[str, Task],
    jobs: Iterable[Job],
    opts: TaskOptions,
    cfg: EngineConfig,
    run_dir: str | Path,
    *,
    meta: dict[str, Any] | None = None,
    rejected: Iterable[Rejected] = (),
    poll_first: float | None = None,
) -> RunStats:
    """Generate the jobs not yet done in `run_dir` through one Batch API job (or resume polling it)."""
    cfg.check_can_send()
    run = BatchRun(task_map(tasks), opts, cfg, RunStore(run_dir), meta or {})
    if poll_first is None:  # tests and impatient users: DATAGEN_BATCH_POLL=seconds
        poll_first = float(os.environ.get("DATAGEN_BATCH_POLL", POLL_FIRST))
    run.poll_first = poll_first
    return asyncio.run(run.main_batch(jobs, rejected))


class BatchRun(LiveRun):
    mode = "batch"
    poll_first = POLL_FIRST
    refused: FatalRemote | None = None  # a line said the server refuses response_format

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unsent: set[str] = set()  # keys of samples whose image could not be prepared
        self.state: dict[str, Any] = {}  # run.json `batch`: the parts (one batch each) and progress
        self._by_key: dict[str, Work] = {}

    async def main_batch(self, jobs: Iterable[Job], rejected: Iterable[Rejected] = ()) -> RunStats:
        self.stats.batch_discount = BATCH_DISCOUNT
        work = self.start(jobs, rejected)
        state = _load_state(self.store.read_meta().get("batch") or {})
        pending = self._resume(work)
        self.store.open()
        client = ChatClient(self.cfg.base_urls[:1], api_key=self.cfg.api_key, timeout=self.cfg.timeout)
        completed = False  # stays False when Ctrl-C or an error ends the run early
        self.state = state
        try:
            pending = self._rejudge_filtered(pending)
            by_key = {w.key: w for w in pending}
            self.display.start()
            if state.get("parts") and not state.get("collected"):
                ids = ", ".join(p["id"] for p in state["parts"])
                self._say(f"resuming batch {ids} (no new batch is created)")
                if not state.get("submitted"):  # stopped between two parts: send what none holds
                    held = set().union(*(self._keys(p) for p in state["parts"]))
                    await self._submit(client, [w for w in pending if w.key not in held])
            elif pending:
                self.state = state = {"parts": [], "submitted": False, "collected": False}
                for old in stale_parts(self.store.dir):
                    old.unlink()
                await self._submit(client, pending)
            else:
                self.state = state = {}
            if state.get("parts") and not state.get("collected"):
                for part in state["parts"]:
                    if part.get("collected"):
                        continue
                    await self._poll(client, part)
                    await self._collect(client, part, {k: by_key[k] for k in self._keys(part) if k in by_key})
                    part["collected"] = True
                    self._save()
                state["collected"] = True
                if self.refused is not None:  # every line is recorded; now stop like a live run
                    raise self.refused
            completed = True
        except FatalRemote as e:
            raise RemoteError(f"{e}; model {self.cfg.model!r}") from None
        except RequestFailed as e:
            raise RemoteError(
                f"Batch API: {client.redact(e.reason)}", hint="re-run the same command to resume"
            ) from None
        finally:
            await client.aclose()
            if self.images is not None:
                self.images.close()
            self.store.close()
            self.display.stop()
            self._write_meta(final=completed, batch=_mirror(state) or None)
        self.display.summary({"batch": f"{state.get('id', '-')} ({state.get('status', 'nothing to send')})"})
        return self.stats

    def _save(self) -> None:
        self._write_meta(final=False, batch=_mirror(self.state))

    def _keys(self, part: dict[str, Any]) -> set[str]:
        return part_keys(self.store.dir / str(part.get("file") or REQUESTS))

    def _say(self, text: str) -> None:
        if not self.cfg.quiet:
            self.display.console.print(text)

    def _lines(self, pending: list[Work]) -> Iterator[dict[str, Any]]:
        """Batch input lines; with images each body is encoded in worker threads (a bounded window
        of them at a time) and a sample whose image cannot be prepared fails at stage `input`."""
        if self.images is None:
            yield from (batch_line(w.key, w.body) for w in pending)
            return
        images = self.images

        def build(w: Work) -> dict[str, Any] | ImageProblem:
            return ImageProblem(w.problem) if w.problem else body_or_problem(images, w.job)

        for w, got in zip(pending, bounded_map(build, pending, images.pool), strict=True):
            if isinstance(got, ImageProblem):
                self._fail(w, "input", str(got), 0, None)
                self.unsent.add(w.key)
                continue
            self.stats.images += len(w.job.example_images) + 1
            self.stats.image_tokens += images.tokens(w.job)
            yield batch_line(w.key, got)

    async def _submit(self, client: ChatClient, pending: list[Work]) -> None:
        """Write the requests in parts within the API's limits; upload each part and create its
        batch, saving it in run.json, before the next part is written."""
        parts = self.state["parts"]

        async def send(path: Path, requests: int) -> None:
            file_id = await client.upload_batch_file(path)
            meta = {"datagen_run": str(self.store.dir.name)[:64], "part": str(len(parts) + 1)}
            batch = await client.create_batch(file_id, metadata=meta)
            parts.append(
                {
                    "id": batch["id"],
                    "file": path.name,
                    "input_file_id": file_id,
                    "requests": requests,
                    "status": batch.get("status"),
                    "created_at": batch.get("created_at"),
                    "collected": False,
                }
            )
            self._save()  # saved before anything else can go wrong
            self._say(f"created batch {batch['id']} with {requests} requests ({path.name})")

        def too_big(line: dict[str, Any], size: int) -> None:
            w = self._by_key[line["custom_id"]]
            self._fail(
                w, "input", f"request is {size:,} bytes, over the batch file limit; shrink its image", 0, None
            )
            self.unsent.add(w.key)

        self._by_key = {w.key: w for w in pending}
        await write_parts(self.store.dir, self._lines(pending), len(parts) + 1, send, too_big)
        self.state["submitted"] = True
        self._save()

    async def _poll(self, client: ChatClient, state: dict[str, Any]) -> dict[str, Any]:
        interval = self.poll_first
        while True:
            batch = await client.get_batch(state["id"])
            state.update(
                status=batch.get("status"),
                output_file_id=batch.get("output_file_id"),
                error_file_id=batch.get("error_file_id"),
                request_counts=batch.get("request_counts"),
                errors=batch.get("errors"),
            )
            self._save()
            self.display.batch_status(state)
            if state["status"] in TERMINAL:
                return state
            await asyncio.sleep(interval)
            interval = min(POLL_MAX, interval * POLL_GROWTH)

    async def _collect(self, client: ChatClient, state: dict[str, Any], by_key: dict[str, Work]) -> None:
        seen: set[str] = set()
        t0 = time.monotonic()
        for fid in (state.get("output_file_id"), state.get("error_file_id")):
            if not fid:
                continue
            for raw_line in (await client.file_content(fid)).splitlines():
                if not raw_line.strip():
                    continue
                line = json.loads(raw_line)
                w = by_key.get(str(line.get("custom_id")))
                if w is None or w.key in seen:
                    continue  # not ours (parameters changed since the batch was made) or a duplicate
                seen.add(w.key)
                self._collect_line(w, line)
        missing = [w for w in by_key.values() if w.key not in seen and w.key not in self.unsent]
        why = f"batch {state['id']} ended '{state.get('status')}' without an answer for this request"
        if state.get("errors"):
            why += f": {json.dumps(state['errors'])[:300]}"
        for w in missing:
            self._fail(w, "request", why, 1, None)
        self.stats.started = min(self.stats.started, t0)

    def _collect_line(self, w: Work, line: dict[str, Any]) -> None:
        resp = line.get("response") or {}
        body = resp.get("body") or {}
        code = resp.get("status_code")
        if code != 200 or line.get("error"):
            err = line.get("error") or (body.get("error") if isinstance(body, dict) else None) or {}
            msg = err.get("message", "") if isinstance(err, dict) else str(err)
            self._fail(w, "request", f"HTTP {code}: {msg}".strip(), 1, None)
            if rejects_response_format(code, msg):
                self.refused = structured_refused(self.cfg.base_urls[0], code, msg)
            return
        try:
            choice = body["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
            finish = choice.get("finish_reason") or "stop"
        except (KeyError, IndexError, TypeError, AttributeError):
            self._fail(w, "request", "batch output line is not a chat completion", 1, None)
            return
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        self._account(body.get("usage") or {}, {}, 0, usage)
        self._judge_and_store(w, text, finish, 1, usage)


def _load_state(saved: dict[str, Any]) -> dict[str, Any]:
    """run.json's `batch`, with an older single-batch entry read as a run of one part."""
    if not saved or "parts" in saved:
        return saved
    if not saved.get("id"):
        return {}
    part = {k: v for k, v in saved.items() if k not in ("submitted",)}
    part.setdefault("file", REQUESTS)
    return {"parts": [part], "submitted": True, "collected": bool(saved.get("collected"))}


def _mirror(state: dict[str, Any]) -> dict[str, Any]:
    """The state as run.json shows it: the parts, plus the first batch's id and the overall
    status and request count at the top (what a one-part run always showed)."""
    parts = state.get("parts") or []
    if not parts:
        return state
    statuses = [p.get("status") for p in parts]
    open_ = [s for s in statuses if s not in TERMINAL]
    state.update(
        id=parts[0]["id"],
        input_file_id=parts[0].get("input_file_id"),
        requests=sum(int(p.get("requests") or 0) for p in parts),
        status=open_[0] if open_ else statuses[-1],
        batches=len(parts),
    )
    return state
