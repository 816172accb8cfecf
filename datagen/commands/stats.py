"""`datagen stats INPUT...`: task mix, turn counts, length distributions and filter drops (thin CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def _dist_cells(d: dict[str, Any]) -> list[str]:
    if not d.get("count"):
        return ["-"] * 5
    return [str(d["min"]), str(d["median"]), str(d["p90"]), str(d["max"]), str(d["mean"])]


def render(stats: dict[str, Any]) -> None:
    """Rich tables for humans; the same numbers as `--json`."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    mix = Table(title=f"{stats['samples']} samples in {', '.join(stats['inputs'])}")
    mix.add_column("task", no_wrap=True)
    for col in ("samples", "share", "LLaVA-158K", "LLaVA share"):
        mix.add_column(col, justify="right")
    mix.add_column("turns: samples")
    for task, t in stats["tasks"].items():
        llava = t["llava_158k_samples"]
        mix.add_row(
            task,
            str(t["samples"]),
            f"{t['share']:.1%}",
            f"{llava // 1000}K" if llava else "-",
            f"{t['llava_158k_share']:.1%}" if llava else "-",
            ", ".join(f"{k}: {v}" for k, v in t["turns_per_conversation"].items()),
        )
    console.print(mix)

    lengths = Table(title="Length in words (min / median / p90 / max / mean)")
    for col in ("task", "turn", "min", "median", "p90", "max", "mean"):
        lengths.add_column(col, justify="left" if col in ("task", "turn") else "right", no_wrap=True)
    for task, t in stats["tasks"].items():
        lengths.add_row(task, "question", *_dist_cells(t["question_words"]))
        lengths.add_row("", "answer", *_dist_cells(t["answer_words"]))
    console.print(lengths)

    if stats["failures_by_stage"] or stats["filter_drops"]:
        drops = Table(title="Dropped samples")
        drops.add_column("stage / filter")
        drops.add_column("count", justify="right")
        for stage, n in stats["failures_by_stage"].items():
            drops.add_row(f"stage: {stage}", str(n))
        for name, n in stats["filter_drops"].items():
            drops.add_row(f"  filter: {name}", str(n))
        console.print(drops)

    if "judge" in stats:
        j = stats["judge"]
        scores = Table(title=f"Judge scores from {j['dir']} (mean {j['mean']})")
        for col in ("task", "scored", "not scored", "mean"):
            scores.add_column(col, justify="left" if col == "task" else "right")
        for task, t in j["tasks"].items():
            scores.add_row(
                task, str(t["scored"]), str(t["not_scored"]), "-" if t["mean"] is None else str(t["mean"])
            )
        console.print(scores)
        console.print("Scores 1-10: " + ", ".join(f"{k}: {n}" for k, n in j["scores"].items()))

    dups = stats["duplicates"]
    if dups["same_sample_id"] or dups["same_text"]:
        console.print(
            f"Duplicates: {dups['same_sample_id']} samples repeat an earlier sample_id (e.g. re-generated "
            f"with other parameters in the same run dir), {dups['same_text']} repeat an earlier sample's text "
            "(same task)."
        )


def register(app: typer.Typer) -> None:
    @app.command("stats")
    def stats_cmd(
        inputs: list[Path] = typer.Argument(..., help="Run dirs, results.jsonl files or LLaVA JSON arrays."),
        as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON instead of tables."),
        judge: Path | None = typer.Option(
            None, "--judge", metavar="JUDGE_DIR", help="Also show the scores of a `datagen judge` directory."
        ),
    ) -> None:
        """Samples per task vs LLaVA-Instruct-158K's mix, turns, question/answer lengths, filter drops."""
        from datagen.review.stats import dataset_stats

        stats = dataset_stats(inputs, judge=judge)
        if as_json:
            typer.echo(json.dumps(stats, indent=2))
        else:
            render(stats)
