"""Dry run: write the exact requests a run would send as OpenAI Batch API input, and estimate cost.

`RUN_DIR/requests.jsonl` gets one line per job: `{"custom_id": sample_id, "method": "POST",
"url": "/v1/chat/completions", "body": {model, messages, max_tokens, temperature, seed}}`, which is
also what `openai batches create` accepts (the body is `config.request_body`'s, as live runs send
it). Nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
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
    images: int = 0  # images in the requests (--image-input)
    image_tokens: int = 0  # their estimated prompt tokens (included in prompt_tokens)
    image_method: str = ""
    image_problems: list[tuple[str, str]] = field(default_factory=list)  # (sample id, reason): left out

    def lines(self) -> list[str]:
        from datagen.llm.pricing import format_usd

        tasks = ", ".join(f"{t} {n}" for t, n in self.per_task.items())
        out = [
            f"wrote {self.requests} requests ({tasks}) to {self.path}",
            f"prompt tokens: {self.prompt_tokens:,} ({self.token_method}); "
            f"completion tokens at most {self.max_completion_tokens:,} (max_tokens)",
        ]
        if self.images:
            out.append(
                f"images: {self.images:,}, about {self.image_tokens:,} of the prompt tokens ({self.image_method})"
            )
        if self.image_problems:
            sid, why = self.image_problems[0]
            out.append(
                f"left out {len(self.image_problems)} sample(s) whose image cannot be sent "
                f"(first: {sid}: {why})"
            )
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

    Lines are streamed to the file, so with images only a few encoded ones exist at a time."""
    counter = counter_for(params.model)
    summary = DryRunSummary(
        path=RunStore(run_dir).requests_path,
        requests=0,
        prompt_tokens=0,
        max_completion_tokens=0,
        token_method=counter.method,
        price=price_for(params.model, price_in, price_out),
        per_task={},
    )

    def lines() -> Iterator[dict[str, Any]]:
        for job, body in _bodies(list(jobs), params, summary):
            line = batch_line(job.sample_id, body)
            summary.requests += 1
            summary.prompt_tokens += counter.messages(job.messages)
            summary.max_completion_tokens += body["max_tokens"]
            summary.per_task[job.task] = summary.per_task.get(job.task, 0) + 1
            yield line

    summary.path = RunStore(run_dir).write_requests(lines())
    summary.prompt_tokens += summary.image_tokens
    return summary


def _bodies(
    jobs: list[Job], params: GenerationParams, summary: DryRunSummary
) -> Iterator[tuple[Job, dict[str, Any]]]:
    if not params.vision.on:
        yield from ((job, request_body(job, params)) for job in jobs)
        return
    from datagen.engine.vision import Images, body_or_problem, bounded_map
    from datagen.llm.tokens import image_token_method
    from datagen.prompts.images import ImageProblem

    images = Images(params)
    summary.image_method = image_token_method(params.model, params.vision.image_tokens)
    try:
        images.probe_all(jobs)
        sendable = []
        for job in jobs:
            try:
                images.images_key(job)
                sendable.append(job)
            except ImageProblem as e:
                summary.image_problems.append((job.sample_id, str(e)))
        for job, got in zip(
            sendable, bounded_map(lambda j: body_or_problem(images, j), sendable, images.pool), strict=True
        ):
            if isinstance(got, ImageProblem):
                summary.image_problems.append((job.sample_id, str(got)))
                continue
            summary.images += len(job.example_images) + 1
            summary.image_tokens += images.tokens(job)
            yield job, got
    finally:
        images.close()
