"""The run directory side of a live or batch run: what is left to do, what each sample already
cost, the end-of-run tidy-up and `run.json`.

Step in the flow: `LiveRun` (and `BatchRun`) inherit this. Reading comes first and writes
nothing: an old failure line stays in failures.jsonl until the line that replaces it (a result,
or a newer failure of the same request key) is appended, so a kill at any instant loses no sample;
`finish` compacts the file once the run ends (docs/reliability.md).
"""

from __future__ import annotations

from typing import Any

from datagen.common.faults import kill_point
from datagen.engine.meta import write_run_meta
from datagen.engine.progress import ProgressDisplay, RunStats
from datagen.engine.work import Work, carried_usage
from datagen.rundir.store import RunStore


class RunFiles:
    store: RunStore
    stats: RunStats
    display: ProgressDisplay
    cfg: Any
    meta: dict[str, Any]
    run_id: str
    mode = "live"

    def _init_files(self) -> None:
        self._old_failures: dict[str, dict[str, Any]] = {}
        self._tokens_before: tuple[int, int] | None = None
        self._template_hashes: dict[str, str] = {}
        self._work_ids: set[str] = set()
        self._work_keys: set[str] = set()

    def _resume(self, work: list[Work]) -> list[Work]:
        """What is left to do. Reads only (and checks: a corrupt results line stops the run here)."""
        done = self.store.done_keys()
        self._work_keys = {w.key for w in work}
        self._work_ids = {w.job.sample_id for w in work}
        failures = self.store.load_failures()
        self._old_failures = {
            f["request_key"]: f for f in failures if f.get("request_key") in self._work_keys - done
        }
        self._tokens_before = self.store.spent_tokens()
        self.stats.total = len(work)
        pending = [w for w in work if w.key not in done]
        self.stats.skipped = len(work) - len(pending)
        return pending

    def _carried(self, w: Work) -> dict[str, int]:
        return carried_usage(self._old_failures.get(w.key))

    def finish(self, completed: bool, batch: dict[str, Any] | None = None) -> None:
        """Close the files, drop the failure lines this run superseded, write run.json. After a
        completed run, an image problem (stage `input`) of a sample whose image was looked at
        again under another key is gone too."""
        self.store.close()
        self.display.stop()
        kill_point("run:before-compact")
        stale = self._work_ids if completed else set()
        self.store.compact_failures(
            drop=lambda f: (
                f.get("stage") == "input"
                and f.get("sample_id") in stale
                and f.get("request_key") not in self._work_keys
            )
        )
        self._write_meta(final=completed, batch=batch)

    def _write_meta(self, *, final: bool, batch: dict[str, Any] | None = None) -> None:
        write_run_meta(
            self.store,
            self.cfg,
            self.stats,
            self._template_hashes,
            self.meta,
            final=final,
            mode=self.mode,
            run_id=self.run_id,
            batch=batch,
            tokens_before=self._tokens_before,
        )
