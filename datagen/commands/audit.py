"""`datagen audit INPUT... --out DIR`: how true, clean and varied a data set is (see docs/audit.md).

`--compare A B` audits two inputs and writes the figures side by side with their differences.
`--fail-on "chair_s>0.2,near_dup>0.05"` exits with code 1 when a threshold is passed (after writing).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from datagen.commands import _engine_opts as E
from datagen.commands._sources import COCO, SPLIT

_SHORT = {"samples": "n", "count_wrong": "count✗", "box_unmatched": "box✗", "near_dup": "near-dup"}


def _table(title: str, groups: dict[str, dict[str, Any]], columns: list[str]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("group", overflow="fold")
    for c in columns:
        table.add_column(_SHORT.get(c, c), justify="right", no_wrap=True)
    for name, figs in groups.items():
        if name.startswith("input:") and len([g for g in groups if g.startswith("input:")]) < 2:
            continue  # one input: its row repeats "overall"
        cells = []
        for c in columns:
            v = figs.get(c)
            cells.append("–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v))
        table.add_row(name, *cells)
    return table


def audit(
    inputs: list[Path] = typer.Argument(
        None, metavar="INPUT...", help="Run dirs, results.jsonl, LLaVA JSON files or `export hf` folders."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="DIR", help="Folder for audit.json, flags.jsonl, report.html."
    ),
    instances: Path | None = typer.Option(
        None, "--instances", metavar="FILE", help="A COCO instances_*.json file as ground truth."
    ),
    coco: Path | None = COCO,
    split: str | None = SPLIT,
    contexts: list[Path] = typer.Option(
        [],
        "--contexts",
        metavar="FILE.jsonl",
        help="Context records (from `datagen context`) as ground truth.",
    ),
    images: Path | None = typer.Option(
        None,
        "--images",
        metavar="ROOT",
        help="Show the worst examples beside their images (paths under ROOT).",
    ),
    embed: bool = typer.Option(False, "--embed", help="With --images: embed thumbnails (one portable file)."),
    threshold: float = typer.Option(
        0.8, "--near-dup-threshold", help="Jaccard similarity of near-duplicates."
    ),
    shingle: int = typer.Option(3, "--shingle", min=1, help="Tokens per shingle for near-duplicates."),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        metavar="CONDITIONS",
        help='Exit 1 when a figure passes a threshold, e.g. "chair_s>0.2,near_dup>0.05".',
    ),
    compare: tuple[Path, Path] | None = typer.Option(
        None, "--compare", metavar="A B", help="Audit two inputs and put every figure side by side."
    ),
    no_html: bool = typer.Option(False, "--no-html", help="Write audit.json and flags.jsonl only."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the files of an earlier audit in --out."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the distinct-n sample."),
    executor: str = E.EXECUTOR,
    ray_address: str | None = E.RAY_ADDRESS,
    workers: int = E.WORKERS,
) -> None:
    """Audit generated samples: object hallucination (CHAIR) against COCO labels, box and count claims,
    format hygiene, near-duplicates and balance."""
    from rich.console import Console

    from datagen.audit.run import HEADLINE, AuditOptions
    from datagen.audit.truth import TruthSpec
    from datagen.errors import UsageError
    from datagen.export.outputs import claim_output
    from datagen.rundir.samples import refuse_overwriting_inputs
    from datagen.tasks.neardup import MinHashSpec

    spec = TruthSpec(instances=instances, coco=coco, split=split, contexts=list(contexts))
    opts = AuditOptions(minhash=MinHashSpec(threshold, shingle), images=images, embed=embed,
                        html=not no_html, seed=seed, fail_on=fail_on,
                        executor=E.executor_spec({"executor": executor, "ray_address": ray_address,
                                                  "workers": workers}))  # fmt: skip
    # A log or CI page is not a terminal: give the table room instead of folding every cell.
    console = Console(width=None if sys.stdout.isatty() else 140)
    if out.is_dir() or not out.exists():
        claim_output(out, overwrite=overwrite, folder=True)  # a file as --out: run_audit says so
    if compare:
        if inputs:
            raise UsageError(
                "--compare A B takes its two inputs itself", hint="drop the other INPUT arguments"
            )
        from datagen.audit.compare import run_compare

        refuse_overwriting_inputs(list(compare), [out], replaces_folder=True)
        compared = run_compare(compare[0], compare[1], spec, out, opts)
        console.print(compared.table())
        written, failed = compared.written, compared.failed
    else:
        if not inputs:
            raise UsageError("no inputs given", hint="datagen audit RUN_DIR|FILE... --out DIR")
        from datagen.audit.run import run_audit

        refuse_overwriting_inputs(inputs, [out], replaces_folder=True)
        result = run_audit(list(inputs), spec, out, opts)
        cols = [c for c in HEADLINE if c not in ("yes_share", "distinct_2", "no_truth")]
        console.print(_table(f"audit of {', '.join(map(str, inputs))}", result.figures["groups"], cols))
        b = result.figures["balance"]
        console.print(
            f"yes share {b['yes_no']['yes_share']} · distinct-2 {b['distinct_n']['distinct_2']} · "
            f"images not in the ground truth: {result.figures['groups']['overall']['no_truth']}",
            highlight=False,
        )
        written, failed = result.written, result.failed
    typer.echo(f"Wrote {', '.join(str(p) for p in written)}")
    if failed:
        typer.echo("Audit failed: " + "; ".join(failed), err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
