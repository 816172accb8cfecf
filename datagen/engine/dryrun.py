"""Dry run: write the exact requests a run would send as OpenAI Batch API input, and estimate cost.

`RUN_DIR/requests.jsonl` gets one line per job: `{"custom_id": sample_id, "method": "POST",
"url": "/v1/chat/completions", "body": {model, messages, max_tokens, temperature, seed}}`, which is
also what `openai batches create` accepts (the body is `config.request_body`'s, as live runs send
it). Nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datagen.engine.config import GenerationParams, request_body
from datagen.llm.pricing import BATCH_DISCOUNT, Price, price_for
from datagen.llm.tokens import counter_for
from datagen.rundir.store import RunStore
from datagen.tasks.base import Job

BATCH_URL = "/v1/chat/completions"


@dataclass
class DryRunSummary:
    path: Path
    requests: int
    prompt_tokens: int
    max_completion_tokens: int
    token_method: str
    price: Price | None
    per_task: dict[str, int]

    def lines(self) -> list[str]:
        from datagen.llm.pricing import format_usd

        tasks = ", ".join(f"{t} {n}" for t, n in self.per_task.items())
        out = [
            f"wrote {self.requests} requests ({tasks}) to {self.path}",
            f"prompt tokens: {self.prompt_tokens:,} ({self.token_method}); "
            f"completion tokens at most {self.max_completion_tokens:,} (max_tokens)",
        ]
        if self.price is not None:
            p = self.price
            out.append(
                f"cost: prompts {format_usd(p.cost(self.prompt_tokens))}, at most "
                f"{format_usd(p.cost(self.prompt_tokens, self.max_completion_tokens))} with full-length replies "
                f"({BATCH_DISCOUNT:.0%} of that with --batch); prices per 1M tokens in/out: "
                f"${p.input_per_million}/${p.output_per_million} ({p.source})"
            )
        else:
            out.append("cost: unknown price for this model (pass --price-in/--price-out, USD per 1M tokens)")
        return out


def batch_line(custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """One Batch API input line (what `requests.jsonl` holds, and what `--batch` uploads)."""
    return {"custom_id": custom_id, "method": "POST", "url": BATCH_URL, "body": body}


def write_dry_run(
    jobs: Iterable[Job],
    run_dir: str | Path,
    params: GenerationParams,
    *,
    price_in: float | None = None,
    price_out: float | None = None,
) -> DryRunSummary:
    """Write `run_dir/requests.jsonl` (atomically) and return counts, token estimate and price.

    Lines are written as they are made (never all held at once: at 100K+ jobs the bodies alone
    would be gigabytes)."""
    counter = counter_for(params.model)
    totals = {"requests": 0, "prompt": 0, "completion": 0}
    per_task: dict[str, int] = {}

    def lines() -> Iterator[dict[str, Any]]:
        for job in jobs:
            line = batch_line(job.sample_id, request_body(job, params))
            totals["requests"] += 1
            totals["prompt"] += counter.messages(job.messages)
            totals["completion"] += line["body"]["max_tokens"]
            per_task[job.task] = per_task.get(job.task, 0) + 1
            yield line

    path = RunStore(run_dir).write_requests(lines())
    return DryRunSummary(
        path=path,
        requests=totals["requests"],
        prompt_tokens=totals["prompt"],
        max_completion_tokens=totals["completion"],
        token_method=counter.method,
        price=price_for(params.model, price_in, price_out),
        per_task=per_task,
    )
