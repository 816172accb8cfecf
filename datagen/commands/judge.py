"""`datagen judge INPUT... --model M --out JUDGE_DIR`: a model scores every sample 1-10 (thin CLI shell
over `engine.generate.run_generate` with the `judge` / `judge_pairwise` tasks)."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import _engine_opts as E
from datagen.commands import _sources as S


def judge(
    inputs: list[Path] | None = typer.Argument(
        None, help="Run dirs, results.jsonl files, LLaVA JSON arrays or HF dataset folders to score."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Judge directory: results.jsonl (one score per sample), ..."
    ),
    pairwise: tuple[Path, Path] | None = typer.Option(
        None,
        "--pairwise",
        metavar="A B",
        help="Compare two inputs sample by sample (positions swapped on every other pair) and print "
        "LLaVA-Bench's relative score of B to A with a bootstrap confidence interval.",
    ),
    rubric: str | None = typer.Option(
        None,
        "--rubric",
        show_default="default",
        help="A rubric under templates/judge/ (e.g. pairwise) or a folder of your own.",
    ),
    contexts: list[Path] | None = typer.Option(
        None,
        "--contexts",
        help="Context JSONL (`datagen context --out`) with the samples' captions and boxes.",
    ),
    coco: Path | None = S.COCO,
    split: str | None = S.SPLIT,
    captions: Path | None = S.CAPTIONS,
    instances: Path | None = S.INSTANCES,
    input: Path | None = S.INPUT,
    skip_crowd: bool = S.SKIP_CROWD,
    model: str = E.MODEL,
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, max=2.0, help="Sampling temperature."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", min=1, help="Verdict length cap."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap resampling."),
    bootstrap: int | None = typer.Option(
        None, "--bootstrap", min=100, show_default="2000", help="Bootstrap resamples."
    ),
    limit: int | None = typer.Option(
        None, "--limit", min=1, help="Score only the first N samples (or pairs)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Write JUDGE_DIR/requests.jsonl only; send nothing."
    ),
    batch: bool = E.BATCH,
    structured: bool = E.STRUCTURED,
    base_url: list[str] | None = E.BASE_URL,
    concurrency: int = E.CONCURRENCY,
    rpm: float | None = E.RPM,
    tpm: float | None = E.TPM,
    timeout: float = E.TIMEOUT,
    max_attempts: int = E.MAX_ATTEMPTS,
    max_retries: int = E.MAX_RETRIES,
    shard: str | None = E.SHARD,
    quiet: bool = E.QUIET,
    log_every: float = E.LOG_EVERY,
    json_progress: bool = E.JSON_PROGRESS,
    price_in: float | None = typer.Option(None, "--price-in", min=0.0, help="USD per 1M prompt tokens."),
    price_out: float | None = typer.Option(
        None, "--price-out", min=0.0, help="USD per 1M completion tokens."
    ),
) -> None:
    """Score samples with a model: accuracy against the image's captions and boxes, helpfulness,
    grounding, and a 1-10 score with a short reason (or compare two inputs with --pairwise)."""
    given = dict(locals())
    from datagen.engine.generate import run_generate
    from datagen.engine.options import run_mode, task_options
    from datagen.errors import DatagenError, UsageError
    from datagen.sources.load import SourceSpec, check_spec
    from datagen.sources.recorded import record_source
    from datagen.tasks.judge.relative import report_lines

    if bool(pairwise) == bool(inputs):
        raise UsageError("give the samples to score (INPUT...) or --pairwise A B, not both or neither")
    name = "judge_pairwise" if pairwise else "judge"
    spec = S.source_spec(given)
    source = None
    if spec.given():
        check_spec(spec)
        source = record_source(spec)
    flags = {
        "inputs": [str(p) for p in inputs or []],
        "pairwise": [str(p) for p in pairwise or ()],
        "rubric": rubric,
        "contexts": [str(p) for p in contexts or []],
        "source": source,
        "bootstrap": bootstrap,
    }
    opts = task_options([name], seed=seed, structured=structured, flags=flags)
    mode = run_mode(dry_run=dry_run, batch=batch)
    result = run_generate(
        [name],
        source=SourceSpec(),
        opts=opts,
        cfg=E.engine_config(given),
        out=out,
        mode=mode,
        limit=limit,
        requested="judge",
        note=lambda text: typer.echo(text, err=True),
    )
    for line in result.lines:
        typer.echo(line)
    if mode == "dry-run":
        return
    lines = report_lines(out, pairwise=bool(pairwise))
    if not lines:
        raise DatagenError(f"no sample was scored in {out}", hint=f"see {out / 'failures.jsonl'} for why")
    for line in lines:
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("judge")(judge)
