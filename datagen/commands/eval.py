"""`datagen eval vqa`: score VQA-format answers against VQA v2 / OK-VQA annotations."""

from __future__ import annotations

from pathlib import Path

import typer

from datagen.common.jsonio import write_json_atomic


def register(app: typer.Typer) -> None:
    eval_app = typer.Typer(help="Evaluate generated answers (VQA accuracy).", no_args_is_help=True)

    @eval_app.command("vqa")
    def vqa(
        results: Path = typer.Option(
            ..., "--results", help='Answers: JSON array of {"question_id", "answer"}.'
        ),
        annotations: Path = typer.Option(
            ..., "--annotations", help="VQA v2 / OK-VQA annotations JSON (10 answers per question)."
        ),
        questions: Path | None = typer.Option(
            None,
            "--questions",
            show_default="the questions in --results",
            help="VQA questions JSON: score exactly these questions (unanswered ones count as 0).",
        ),
        out: Path | None = typer.Option(
            None, "--out", "-o", help="Also write the scores (and per-question accuracy) as JSON."
        ),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out file."),
    ) -> None:
        """Standard VQA accuracy: min(#annotators who gave the answer / 3, 1), averaged over the
        leave-one-annotator-out subsets, after the standard answer normalisation; overall and per
        answer type."""
        from datagen.export.outputs import claim_output
        from datagen.tasks.vqa.accuracy import load_annotations, load_question_ids, load_results, score

        if out is not None:
            claim_output(out, overwrite=overwrite, folder=False)

        res = load_results(results)
        anns = load_annotations(annotations)
        ids = load_question_ids(questions) if questions else None
        s = score(res, anns, ids, files=(results, annotations, questions))
        typer.echo(f"VQA accuracy: {s.overall:.2f}  ({s.answered} answered, {s.missing} unanswered)")
        for atype, acc in s.per_answer_type.items():
            typer.echo(f"  {atype:<10} {acc:6.2f}")
        if out:
            write_json_atomic(out, s.to_json())
            typer.echo(f"Scores written to {out}")

    app.add_typer(eval_app, name="eval")
