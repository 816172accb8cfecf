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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from datagen.engine.config import EngineConfig
from datagen.engine.dryrun import batch_line
from datagen.engine.progress import RunStats
from datagen.engine.runner import LiveRun
from datagen.engine.work import Work, task_map
from datagen.errors import RemoteError
from datagen.llm.client import ChatClient, FatalRemote, RequestFailed
from datagen.llm.pricing import BATCH_DISCOUNT
from datagen.llm.remote import rejects_response_format, structured_refused
from datagen.rundir.store import RunStore
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

    async def main_batch(self, jobs: Iterable[Job], rejected: Iterable[Rejected] = ()) -> RunStats:
        self.stats.batch_discount = BATCH_DISCOUNT
        work = self.start(jobs, rejected)
        state = self.store.read_meta().get("batch") or {}
        pending = self._resume(work)
        self.store.open()
        client = ChatClient(self.cfg.base_urls[:1], api_key=self.cfg.api_key, timeout=self.cfg.timeout)
        completed = False  # stays False when Ctrl-C or an error ends the run early
        try:
            pending = self._rejudge_filtered(pending)
            self.display.start()
            if state.get("id") and not state.get("collected"):
                self._say(f"resuming batch {state['id']} (no new batch is created)")
            elif pending:
                state = await self._submit(client, pending)
            else:
                state = {}
            if state.get("id") and not state.get("collected"):
                state = await self._poll(client, state)
                await self._collect(client, state, {w.key: w for w in pending})
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
            self.store.close()
            self.display.stop()
            self._write_meta(final=completed, batch=state or None)
        self.display.summary({"batch": f"{state.get('id', '-')} ({state.get('status', 'nothing to send')})"})
        return self.stats

    def _say(self, text: str) -> None:
        if not self.cfg.quiet:
            self.display.console.print(text)

    async def _submit(self, client: ChatClient, pending: list[Work]) -> dict[str, Any]:
        path = self.store.write_requests(batch_line(w.key, w.body) for w in pending)
        file_id = await client.upload_batch_file(path)
        batch = await client.create_batch(file_id, metadata={"datagen_run": str(self.store.dir.name)[:64]})
        state = {
            "id": batch["id"],
            "input_file_id": file_id,
            "requests": len(pending),
            "status": batch.get("status"),
            "created_at": batch.get("created_at"),
            "collected": False,
        }
        self._write_meta(final=False, batch=state)  # saved before anything else can go wrong
        self._say(f"created batch {state['id']} with {len(pending)} requests")
        return state

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
            self._write_meta(final=False, batch=state)
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
        missing = [w for w in by_key.values() if w.key not in seen]
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
