"""Engine options of `datagen generate` (how requests are sent), kept apart from the source options.

`engine_config(locals())` turns the parsed flags into an `EngineConfig`; the command stays a thin shell.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from datagen.common.ray_cluster import ExecutorSpec
from datagen.common.shard import parse_shard
from datagen.engine.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_LOG_EVERY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_PROMPT_TOKENS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MODEL,
    DEFAULT_TEMPERATURE,
    DEFAULT_TIMEOUT,
    EngineConfig,
)
from datagen.prompts.vision import VisionOptions

BATCH = typer.Option(
    False, "--batch", help="Use the OpenAI Batch API (half price, up to 24 h); re-run to resume polling."
)
BASE_URL = typer.Option(
    None,
    "--base-url",
    show_default="$OPENAI_BASE_URL, else OpenAI",
    help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1. "
    "Repeat to spread requests over several replicas.",
)
CONCURRENCY = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", min=1, help="Requests in flight at most.")
RPM = typer.Option(None, "--rpm", min=0.001, help="Client-side limit: requests per minute.")
TPM = typer.Option(None, "--tpm", min=1.0, help="Client-side limit: tokens per minute (prompt + reply).")
TIMEOUT = typer.Option(
    DEFAULT_TIMEOUT,
    "--timeout",
    min=0.1,
    help="Seconds one request may take in all (connect, headers, the whole reply) before it is retried.",
)
MAX_PROMPT_TOKENS = typer.Option(
    DEFAULT_MAX_PROMPT_TOKENS,
    "--max-prompt-tokens",
    min=0,
    help="Do not send prompts longer than this (counted in failures.jsonl as filter max_prompt_tokens); 0: no limit.",
)
MAX_ATTEMPTS = typer.Option(
    DEFAULT_MAX_ATTEMPTS,
    "--max-attempts",
    min=1,
    help="Asks per sample when a reply is cut off or does not parse.",
)
MAX_RETRIES = typer.Option(
    DEFAULT_MAX_RETRIES,
    "--max-retries",
    min=0,
    help="HTTP retries per ask (429, 5xx, timeouts, dropped connections).",
)
SHARD = typer.Option(
    None, "--shard", help="K/N: take a deterministic 1/N of the samples (K = 0..N-1), e.g. for a Slurm array."
)
MODEL = typer.Option(DEFAULT_MODEL, "--model", help="Model name as the server knows it.")
TEMPERATURE = typer.Option(
    DEFAULT_TEMPERATURE, "--temperature", min=0.0, max=2.0, help="Sampling temperature."
)
QUIET = typer.Option(False, "--quiet", "-q", help="No progress display, summary table or next steps.")
LOG_EVERY = typer.Option(
    DEFAULT_LOG_EVERY,
    "--log-every",
    min=0.1,
    metavar="SECONDS",
    help="When stderr is not a terminal (nohup, Slurm, CI): one progress line every SECONDS.",
)
JSON_PROGRESS = typer.Option(
    False, "--json-progress", help="Progress and the summary as JSON lines on stderr, for machines."
)
STRUCTURED = typer.Option(
    False,
    "--structured",
    help="Ask for JSON replies of each task's schema (response_format json_schema); the few-shot "
    "answers are shown as JSON too.",
)
EXECUTOR = typer.Option(
    "local",
    "--executor",
    help="local: this process; ray: a Ray Data job, on --ray-address or a Ray started here (pip install 'datagen[ray]').",
)
RAY_ADDRESS = typer.Option(
    None,
    "--ray-address",
    help="With --executor ray: auto, ray://HOST:10001 or HOST:6379; without it a Ray for this machine is started.",
)
WORKERS = typer.Option(2, "--workers", min=1, help="With --executor ray: actors in the pool.")
NO_FILTER = typer.Option(None, "--no-filter", help="Disable a quality filter by name (repeatable).")
FILTER = typer.Option(
    None,
    "--filter",
    help="Turn on an optional filter by name (repeatable): hallucination, near_duplicate (LLaVA tasks).",
)


IMAGE_INPUT = typer.Option(
    "none",
    "--image-input",
    help="Show the model each sample's image: none (text only, LLaVA's recipe) | base64 | url.",
)
IMAGE_URL_PREFIX = typer.Option(
    None, "--image-url-prefix", help="url mode: the image's URL is this prefix + the record's image name."
)
IMAGE_MAX_SIDE = typer.Option(
    None,
    "--image-max-side",
    min=16,
    help="Shrink images so the longer side is at most N pixels (aspect kept).",
)
IMAGE_FORMAT = typer.Option("jpeg", "--image-format", help="Encoding of the images sent: jpeg | png | webp.")
IMAGE_QUALITY = typer.Option(
    85, "--image-quality", min=1, max=100, help="JPEG / WebP quality of the images sent."
)
IMAGE_DETAIL = typer.Option(
    None,
    "--image-detail",
    show_default="not sent",
    help="OpenAI's image detail: low | high | auto.",
)
IMAGE_TOKENS = typer.Option(
    None,
    "--image-tokens",
    min=0,
    show_default="the model's rule",
    help="Prompt tokens per image for estimates and --tpm.",
)


def vision_options(options: Mapping[str, Any]) -> VisionOptions:
    """`--image-input` and its settings; images are looked up under `--images`, else (with
    `--coco DIR --split S`) under DIR/S, else at the record's own `image` path."""
    if (options.get("image_input") or "none") == "none":
        vision = VisionOptions(
            max_side=options.get("image_max_side"),
            detail=options.get("image_detail"),
            image_tokens=options.get("image_tokens"),
            url_prefix=options.get("image_url_prefix"),
        )
        vision.check()  # image settings without --image-input are a usage error
        return vision
    images = options.get("images")
    coco, split = options.get("coco"), options.get("split")
    if images is None and coco is not None and split and (Path(coco) / split).is_dir():
        images = Path(coco) / split
    vision = VisionOptions(
        mode=options.get("image_input") or "none",
        images=str(images) if images is not None else None,
        url_prefix=options.get("image_url_prefix"),
        max_side=options.get("image_max_side"),
        format=options.get("image_format") or "jpeg",
        quality=options.get("image_quality") or 85,
        detail=options.get("image_detail"),
        image_tokens=options.get("image_tokens"),
    )
    vision.check()
    return vision


def engine_config(options: Mapping[str, Any]) -> EngineConfig:
    """The engine part of a command's options (commands pass `locals()`), as an `EngineConfig`.

    Flags are taken by field name; the two that differ are `--base-url` (repeatable, a list) and
    `--shard` (text, parsed here so a bad value is a usage error before anything runs)."""
    fields = {f.name for f in dataclasses.fields(EngineConfig)} - {"base_urls", "shard", "api_key", "vision"}
    return EngineConfig(
        **{k: options[k] for k in fields if k in options},
        base_urls=list(options.get("base_url") or []),
        shard=parse_shard(options.get("shard")),
        vision=vision_options(options),
    )


def executor_spec(options: Mapping[str, Any]) -> ExecutorSpec:
    """`--executor`, `--ray-address`, `--workers` as an `ExecutorSpec` (checked before any work)."""
    return ExecutorSpec(
        kind=str(options.get("executor") or "local"),
        address=options.get("ray_address"),
        workers=int(options.get("workers") or 2),
    )


def echo_next_steps(out: Any, stats: list[Any], cfg: EngineConfig, *, images: Any = None) -> None:
    """After a run: where the results are, what to run next, why the cost is `$?`, the top failure
    reasons (stderr; nothing with --quiet, one JSON line with --json-progress)."""
    if cfg.quiet:
        return
    from datagen.engine.nextsteps import next_steps

    lines = next_steps(out, stats, images=images, model=cfg.model)
    if cfg.json_progress:
        import json

        typer.echo(json.dumps({"event": "next", "lines": lines}), err=True)
        return
    for line in lines:
        typer.echo(line, err=True)
