"""`datagen diff RUN_DIR [ID]`: each rewritten description before and after, word changes highlighted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from datagen.errors import InputError


def _rewrites(run: Path) -> list[dict[str, Any]]:
    from datagen.rundir.samples import load_samples

    recs = [r for r in load_samples(run, validate=False) if isinstance(r.get("source_text"), str)]
    if not recs:
        raise InputError(
            f"{run}: no rewritten samples (records with 'source_text')",
            hint="diff works on caption_rewrite runs",
        )
    return recs


def _after(rec: dict[str, Any]) -> str:
    gpt = [t.get("value", "") for t in rec.get("conversations", []) if t.get("from") == "gpt"]
    return gpt[-1] if gpt else ""


def register(app: typer.Typer) -> None:
    @app.command("diff")
    def diff(
        run: Path = typer.Argument(..., help="A caption_rewrite run directory (or its results.jsonl)."),
        sample: str | None = typer.Argument(None, metavar="[ID]", help="Show only this id (or sample_id)."),
        limit: int = typer.Option(0, "--limit", help="Show at most N samples (0 = all)."),
        plain: bool = typer.Option(
            False, "--plain", help="Use [-removed-] / {+added+} markers even in a terminal."
        ),
    ) -> None:
        """Show descriptions before and after the rewrite, with removed and added words marked."""
        from rich.console import Console
        from rich.text import Text

        from datagen.tasks.rewrite.diff import render_plain, render_rich, stats, word_ops

        recs = _rewrites(run)
        if sample is not None:
            recs = [r for r in recs if sample in (str(r.get("id")), str(r.get("sample_id")))]
            if not recs:
                raise InputError(f"{run}: no rewritten sample with id '{sample}'")
        if limit > 0:
            recs = recs[:limit]
        console = Console(highlight=False, soft_wrap=False)
        colour = console.is_terminal and not plain
        for i, rec in enumerate(recs):
            ops = word_ops(rec["source_text"], _after(rec))
            st = stats(ops)
            head = (
                f"{rec.get('id')} ({rec.get('image')}): {st.words_before} -> {st.words_after} words, "
                f"-{st.removed} +{st.added}"
            )
            if i:
                typer.echo("")
            if colour:
                console.print(Text(head, style="bold"))
                console.print(render_rich(ops))
            else:
                typer.echo(f"== {head}")
                typer.echo(render_plain(ops))
