"""`datagen cc3m filter INPUT --out DIR`: CC3M concept-balanced filtering (LLaVA-CC3M-Pretrain-595K)."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.commands import _engine_opts as E
from datagen.errors import DatagenError


def register(app: typer.Typer) -> None:
    cc3m_app = typer.Typer(
        help="CC3M concept-balanced filtering (the LLaVA-CC3M-Pretrain-595K recipe).", no_args_is_help=True
    )

    @cc3m_app.command("filter")
    def filter_cmd(
        input: Path = typer.Argument(
            ..., help="CC3M TSV (caption<TAB>url, no header), or .jsonl / .parquet with caption and url."
        ),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Output folder: chat.json, metadata.json, stats.json."
        ),
        min_freq: int = typer.Option(
            3, "--min-freq", help="Keep noun phrases found in at least this many captions."
        ),
        max_per_phrase: int = typer.Option(
            100, "--max-per-phrase", help="At most this many captions sampled per phrase."
        ),
        seed: int = typer.Option(
            0,
            "--seed",
            help="Seed of the selection RNG (the instruction draw uses its own RNG seeded from it).",
        ),
        sample_from: str = typer.Option(
            "all",
            "--sample-from",
            help="all: sample among all captions of a phrase (the paper); remaining: among those not yet pooled.",
        ),
        spacy_model: str = typer.Option(
            "en_core_web_sm", "--spacy-model", help="spaCy model name or folder."
        ),
        batch_size: int = typer.Option(256, "--batch-size", help="Captions per spaCy batch."),
        chunk_size: int = typer.Option(
            10_000, "--chunk-size", help="Captions per cache chunk (the unit of resume and sharding)."
        ),
        cache_dir: Path | None = typer.Option(
            None, "--cache-dir", show_default="OUT/.cc3m-cache", help="Noun-phrase cache root."
        ),
        shard: str | None = typer.Option(
            None,
            "--shard",
            help="K/N: only extract slice K of N (K from 0: 0/4 .. 3/4) into the cache, then stop.",
        ),
        select_only: bool = typer.Option(
            False, "--select-only", help="Fail instead of extracting if the cache is incomplete."
        ),
        id_prefix: str = typer.Option(
            "GCC_train_", "--id-prefix", help="Record id / image name prefix before the 9-digit row index."
        ),
        instructions: Path | None = typer.Option(
            None, "--instructions", help="File with one brief-description instruction per line."
        ),
        plot: bool = typer.Option(
            False, "--plot", help="Also write phrase_frequencies.png (needs matplotlib)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
        log_every: float = typer.Option(
            30.0,
            "--log-every",
            min=0.1,
            metavar="SECONDS",
            help="When stderr is not a terminal (nohup, Slurm, CI): one progress line every SECONDS.",
        ),
        executor: str = E.EXECUTOR,
        ray_address: str | None = E.RAY_ADDRESS,
        workers: int = E.WORKERS,
    ) -> None:
        """Pick a concept-balanced subset of CC3M by noun-phrase frequency and write it in LLaVA's layout."""
        from datagen.cc3m.pipeline import FilterOptions, run_filter
        from datagen.common.shard import parse_shard

        opts = FilterOptions(
            input=input, out=out, min_freq=min_freq, max_per_phrase=max_per_phrase, seed=seed, sample_from=sample_from,
            spacy_model=spacy_model, batch_size=batch_size, chunk_size=chunk_size, cache_dir=cache_dir,
            shard=parse_shard(shard), select_only=select_only, id_prefix=id_prefix, instructions=instructions,
            plot=plot, quiet=quiet, log_every=log_every, executor=E.executor_spec(locals()),
        )  # fmt: skip
        try:
            result = run_filter(opts)
        except OSError as e:
            # A folder that cannot be created or written (a file in the way, a read-only disk, no
            # space): the user's to fix, so an Error line rather than an "internal error".
            raise DatagenError(
                f"{e.filename or out}: {e.strerror or e}",
                hint="check that --out (and --cache-dir) name a folder you can write to",
            ) from e
        if quiet:
            return
        ex = result["extraction"]
        extracted = f"extracted {ex['chunks_extracted']} chunk(s), reused {ex['chunks_reused']}"
        if "shard" in result:
            typer.echo(f"shard {result['shard']}: {extracted}; cache {result['cache']}", err=True)
            typer.echo("When every shard is done, run the same command without --shard to select.", err=True)
            return
        typer.echo(
            f"{result['captions']:,} captions ({result['skipped']:,} lines skipped), "
            f"{result['unique_phrases']:,} phrases, {result['unique_phrases_kept']:,} with freq >= {min_freq}; "
            f"pool {result['pool_size']:,} pairs → {out / 'chat.json'} ({extracted})",
            err=True,
        )

    app.add_typer(cc3m_app, name="cc3m")
