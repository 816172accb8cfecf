"""`run.json` for a run directory, plus the engine's token counter and prices.

`run.json` holds the config (never the API key: `EngineConfig.public()` drops it, and every string
passes through `redact`), the package version, template hashes, counts, filter counts by name,
tokens and estimated cost. A run directory can be run many times (resume, retries), so each
invocation keeps its own entry in `runs` (rewritten in place while it works) and `tokens`/`cost`
are the sums over all of them: what the directory has cost so far. `batch` (the Batch API job)
is carried over between rewrites so a re-run can resume polling.

`config` describes the latest command. `history` keeps one line per command that wrote into the
directory (its run id, when it started, the command line, tasks, source and mode), so a run
directory filled by several commands (a second task, or another source with `--append`) still
says where each part came from. Values are typed: booleans and numbers stay JSON booleans and numbers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
from collections.abc import Callable
from typing import Any

from datagen.errors import redact

Counter = Callable[[list[dict[str, Any]]], int]
_SEQ = itertools.count(1)


def new_run_id() -> str:
    """Identifies one invocation's entry in run.json `runs`."""
    return f"{dt.datetime.now(dt.timezone.utc).strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{next(_SEQ)}"


def token_counter(model: str) -> Counter:
    """Prompt-token count for chat messages: tiktoken offline when possible, else chars/4.

    Loaded on first use: loading a vocabulary takes ~1 s and only `--tpm` (or a server-advertised
    token limit) needs counts before sending."""
    loaded: list[Counter] = []

    def count(messages: list[dict[str, Any]]) -> int:
        if not loaded:
            try:
                from datagen.llm.tokens import counter_for

                loaded.append(counter_for(model).messages)
            except ImportError:  # pragma: no cover - tokens.py ships with the package
                loaded.append(lambda msgs: sum(4 + len(str(m.get("content", ""))) // 4 for m in msgs) + 3)
        return loaded[0](messages)

    return count


def price_pair(
    model: str, price_in: float | None, price_out: float | None
) -> tuple[float | None, float | None]:
    """USD per 1M tokens (in, out): user values win, else the built-in table, else unknown."""
    try:
        from datagen.llm.pricing import price_for

        p = price_for(model, price_in, price_out)
        return (p.input_per_million, p.output_per_million) if p else (None, None)
    except ImportError:
        return price_in, price_out


def write_run_meta(
    store: Any,
    cfg: Any,
    stats: Any,
    template_hashes: dict[str, str],
    extra: dict[str, Any],
    *,
    final: bool,
    mode: str,
    run_id: str,
    batch: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from datagen import __version__

    prev = store.read_meta()
    runs = [r for r in prev.get("runs", []) if r.get("run_id") != run_id]
    runs.append(
        {
            "run_id": run_id,
            "mode": mode,
            "finished": final,
            "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            **stats.as_dict(),
            "cost_usd": stats.cost(),
        }
    )
    config = {**(cfg.public() if cfg is not None else {}), **extra}
    # the command line and --append describe this invocation: they go to `history`, not config
    command, append = config.pop("command", None), bool(config.pop("append", False))
    # Inputs refused before any call are failures (stage filter) like any other, counted by filter.
    failed, filters = dict(stats.failed), dict(stats.filtered)
    for name, n in stats.precall.items():
        failed["filter"] = failed.get("filter", 0) + n
        filters[name] = filters.get(name, 0) + n
    known_costs = [r["cost_usd"] for r in runs if r.get("cost_usd") is not None]
    meta = {
        "datagen_version": __version__,
        "mode": mode,
        "config": config,
        "template_hashes": {**prev.get("template_hashes", {}), **template_hashes},
        "counts": {
            "samples": stats.total,
            "done": stats.skipped + stats.ok,
            "succeeded_this_run": stats.ok,
            "failed": failed,
            "flagged_before_call": sum(stats.precall.values()),
        },
        "filters": filters,
        "tokens": {
            "prompt": sum(int(r.get("prompt_tokens", 0)) for r in runs),
            "completion": sum(int(r.get("completion_tokens", 0)) for r in runs),
        },
        "cost": {
            "usd": round(sum(known_costs), 6) if known_costs else None,
            "price_in_per_million": stats.price_in,
            "price_out_per_million": stats.price_out,
            "note": "estimate from returned usage and list prices",
        },
        "runs": runs,
        "history": _history(prev, run_id, mode, command, config, append),
    }
    if batch is not None or "batch" in prev:
        meta["batch"] = batch if batch is not None else prev["batch"]
    # The key never reaches disk: config has no key field, and any stray copy is masked here.
    extra_secrets = (cfg.api_key,) if cfg is not None and cfg.api_key else ()
    meta = json.loads(redact(json.dumps(meta), extra_secrets))
    store.write_meta(meta)
    return meta


def _history(
    prev: dict[str, Any], run_id: str, mode: str, command: str | None, config: dict[str, Any], append: bool
) -> list[dict[str, Any]]:
    """run.json's `history`: the earlier commands' lines as they were, plus this one's (added once)."""
    old = [h for h in prev.get("history", []) if isinstance(h, dict)]
    if any(h.get("run_id") == run_id for h in old):
        return old
    entry = {
        "run_id": run_id,
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "mode": mode,
        "tasks": config.get("tasks"),
        "source": config.get("source"),
    }
    if append:
        entry["append"] = True
    return [*old, entry]
